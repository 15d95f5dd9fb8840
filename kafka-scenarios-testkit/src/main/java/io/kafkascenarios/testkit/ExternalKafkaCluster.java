package io.kafkascenarios.testkit;

/**
 * A cluster this test kit does not manage, reached through its bootstrap servers (for example
 * {@code -Dkafka.bootstrap=broker1:9092}). Topics are created with the cluster's default replication factor;
 * nothing is deleted on {@link #close()}, so tests should use unique topic names
 * ({@link KafkaClusterExtension#uniqueTopic(String)}). {@link #stop()}, {@link #kill()} and {@link #restart()}
 * throw {@link UnsupportedOperationException}.
 *
 * <p>Threads: any thread may call any method; {@link #createTopic} may run concurrently.
 */
public final class ExternalKafkaCluster extends UnmanagedKafkaCluster {

    private ExternalKafkaCluster(String bootstrapServers) {
        super(bootstrapServers);
    }

    /**
     * Uses the cluster at the given bootstrap servers. Does not connect yet; the first
     * {@link #createTopic} does. Any thread.
     *
     * @param bootstrapServers a {@code bootstrap.servers} value, e.g. {@code host:9092}
     * @return the cluster handle; close it to release its Admin client
     */
    public static ExternalKafkaCluster connect(String bootstrapServers) {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrapServers must not be blank");
        }
        return new ExternalKafkaCluster(bootstrapServers.trim());
    }

    @Override
    String description() {
        return "an external cluster at " + bootstrapServers();
    }

    @Override
    public String toString() {
        return "ExternalKafkaCluster[" + bootstrapServers() + "]";
    }
}
