"""Cases: the case model, folding alerts and analyst decisions into it, linking related
subjects, the cluster-wide case index, and the disclosure packages and regulatory exports
(``disclosure/``). Pure functions; the Faust agents that run them are in engine/stream/."""
