"""The analyst web view: authentication, the pages as HTML, the inline charts, the routes."""
