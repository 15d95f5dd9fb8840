package io.kafkascenarios.testkit;

import java.util.Map;

/**
 * A Kafka cluster that a test talks to with plain kafka-clients: an {@link EmbeddedKafkaBroker}
 * (in-process or in a child JVM), an {@link ExternalKafkaCluster} given by {@code -Dkafka.bootstrap},
 * or a Testcontainers broker ({@link TestcontainersKafkaCluster}).
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>{@link #bootstrapServers()} and {@link #supportsFaults()} may be called from any thread at any
 *       time; they never block.</li>
 *   <li>{@link #createTopic(String, int)} may be called from any thread, also concurrently; it blocks
 *       until the topic is usable (at most about a minute).</li>
 *   <li>The lifecycle methods {@link #stop()}, {@link #kill()}, {@link #restart()} and {@link #close()}
 *       may be called from any thread; implementations serialize them, and each blocks until done.
 *       Do not call them from a Kafka client callback thread (a producer callback or a consumer
 *       rebalance listener): they wait for the broker and for Admin requests.</li>
 * </ul>
 *
 * <p>Failures are reported as unchecked exceptions ({@link IllegalStateException} with the cause and,
 * where there is one, the tail of the broker's log); operations a cluster cannot do throw
 * {@link UnsupportedOperationException} with a message saying why.
 */
public interface KafkaCluster extends AutoCloseable {

    /**
     * The {@code bootstrap.servers} value for clients, e.g. {@code 127.0.0.1:41234}. It stays the same
     * across {@link #stop()}, {@link #kill()} and {@link #restart()}. Any thread.
     *
     * @return host:port list for {@code bootstrap.servers}
     */
    String bootstrapServers();

    /**
     * Creates a topic with the cluster's default topic configuration and waits until it can be used;
     * see {@link #createTopic(String, int, Map)}. Any thread.
     *
     * @param name       topic name (use {@link KafkaClusterExtension#uniqueTopic(String)} on a shared cluster)
     * @param partitions number of partitions, at least 1
     */
    void createTopic(String name, int partitions);

    /**
     * Creates a topic and returns only when the leader of EVERY partition answers a
     * {@code ListOffsets(latest)} request. Waiting for the leaders matters: an idempotent producer
     * that starts sending right after {@code createTopics()} can otherwise lose records
     * (KAFKA-15591 / KAFKA-14359: NOT_LEADER_OR_FOLLOWER, then OUT_OF_ORDER_SEQUENCE_NUMBER).
     *
     * <p>The replication factor is 1 on the embedded broker and the cluster's default elsewhere.
     * Any thread; blocks up to about 60 s, then throws {@link IllegalStateException} naming the
     * partitions that did not answer.
     *
     * @param name       topic name
     * @param partitions number of partitions, at least 1
     * @param configs    topic-level configs such as {@code cleanup.policy}; may be empty
     * @throws IllegalStateException if the topic exists already, cannot be created, or does not become
     *                               ready in time
     */
    void createTopic(String name, int partitions, Map<String, String> configs);

    /**
     * Whether {@link #kill()} and {@link #restart()} work: true only for the child-JVM embedded broker.
     * The in-process broker supports {@link #stop()}/{@link #restart()} but not {@link #kill()}. Any thread.
     *
     * @return true if this cluster can be killed and restarted
     */
    boolean supportsFaults();

    /**
     * Stops the broker gracefully (controlled shutdown, logs flushed). A no-op if it is not running.
     * The data survives for {@link #restart()}. Any thread; blocks until the broker has stopped.
     *
     * @throws UnsupportedOperationException if the cluster is not managed by this test kit
     */
    void stop();

    /**
     * Crashes the broker: SIGKILL of its JVM, then waits until it is gone. Acknowledged records and
     * committed offsets are in the OS page cache and survive for {@link #restart()} (like a process crash,
     * not a machine crash). A no-op if it is not running. Any thread.
     *
     * @throws UnsupportedOperationException unless {@link #supportsFaults()}
     */
    void kill();

    /**
     * Starts the broker again on the SAME ports with the SAME data (no reformat), stopping it gracefully
     * first if it is running. Returns only when the broker serves requests again: it is registered and
     * unfenced, and the leader of every existing partition (including internal topics) answers.
     * Any thread; blocks for the restart (a few seconds), at most about a minute.
     *
     * @throws UnsupportedOperationException if the cluster is not managed by this test kit
     * @throws IllegalStateException         if the broker does not come back in time (with its log tail)
     */
    void restart();

    /**
     * Stops the broker (if this test kit started it) and deletes its temporary data directory;
     * releases the Admin client. Idempotent. Any thread; the cluster is unusable afterwards.
     */
    @Override
    void close();
}
