package io.kafkascenarios.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * One lazily created {@link Admin} client per cluster, plus the "topic is really ready" logic shared by
 * all {@link KafkaCluster} implementations. Thread-safe: {@link Admin} is thread-safe and creation and
 * closing are synchronized.
 */
final class ClusterAdmin implements AutoCloseable {

    /** How long {@link #createTopic} waits for the topic as a whole. */
    static final Duration TOPIC_READY_TIMEOUT = Duration.ofSeconds(60);
    private static final int CALL_TIMEOUT_MS = 5_000;
    private static final long RETRY_BACKOFF_MS = 100;

    private final Supplier<String> bootstrapServers;
    private Admin admin;
    private boolean closed;

    ClusterAdmin(Supplier<String> bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    synchronized Admin admin() {
        if (closed) {
            throw new IllegalStateException("the cluster is closed");
        }
        if (admin == null) {
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers.get());
            props.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-scenarios-testkit-admin");
            props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, CALL_TIMEOUT_MS);
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
            props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
            props.put(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 500);
            admin = Admin.create(props);
        }
        return admin;
    }

    /**
     * Creates the topic, then waits until every partition leader answers ListOffsets(latest).
     */
    void createTopic(String name, int partitions, Optional<Short> replicationFactor, Map<String, String> configs) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("topic name must not be blank");
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
        }
        long deadline = System.nanoTime() + TOPIC_READY_TIMEOUT.toNanos();
        NewTopic topic = new NewTopic(name, Optional.of(partitions), replicationFactor).configs(new HashMap<>(configs));
        try {
            admin().createTopics(List.of(topic), new CreateTopicsOptions().timeoutMs(30_000)).all()
                    .get(35, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                throw new IllegalStateException("topic '" + name + "' exists already on " + bootstrapServers.get()
                        + " (use KafkaClusterExtension.uniqueTopic(...) for names on a shared cluster)", e.getCause());
            }
            throw new IllegalStateException("could not create topic '" + name + "' on " + bootstrapServers.get()
                    + ": " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("createTopics('" + name + "') on " + bootstrapServers.get()
                    + " did not answer within 35 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic '" + name + "'", e);
        }
        List<TopicPartition> tps = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            tps.add(new TopicPartition(name, p));
        }
        awaitLeaders(tps, deadline, "topic '" + name + "'");
    }

    /**
     * @return the partition's leader's node id, or -1 while it has none
     * @throws IllegalStateException if the topic cannot be described
     */
    int leaderOf(String topic, int partition) {
        org.apache.kafka.common.Node leader = describe(topic).partitions().get(partition).leader();
        return leader == null ? -1 : leader.id();
    }

    /** @return the in-sync replicas' node ids of the partition */
    List<Integer> isrOf(String topic, int partition) {
        List<Integer> ids = new ArrayList<>();
        describe(topic).partitions().get(partition).isr().forEach(n -> ids.add(n.id()));
        return ids;
    }

    private org.apache.kafka.clients.admin.TopicDescription describe(String topic) {
        try {
            return admin().describeTopics(List.of(topic),
                    new org.apache.kafka.clients.admin.DescribeTopicsOptions().timeoutMs(CALL_TIMEOUT_MS))
                    .allTopicNames().get(CALL_TIMEOUT_MS + 1_000L, TimeUnit.MILLISECONDS).get(topic);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not describe topic '" + topic + "': " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("describeTopics('" + topic + "') did not answer", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing topic '" + topic + "'", e);
        }
    }

    /**
     * Retries {@code ListOffsets(latest)} for all partitions until it succeeds for all of them.
     *
     * @throws IllegalStateException at the deadline, with the last error as cause
     */
    void awaitLeaders(Collection<TopicPartition> partitions, long deadlineNanos, String what) {
        if (partitions.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (TopicPartition tp : partitions) {
            request.put(tp, OffsetSpec.latest());
        }
        Throwable last = null;
        int attempts = 0;
        while (true) {
            attempts++;
            try {
                admin().listOffsets(request, new ListOffsetsOptions().timeoutMs(CALL_TIMEOUT_MS)).all()
                        .get(CALL_TIMEOUT_MS + 1_000L, TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                last = e.getCause();
            } catch (java.util.concurrent.TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the leaders of " + what, e);
            }
            if (System.nanoTime() - deadlineNanos >= 0) {
                throw new IllegalStateException("the partition leaders of " + what + " on " + bootstrapServers.get()
                        + " did not all answer ListOffsets(latest) after " + attempts + " attempts; last error: "
                        + last, last);
            }
            pause(RETRY_BACKOFF_MS);
        }
    }

    /**
     * One readiness probe of a (re)started single broker: it is registered and unfenced, and the leader of
     * every partition of every topic (internal ones included) answers ListOffsets(latest).
     *
     * @return null if ready, otherwise a description of what is not ready yet
     */
    String probeServing(int nodeId) throws ExecutionException, InterruptedException {
        Admin a = admin();
        Collection<Node> nodes;
        try {
            nodes = a.describeCluster(new DescribeClusterOptions().timeoutMs(CALL_TIMEOUT_MS)).nodes()
                    .get(CALL_TIMEOUT_MS + 1_000L, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return "DescribeCluster timed out";
        }
        // Fenced brokers are not listed unless DescribeClusterOptions.includeFencedBrokers(true).
        if (nodes.stream().noneMatch(n -> n.id() == nodeId && !n.isFenced())) {
            return "broker " + nodeId + " not yet registered and unfenced (DescribeCluster: " + nodes + ")";
        }
        var names = a.listTopics(new ListTopicsOptions().listInternal(true).timeoutMs(CALL_TIMEOUT_MS)).names().get();
        if (names.isEmpty()) {
            return null;
        }
        Map<String, TopicDescription> descriptions = a.describeTopics(names,
                new DescribeTopicsOptions().timeoutMs(CALL_TIMEOUT_MS)).allTopicNames().get();
        List<TopicPartition> tps = new ArrayList<>();
        for (TopicDescription d : descriptions.values()) {
            d.partitions().forEach(p -> tps.add(new TopicPartition(d.name(), p.partition())));
        }
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        tps.forEach(tp -> request.put(tp, OffsetSpec.latest()));
        try {
            a.listOffsets(request, new ListOffsetsOptions().timeoutMs(CALL_TIMEOUT_MS)).all()
                    .get(CALL_TIMEOUT_MS + 1_000L, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return "ListOffsets for " + tps.size() + " partitions timed out";
        }
        return null;
    }

    /**
     * Fails fast with a clear message if nobody answers at the bootstrap address.
     *
     * @param origin where the address came from, for the message
     */
    void checkReachable(String origin) {
        try {
            admin().describeCluster(new DescribeClusterOptions().timeoutMs(15_000)).clusterId().get(16, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot reach the Kafka cluster at " + bootstrapServers.get() + " (" + origin
                    + "): " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot reach the Kafka cluster at " + bootstrapServers.get() + " (" + origin
                    + "): no answer within 15 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    void createScramUser(String user, String password) {
        org.apache.kafka.clients.admin.UserScramCredentialUpsertion upsert = new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(
                user, new org.apache.kafka.clients.admin.ScramCredentialInfo(org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512, 8192),
                password);
        await(admin().alterUserScramCredentials(List.of(upsert)).all(), "create SCRAM user '" + user + "'");
    }

    void createAcls(Collection<org.apache.kafka.common.acl.AclBinding> acls) {
        await(admin().createAcls(acls).all(), "create ACLs " + acls);
    }

    private static void await(org.apache.kafka.common.KafkaFuture<Void> f, String what) {
        try {
            f.get(CALL_TIMEOUT_MS + 1_000L, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not " + what + ": " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("could not " + what + ": no answer", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + what, e);
        }
    }

    /**
     * Retries {@code DescribeCluster} from a client with these settings (one node's SASL listener)
     * until it authenticates: a new SCRAM credential reaches each node with the metadata, a little after
     * the controller commits it.
     */
    static void awaitAuthenticates(Map<String, Object> clientConfig, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Throwable last = null;
        while (System.nanoTime() - deadline < 0) {
            Map<String, Object> c = new java.util.HashMap<>(clientConfig);
            c.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-scenarios-testkit-auth-probe");
            c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
            c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
            try (Admin probe = Admin.create(c)) {
                probe.describeCluster().clusterId().get(6, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                last = e.getCause();
            } catch (java.util.concurrent.TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for authentication", e);
            }
            pause(100);
        }
        throw new IllegalStateException("the user did not authenticate at " + clientConfig.get("bootstrap.servers")
                + " within " + timeout.toSeconds() + " s: " + last, last);
    }

    /** Closes the current Admin client, if any; the next call creates a new one (for new bootstrap servers). */
    synchronized void reset() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
    }
}
