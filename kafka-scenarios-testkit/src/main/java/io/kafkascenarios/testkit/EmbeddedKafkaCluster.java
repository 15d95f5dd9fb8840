package io.kafkascenarios.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kafkascenarios.testkit.internal.Ports;

/**
 * A KRaft cluster of several combined broker+controller nodes, each an {@link EmbeddedKafkaBroker} in
 * a child JVM ({@code -Xmx512m} each: three nodes take about 1.5 GB of heap). Topics are created with
 * one replica per node and {@code min.insync.replicas=2}, so a cluster of three survives one node
 * down with {@code acks=all}. Each node can be stopped, SIGKILLed and restarted on its own
 * ({@link #node(int)}); {@link #leaderOf} says which node leads a partition.
 *
 * <pre>{@code
 * try (EmbeddedKafkaCluster cluster = EmbeddedKafkaCluster.childJvms(3).start()) {
 *     cluster.createTopic("orders", 6);
 *     cluster.node(cluster.leaderOf("orders", 0)).kill();   // a leader failover
 * }
 * }</pre>
 *
 * <p>Threads: any thread; the lifecycle methods are serialized.
 */
public final class EmbeddedKafkaCluster implements KafkaCluster {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaCluster.class);

    private final List<EmbeddedKafkaBroker> nodes;
    private final ClusterAdmin admin;
    private final Duration startTimeout;
    private volatile boolean closed;

    private EmbeddedKafkaCluster(List<EmbeddedKafkaBroker> nodes, Duration startTimeout) {
        this.nodes = Collections.unmodifiableList(nodes);
        this.startTimeout = startTimeout;
        this.admin = new ClusterAdmin(this::bootstrapServers);
    }

    /**
     * @param nodes how many combined broker+controller nodes (1 to 5; 3 is the usual cluster)
     * @return a builder of a cluster whose nodes run in child JVMs
     */
    public static Builder childJvms(int nodes) {
        if (nodes < 1 || nodes > 5) {
            throw new IllegalArgumentException("nodes must be 1 to 5, was " + nodes);
        }
        return new Builder(nodes);
    }

    /** Configures an {@link EmbeddedKafkaCluster}. */
    public static final class Builder {
        private final int nodes;
        private final Map<String, String> overrides = new LinkedHashMap<>();
        private final List<String> jvmOptions = new ArrayList<>();
        private Duration startTimeout = Duration.ofSeconds(120);
        private boolean saslScram;

        private Builder(int nodes) {
            this.nodes = nodes;
        }

        /** @param key a broker setting for every node @param value its value @return this */
        public Builder brokerProperty(String key, String value) {
            overrides.put(key, value);
            return this;
        }

        /** @param option a JVM option for every node's child JVM (later options win) @return this */
        public Builder jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        /**
         * Adds a {@code SASL_PLAINTEXT} listener with SCRAM-SHA-512 to every node
         * ({@link #saslBootstrapServers()}) and turns on the {@code StandardAuthorizer}: a client there
         * may do only what an ACL grants ({@link #createAcls}) to its user ({@link #createScramUser}).
         * The plain {@link #bootstrapServers()} stay unauthenticated and unrestricted (their principal,
         * {@code User:ANONYMOUS}, is the super user): the nodes, the test kit and read-backs use them.
         *
         * @return this
         */
        public Builder saslScram() {
            this.saslScram = true;
            return this;
        }

        /** @param timeout how long the start, or a node's restart, may take (default 120 s) @return this */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Formats every node with one cluster id and starts them together (a node's start waits for a
         * quorum of controllers); returns once every node serves requests.
         *
         * @return the running cluster; close it when done
         */
        public EmbeddedKafkaCluster start() {
            int[] ports = Ports.free(2 * nodes);
            int[] saslPorts = saslScram ? Ports.free(nodes) : new int[nodes];
            String clusterId = Uuid.randomUuid().toString();
            StringJoiner voters = new StringJoiner(",");
            for (int i = 0; i < nodes; i++) {
                voters.add((i + 1) + "@" + Ports.HOST + ":" + ports[2 * i + 1]);
            }
            int replicas = nodes;
            int minIsr = Math.min(2, nodes);
            List<EmbeddedKafkaBroker> built = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                EmbeddedKafkaBroker.Builder b = EmbeddedKafkaBroker.childJvm().startTimeout(startTimeout)
                        .brokerProperty("offsets.topic.replication.factor", Integer.toString(replicas))
                        .brokerProperty("transaction.state.log.replication.factor", Integer.toString(replicas))
                        .brokerProperty("transaction.state.log.min.isr", Integer.toString(minIsr))
                        .brokerProperty("share.coordinator.state.topic.replication.factor", Integer.toString(replicas))
                        .brokerProperty("share.coordinator.state.topic.min.isr", Integer.toString(minIsr))
                        .brokerProperty("default.replication.factor", Integer.toString(replicas))
                        .brokerProperty("min.insync.replicas", Integer.toString(minIsr));
                overrides.forEach(b::brokerProperty);
                jvmOptions.forEach(b::childJvmOption);
                built.add(EmbeddedKafkaBroker.clusterNode(b, new EmbeddedKafkaBroker.ClusterNode(i + 1, clusterId,
                        ports[2 * i], ports[2 * i + 1], saslPorts[i], voters.toString())));
            }
            EmbeddedKafkaCluster cluster = new EmbeddedKafkaCluster(built, startTimeout);
            try {
                long started = System.nanoTime();
                built.forEach(EmbeddedKafkaBroker::prepareNode);
                cluster.launchAll();
                LOG.info("{}-node cluster at {} started in {} ms", nodes, cluster.bootstrapServers(),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
                return cluster;
            } catch (RuntimeException | Error e) {
                try {
                    cluster.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }

    /** Launches the nodes on threads of their own, then waits until each serves. */
    private void launchAll() {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        onEveryNode(n -> n.launchNode(deadline), "launch");
        for (EmbeddedKafkaBroker n : nodes) {
            n.awaitNodeServing(deadline);
        }
    }

    /** @return every node's broker address, comma-separated */
    @Override
    public String bootstrapServers() {
        StringJoiner j = new StringJoiner(",");
        nodes.forEach(n -> j.add(n.bootstrapServers()));
        return j.toString();
    }

    /**
     * @return every node's SASL listener ({@code SASL_PLAINTEXT}, SCRAM-SHA-512), comma-separated
     * @throws IllegalStateException unless the cluster was built with {@link Builder#saslScram()}
     */
    public String saslBootstrapServers() {
        StringJoiner j = new StringJoiner(",");
        for (EmbeddedKafkaBroker n : nodes) {
            if (n.saslAddress() == null) {
                throw new IllegalStateException("this cluster has no SASL listener; build it with saslScram()");
            }
            j.add(n.saslAddress());
        }
        return j.toString();
    }

    /**
     * The client settings of a user on the SASL listener: {@code bootstrap.servers},
     * {@code security.protocol}, {@code sasl.mechanism} and {@code sasl.jaas.config}.
     *
     * @param user a user name
     * @param password its password (no double quotes or backslashes)
     * @return a new mutable map, to add the client's own settings to
     */
    public Map<String, Object> saslClientConfig(String user, String password) {
        return scramClientConfig(saslBootstrapServers(), user, password);
    }

    private static Map<String, Object> scramClientConfig(String bootstrap, String user, String password) {
        for (String s : new String[] {user, password}) {
            if (s == null || s.isEmpty() || s.indexOf('"') >= 0 || s.indexOf('\\') >= 0) {
                throw new IllegalArgumentException("a SCRAM user name or password must be non-empty, without '\"' or '\\': " + s);
            }
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("security.protocol", "SASL_PLAINTEXT");
        c.put("sasl.mechanism", "SCRAM-SHA-512");
        c.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + user + "\" password=\"" + password + "\";");
        return c;
    }

    /**
     * Creates (or changes the password of) a SCRAM-SHA-512 user, and returns once every node
     * authenticates it. A node applies the cluster's metadata in order, so ACLs created before this
     * call are in force on every node by then too: create a user's ACLs first.
     *
     * @param user a user name, whose principal is {@code User:<user>}
     * @param password its password (no double quotes or backslashes)
     * @throws IllegalStateException if a node does not authenticate the user within 30 s
     */
    public void createScramUser(String user, String password) {
        saslBootstrapServers(); // fails clearly without a SASL listener
        admin.createScramUser(user, password);
        for (EmbeddedKafkaBroker n : nodes) {
            if (n.isRunning()) {
                ClusterAdmin.awaitAuthenticates(scramClientConfig(n.saslAddress(), user, password), Duration.ofSeconds(30));
            }
        }
    }

    /**
     * Creates ACLs (e.g. {@code new AclBinding(new ResourcePattern(TOPIC, "orders", LITERAL),
     * new AccessControlEntry("User:alice", "*", WRITE, ALLOW))}). They are in force on every node once a
     * user created after them authenticates ({@link #createScramUser}).
     *
     * @param acls the bindings
     */
    public void createAcls(java.util.Collection<org.apache.kafka.common.acl.AclBinding> acls) {
        saslBootstrapServers();
        admin.createAcls(acls);
    }

    /** {@inheritDoc} One replica per node, {@code min.insync.replicas} 2 (unless {@code configs} says otherwise). */
    @Override
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** {@inheritDoc} One replica per node, {@code min.insync.replicas} 2 (unless {@code configs} says otherwise). */
    @Override
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("min.insync.replicas", Integer.toString(Math.min(2, nodes.size())));
        c.putAll(configs);
        admin.createTopic(name, partitions, Optional.of((short) nodes.size()), c);
    }

    /**
     * @param nodeId 1 to the number of nodes
     * @return that node, to stop, kill or restart on its own
     */
    public EmbeddedKafkaBroker node(int nodeId) {
        if (nodeId < 1 || nodeId > nodes.size()) {
            throw new IllegalArgumentException("no node " + nodeId + " in a " + nodes.size() + "-node cluster");
        }
        return nodes.get(nodeId - 1);
    }

    /** @return the nodes, in node-id order */
    public List<EmbeddedKafkaBroker> nodes() {
        return nodes;
    }

    /**
     * @param topic a topic
     * @param partition one of its partitions
     * @return the node id of the partition's leader, or -1 while it has none
     */
    public int leaderOf(String topic, int partition) {
        return admin.leaderOf(topic, partition);
    }

    /**
     * @param topic a topic
     * @param partition one of its partitions
     * @return the node ids of its in-sync replicas
     */
    public List<Integer> inSyncReplicas(String topic, int partition) {
        return admin.isrOf(topic, partition);
    }

    /** {@inheritDoc} True: every node is a child JVM. */
    @Override
    public boolean supportsFaults() {
        return true;
    }

    /**
     * {@inheritDoc} Every node, gracefully, all at once: one after another, the last node's controlled
     * shutdown would wait for a controller quorum that is already gone.
     */
    @Override
    public synchronized void stop() {
        onEveryNode(EmbeddedKafkaBroker::stop, "stop");
    }

    private void onEveryNode(java.util.function.Consumer<EmbeddedKafkaBroker> action, String what) {
        List<Thread> threads = new ArrayList<>();
        List<RuntimeException> failures = Collections.synchronizedList(new ArrayList<>());
        for (EmbeddedKafkaBroker n : nodes) {
            Thread t = new Thread(() -> {
                try {
                    action.accept(n);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }, "kafka-scenarios-cluster-" + what + "-" + n.nodeId());
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted: cluster " + what, e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
    }

    /** {@inheritDoc} Every node, SIGKILL: a full outage. Use {@link #node(int)} for one. */
    @Override
    public synchronized void kill() {
        nodes.forEach(EmbeddedKafkaBroker::kill);
    }

    /**
     * {@inheritDoc} Every node stopped, then started together (with none running, a node's start waits
     * for a quorum). To restart one node among running ones, use {@code node(id).restart()}.
     */
    @Override
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException("the cluster is closed");
        }
        stop();
        admin.reset();
        launchAll();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        try {
            admin.close();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (EmbeddedKafkaBroker n : nodes) {
            try {
                // SIGKILL first: the data is deleted anyway, and the last node's graceful stop waits 30 s
                // for a controller quorum that is gone.
                n.kill();
                n.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "EmbeddedKafkaCluster[" + nodes.size() + " nodes, " + bootstrapServers() + "]";
    }
}
