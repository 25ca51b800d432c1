"""The Kafka and Faust adapters: the Faust app, the batched firehose consumer, topic
creation and clients, whole-topic feeds, the case agents and readers, the embedded broker."""
