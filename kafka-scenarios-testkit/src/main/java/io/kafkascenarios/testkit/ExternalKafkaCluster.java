package io.kafkascenarios.testkit;

import java.util.Map;
import java.util.Optional;

/**
 * A cluster this test kit does not manage, reached through its bootstrap servers (for example
 * {@code -Dkafka.bootstrap=broker1:9092}). Topics are created with the cluster's default replication factor;
 * nothing is deleted on {@link #close()}, so tests should use unique topic names
 * ({@link KafkaClusterExtension#uniqueTopic(String)}). {@link #stop()}, {@link #kill()} and {@link #restart()}
 * throw {@link UnsupportedOperationException}.
 *
 * <p>Threads: any thread may call any method; {@link #createTopic} may run concurrently.
 */
public final class ExternalKafkaCluster implements KafkaCluster {

    private final String bootstrapServers;
    private final ClusterAdmin admin;

    private ExternalKafkaCluster(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
        this.admin = new ClusterAdmin(() -> bootstrapServers);
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

    /** Throws {@link IllegalStateException} if the cluster does not answer within 15 s. */
    void checkReachable(String origin) {
        admin.checkReachable(origin);
    }

    /** {@inheritDoc} Any thread. */
    @Override
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** {@inheritDoc} The cluster's default replication factor. Any thread. */
    @Override
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** {@inheritDoc} The cluster's default replication factor. Any thread. */
    @Override
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        admin.createTopic(name, partitions, Optional.empty(), configs);
    }

    /** {@inheritDoc} Always false. Any thread. */
    @Override
    public boolean supportsFaults() {
        return false;
    }

    /** Always throws: this test kit does not manage the cluster. */
    @Override
    public void stop() {
        throw unsupported("stop()");
    }

    /** Always throws: this test kit does not manage the cluster. */
    @Override
    public void kill() {
        throw unsupported("kill()");
    }

    /** Always throws: this test kit does not manage the cluster. */
    @Override
    public void restart() {
        throw unsupported("restart()");
    }

    /** Releases the Admin client; the cluster and its topics stay. Any thread. */
    @Override
    public void close() {
        admin.close();
    }

    private UnsupportedOperationException unsupported(String operation) {
        return new UnsupportedOperationException(operation + " needs the child-JVM embedded broker"
                + " (EmbeddedKafkaBroker.childJvm()); this is an external cluster at " + bootstrapServers);
    }

    @Override
    public String toString() {
        return "ExternalKafkaCluster[" + bootstrapServers + "]";
    }
}
