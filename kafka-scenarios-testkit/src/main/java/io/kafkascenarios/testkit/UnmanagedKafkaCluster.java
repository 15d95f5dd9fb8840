package io.kafkascenarios.testkit;

import java.util.Map;
import java.util.Optional;

/**
 * What the external and Testcontainers clusters share: a cluster this test kit cannot stop, kill or
 * restart, reached through its bootstrap servers; topics get the cluster's default replication factor.
 *
 * <p>Threads: any thread may call any method; {@link #createTopic} may run concurrently.
 */
abstract class UnmanagedKafkaCluster implements KafkaCluster {
    private final String bootstrapServers;
    private final ClusterAdmin admin;

    UnmanagedKafkaCluster(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
        this.admin = new ClusterAdmin(() -> bootstrapServers);
    }

    /** @return what this cluster is, for messages: "an external cluster at host:port" */
    abstract String description();

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
                + " (EmbeddedKafkaBroker.childJvm()); this is " + description());
    }
}
