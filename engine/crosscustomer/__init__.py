"""What crosses customers and partitions, as pure data: the party index (signals other
customers announced under the keys rows name them by) and the identifier holders behind
PP-19. The Kafka side of it (feeds, the identifier agent) is in engine/stream/."""
