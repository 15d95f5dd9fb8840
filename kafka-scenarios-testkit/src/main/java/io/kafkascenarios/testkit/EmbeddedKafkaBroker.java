package io.kafkascenarios.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import io.kafkascenarios.testkit.internal.BindFailedException;
import io.kafkascenarios.testkit.internal.BrokerFiles;
import io.kafkascenarios.testkit.internal.BrokerLauncher;
import io.kafkascenarios.testkit.internal.ChildBrokerMain;
import io.kafkascenarios.testkit.internal.ChildJvmLauncher;
import io.kafkascenarios.testkit.internal.InProcessLauncher;
import io.kafkascenarios.testkit.internal.Ports;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node KRaft Kafka broker ({@code process.roles=broker,controller}, node id 1) on
 * {@code 127.0.0.1}, on free ports, with its data in a temporary directory that {@link #close()} deletes.
 *
 * <p>Two modes, chosen by the factory:
 * <ul>
 *   <li>{@link #inProcess()}: a {@code kafka.server.KafkaRaftServer} inside the calling JVM. Fastest to
 *       start (about 2 s); supports {@link #stop()} and {@link #restart()} but not {@link #kill()}. It shares
 *       the test JVM's heap, and a fatal broker error ({@code Exit.halt}) would end the test JVM.</li>
 *   <li>{@link #childJvm()}: the broker runs in a child JVM ({@link ChildBrokerMain}) started with this JVM's
 *       {@code java} binary and class path and {@code -Xmx512m}. {@link #kill()} sends it SIGKILL. Its output
 *       goes to {@link #logFile()} in the data directory, not to the console. If this JVM dies, the child
 *       notices and shuts down.</li>
 * </ul>
 *
 * <h2>Broker settings</h2>
 * {@link #defaultBrokerProperties()} lists what the test kit sets on top of Kafka's defaults; every entry
 * can be overridden with {@link Builder#brokerProperty(String, String)} (except the listeners, ports,
 * node id and log directory, which the test kit owns). In particular:
 * {@code auto.create.topics.enable=false} (create topics with {@link #createTopic}), {@code num.partitions=1},
 * replication factor and min ISR 1 for the internal topics, {@code group.initial.rebalance.delay.ms=0},
 * {@code log.cleaner.dedupe.buffer.size=4194304} (the 128 MiB default is wasted heap), and shorter broker
 * session and heartbeat times so that a broker restarted after {@link #kill()} is registered again quickly
 * (see {@link #defaultBrokerProperties()}).
 *
 * <h2>Threads</h2>
 * Any thread may call any method. {@link #bootstrapServers()}, {@link #supportsFaults()}, {@link #mode()},
 * {@link #dataDir()}, {@link #logFile()} and {@link #isRunning()} never block. {@link #createTopic} may run
 * concurrently from several threads. The lifecycle methods ({@link #stop()}, {@link #kill()},
 * {@link #restart()}, {@link #close()}) are {@code synchronized}: they run one at a time and block until
 * done; do not call them from Kafka client callback threads.
 */
public final class EmbeddedKafkaBroker implements KafkaCluster {

    /** Where the broker runs. */
    public enum Mode {
        /** Inside the calling JVM. */
        IN_PROCESS,
        /** In a child JVM that {@link EmbeddedKafkaBroker#kill()} can SIGKILL. */
        CHILD_JVM
    }

    /** The broker's (and controller's) {@code node.id}. */
    public static final int NODE_ID = 1;

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final String HOST = Ports.HOST;
    private static final int FIRST_START_ATTEMPTS = 3;
    private static final Duration RESTART_BIND_RETRY = Duration.ofSeconds(10);

    private final Mode mode;
    /** Where the broker runs, chosen once: every lifecycle step below is the same for both. */
    private final BrokerLauncher launcher;
    private final Map<String, String> overrides;
    private final Duration startTimeout;
    private final String clusterId;
    /** This broker's place in an {@link EmbeddedKafkaCluster}, or null for a single broker. */
    private final ClusterNode node;
    private final BrokerFiles files;
    private final ClusterAdmin admin;
    private final Thread cleanupHook;

    private volatile int brokerPort;
    private volatile int controllerPort;
    private volatile boolean closed;

    /**
     * One node of an {@link EmbeddedKafkaCluster}: its id, the cluster's id, its fixed ports (a
     * {@code saslPort} of 0 means no SASL listener) and the controller quorum of all nodes.
     */
    record ClusterNode(int nodeId, String clusterId, int brokerPort, int controllerPort, int saslPort, String voters) {
    }

    private EmbeddedKafkaBroker(Builder builder) throws IOException {
        this(builder, null);
    }

    private EmbeddedKafkaBroker(Builder builder, ClusterNode node) throws IOException {
        this.node = node;
        this.clusterId = node == null ? Uuid.randomUuid().toString() : node.clusterId();
        this.mode = builder.mode;
        this.launcher = mode == Mode.IN_PROCESS ? new InProcessLauncher() : new ChildJvmLauncher(builder.jvmOptions);
        this.overrides = Collections.unmodifiableMap(new LinkedHashMap<>(builder.overrides));
        this.startTimeout = builder.startTimeout;
        this.files = new BrokerFiles();
        this.admin = new ClusterAdmin(this::bootstrapServers);
        this.cleanupHook = new Thread(this::emergencyCleanup, "kafka-scenarios-broker-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupHook);
    }

    /**
     * A builder for a broker inside this JVM.
     *
     * @return a new builder; call {@link Builder#start()} to get the running broker
     */
    public static Builder inProcess() {
        return new Builder(Mode.IN_PROCESS);
    }

    /**
     * A builder for a broker in a child JVM, which {@link #kill()} can SIGKILL.
     *
     * @return a new builder; call {@link Builder#start()} to get the running broker
     */
    public static Builder childJvm() {
        return new Builder(Mode.CHILD_JVM);
    }

    /**
     * The settings the test kit applies on top of Kafka's defaults (listeners, ports, node id and log
     * directory excluded), in the order applied. Overrides from {@link Builder#brokerProperty} come after.
     *
     * <ul>
     *   <li>Replication factor / min ISR 1 for {@code __consumer_offsets}, {@code __transaction_state} and
     *       {@code __share_group_state}: one node cannot hold more copies.</li>
     *   <li>{@code group.initial.rebalance.delay.ms=0}: no 3 s wait before the first rebalance.</li>
     *   <li>{@code log.cleaner.dedupe.buffer.size=4194304}: the default takes 128 MiB of heap.</li>
     *   <li>{@code num.partitions=1}, {@code auto.create.topics.enable=false}: tests create their topics
     *       explicitly with {@link #createTopic}; a typo in a topic name fails instead of creating a topic.</li>
     *   <li>{@code offsets.topic.num.partitions=5} (default 50): the first consumer-group operation on a fresh
     *       broker creates {@code __consumer_offsets}; 5 partitions take about 0.2 s instead of 0.75 s.</li>
     *   <li>{@code broker.heartbeat.interval.ms=250}, {@code broker.session.timeout.ms=1500} (defaults 2000 and
     *       9000): after a SIGKILL the restarted controller still counts the dead broker's session as alive
     *       and rejects the new registration ({@code DuplicateBrokerRegistrationException}) until that session
     *       expires. Measured on 2 cores: a restart after SIGKILL took about 12.8 s with the defaults, 5.1 s
     *       with 2000/500, 4.2 s with 1500/250 (a graceful restart: about 3.3 s in all cases). 1500 ms still
     *       allows six missed heartbeats before a live broker would be fenced.</li>
     * </ul>
     *
     * @return an ordered, unmodifiable map; any thread
     */
    public static Map<String, String> defaultBrokerProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("log.cleaner.dedupe.buffer.size", "4194304");
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "false");
        p.put("offsets.topic.num.partitions", "5");
        p.put("broker.heartbeat.interval.ms", "250");
        p.put("broker.session.timeout.ms", "1500");
        return Collections.unmodifiableMap(p);
    }

    // ------------------------------------------------------------------------------------------ builder

    /**
     * Configures and starts an {@link EmbeddedKafkaBroker}. Not thread-safe: use a builder from one thread.
     */
    public static final class Builder {
        private final Mode mode;
        private final Map<String, String> overrides = new LinkedHashMap<>();
        private final List<String> jvmOptions = new ArrayList<>(List.of("-Xmx512m"));
        private Duration startTimeout = Duration.ofSeconds(90);

        private Builder(Mode mode) {
            this.mode = mode;
        }

        /**
         * Sets (or overrides) one broker property, e.g. {@code log.segment.bytes}. Do not override the
         * listeners, {@code node.id}, {@code controller.quorum.voters} or {@code log.dirs}.
         *
         * @param key   broker config name
         * @param value its value
         * @return this builder
         */
        public Builder brokerProperty(String key, String value) {
            overrides.put(requireNonBlank(key, "key"), requireNonBlank(value, "value"));
            return this;
        }

        /**
         * Adds a JVM option for the child JVM (e.g. {@code -Xmx1g}; later options win). Child-JVM mode only.
         *
         * @param option one JVM option
         * @return this builder
         * @throws IllegalStateException for an in-process broker
         */
        public Builder childJvmOption(String option) {
            if (mode != Mode.CHILD_JVM) {
                throw new IllegalStateException("childJvmOption() needs EmbeddedKafkaBroker.childJvm(); this is " + mode);
            }
            jvmOptions.add(requireNonBlank(option, "option"));
            return this;
        }

        /**
         * How long a start or restart may take before it fails (default 90 s).
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder startTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive: " + timeout);
            }
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Formats a fresh data directory and starts the broker; returns once it serves requests. If the
         * chosen free port was taken meanwhile, it retries with new ports (up to 3 attempts).
         *
         * @return the running broker; close it when done
         * @throws IllegalStateException if it does not start (with the broker's log tail)
         */
        public EmbeddedKafkaBroker start() {
            EmbeddedKafkaBroker broker;
            try {
                broker = new EmbeddedKafkaBroker(this);
            } catch (IOException e) {
                throw new UncheckedIOException("could not create a temporary data directory", e);
            }
            try {
                broker.startFirstTime();
                return broker;
            } catch (RuntimeException | Error e) {
                try {
                    broker.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }

        private static String requireNonBlank(String s, String what) {
            if (s == null || s.isBlank()) {
                throw new IllegalArgumentException(what + " must not be blank");
            }
            return s;
        }
    }

    // ------------------------------------------------------------------------------------------ API

    /** {@inheritDoc} Any thread; constant after start. */
    @Override
    public String bootstrapServers() {
        return HOST + ":" + brokerPort;
    }

    /** {@inheritDoc} Replication factor 1. Any thread; fails at once if the broker is stopped. */
    @Override
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** {@inheritDoc} Replication factor 1. Any thread; fails at once if the broker is stopped. */
    @Override
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        if (!isRunning()) {
            throw new IllegalStateException("the broker at " + bootstrapServers() + " is "
                    + (closed ? "closed" : "stopped; call restart() first"));
        }
        admin.createTopic(name, partitions, Optional.of((short) 1), configs);
    }

    /** {@inheritDoc} True for {@link Mode#CHILD_JVM}. Any thread. */
    @Override
    public boolean supportsFaults() {
        return launcher.supportsFaults();
    }

    /**
     * {@inheritDoc} In-process: {@code KafkaRaftServer.shutdown()}; child JVM: SIGTERM, then waits for the
     * exit (SIGKILL after 30 s). Any thread; serialized with the other lifecycle methods.
     */
    @Override
    public synchronized void stop() {
        launcher.stop();
    }

    /**
     * {@inheritDoc} Child JVM: {@code Process.destroyForcibly()} (SIGKILL), then {@code waitFor()}.
     * Any thread; serialized with the other lifecycle methods.
     *
     * @throws UnsupportedOperationException for an in-process broker
     */
    @Override
    public synchronized void kill() {
        try {
            launcher.kill();
        } catch (UnsupportedOperationException e) {
            throw new UnsupportedOperationException(e.getMessage() + " (broker at " + bootstrapServers() + ")", e);
        }
    }

    /**
     * {@inheritDoc} Same ports (retrying the bind for up to 10 s while an old socket lingers), same data,
     * no reformat. Any thread; serialized with the other lifecycle methods.
     */
    @Override
    public synchronized void restart() {
        ensureOpen();
        stop();
        long started = System.nanoTime();
        long deadline = started + startTimeout.toNanos();
        long bindDeadline = started + RESTART_BIND_RETRY.toNanos();
        while (true) {
            awaitPortsFree(bindDeadline);
            try {
                launcher.launch(files, bootstrapServers(), deadline);
                break;
            } catch (BindFailedException e) {
                if (System.nanoTime() - bindDeadline >= 0) {
                    throw new IllegalStateException("restart: ports " + brokerPort + "/" + controllerPort
                            + " still in use after " + RESTART_BIND_RETRY.toSeconds() + " s", e);
                }
                LOG.info("restart: a port is still in use; retrying ({})", e.getMessage().lines().findFirst().orElse(""));
                ClusterAdmin.pause(200);
            }
        }
        awaitServing(deadline);
        LOG.info("{} broker at {} restarted in {} ms", mode, bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /** {@inheritDoc} Any thread; serialized with the other lifecycle methods. */
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
        try {
            stop();
        } catch (RuntimeException e) {
            LOG.warn("graceful stop failed on close; killing the broker", e);
            launcher.emergencyStop();
            failure = addTo(failure, e);
        }
        try {
            files.deleteAll();
        } catch (RuntimeException e) {
            failure = addTo(failure, e);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException jvmShuttingDown) {
            // the hook runs anyway; nothing left for it to do
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Where the broker runs. Any thread.
     *
     * @return the mode
     */
    public Mode mode() {
        return mode;
    }

    /**
     * The temporary directory holding the broker's data, config and (child JVM) log; deleted by
     * {@link #close()}. Any thread.
     *
     * @return the data directory
     */
    public Path dataDir() {
        return files.dataDir();
    }

    /**
     * The child JVM's stdout and stderr (all starts appended), inside {@link #dataDir()}. In-process brokers
     * log through the test JVM's logging instead and leave this file absent. Any thread.
     *
     * @return the log file path
     */
    public Path logFile() {
        return files.logFile();
    }

    /**
     * Whether the broker process or server is up (not stopped, killed or closed). Any thread.
     *
     * @return true while running
     */
    public boolean isRunning() {
        return launcher.isRunning();
    }

    @Override
    public String toString() {
        return "EmbeddedKafkaBroker[" + mode + (node == null ? "" : ", node " + node.nodeId()) + ", " + bootstrapServers()
                + ", " + files.dataDir() + "]";
    }

    /**
     * This broker's {@code node.id}: {@link #NODE_ID} for a single broker, 1..n in a cluster. Any thread.
     *
     * @return the node id
     */
    public int nodeId() {
        return node == null ? NODE_ID : node.nodeId();
    }

    // ------------------------------------------------------------------------------------------ cluster nodes

    /** A node of a cluster, not started: {@link #prepareNode()}, then {@link #launchNode} on every node at once. */
    static EmbeddedKafkaBroker clusterNode(Builder builder, ClusterNode node) {
        try {
            return new EmbeddedKafkaBroker(builder, node);
        } catch (IOException e) {
            throw new UncheckedIOException("could not create a temporary data directory", e);
        }
    }

    /** Writes the node's config and formats its log directory with the cluster's id. */
    synchronized void prepareNode() {
        brokerPort = node.brokerPort();
        controllerPort = node.controllerPort();
        files.writeConfig(brokerProperties(), "kafka-scenarios-testkit " + mode + " cluster node " + node.nodeId());
        files.format(clusterId);
    }

    /**
     * Starts the node's process and waits until it is ready. A node's start returns only once a
     * quorum of controllers is up, so the cluster launches its nodes on threads of their own.
     */
    void launchNode(long deadlineNanos) {
        launcher.launch(files, bootstrapServers(), deadlineNanos);
    }

    /** Waits until the node is registered, unfenced, and every partition leader answers. */
    void awaitNodeServing(long deadlineNanos) {
        awaitServing(deadlineNanos);
    }

    // ------------------------------------------------------------------------------------------ start

    private synchronized void startFirstTime() {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        BindFailedException lastBindFailure = null;
        for (int attempt = 1; attempt <= FIRST_START_ATTEMPTS; attempt++) {
            int[] ports = Ports.free(2);
            brokerPort = ports[0];
            controllerPort = ports[1];
            admin.reset(); // never connected to the previous attempt's ports, but be sure
            files.writeConfig(brokerProperties(), "kafka-scenarios-testkit " + mode + " broker");
            files.format(clusterId);
            try {
                launcher.launch(files, bootstrapServers(), deadline);
                awaitServing(deadline);
                LOG.debug("started {}", this);
                return;
            } catch (BindFailedException e) {
                lastBindFailure = e;
                LOG.info("port {} or {} was taken meanwhile (attempt {} of {}); retrying with new ports",
                        brokerPort, controllerPort, attempt, FIRST_START_ATTEMPTS);
            }
        }
        throw new IllegalStateException("could not bind the broker to free ports after " + FIRST_START_ATTEMPTS
                + " attempts", lastBindFailure);
    }

    private Properties brokerProperties() {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(nodeId()));
        p.put("controller.quorum.voters", node == null ? NODE_ID + "@" + HOST + ":" + controllerPort : node.voters());
        p.put("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", files.kafkaLogDir().toString());
        if (node != null && node.saslPort() > 0) {
            addSaslListener(p, node.saslPort());
        }
        p.putAll(defaultBrokerProperties());
        p.putAll(overrides);
        return p;
    }

    /**
     * A {@code SASL_PLAINTEXT} listener named {@code SASL} with SCRAM-SHA-512, and the
     * {@code StandardAuthorizer} with no access unless an ACL grants it. The {@code PLAINTEXT} and
     * controller listeners stay unauthenticated: their principal, {@code User:ANONYMOUS}, is the super
     * user, so the nodes, the test kit's admin and the tests' read-backs are not subject to the ACLs.
     */
    private static void addSaslListener(Properties p, int saslPort) {
        p.put("listeners", p.getProperty("listeners") + ",SASL://" + HOST + ":" + saslPort);
        p.put("advertised.listeners", p.getProperty("advertised.listeners") + ",SASL://" + HOST + ":" + saslPort);
        p.put("listener.security.protocol.map", p.getProperty("listener.security.protocol.map") + ",SASL:SASL_PLAINTEXT");
        p.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        p.put("listener.name.sasl.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:ANONYMOUS");
        p.put("allow.everyone.if.no.acl.found", "false");
    }

    /** @return the node's SASL listener, {@code host:port}, or null without one */
    String saslAddress() {
        return node == null || node.saslPort() == 0 ? null : HOST + ":" + node.saslPort();
    }

    /** Waits until the broker is registered, unfenced, and every partition leader answers. */
    private void awaitServing(long deadline) {
        String notReady;
        Throwable lastError = null;
        while (true) {
            if (!isRunning()) {
                throw new IllegalStateException("the broker at " + bootstrapServers() + " died while starting"
                        + launcher.logTail());
            }
            try {
                notReady = admin.probeServing(nodeId());
                if (notReady == null) {
                    return;
                }
            } catch (ExecutionException e) {
                lastError = e.getCause();
                notReady = String.valueOf(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the broker", e);
            }
            if (System.nanoTime() - deadline >= 0) {
                IllegalStateException failure = new IllegalStateException("the broker at " + bootstrapServers()
                        + " did not serve requests within " + startTimeout.toSeconds() + " s: " + notReady
                        + launcher.logTail(), lastError);
                throw failure;
            }
            ClusterAdmin.pause(50);
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the broker is closed: " + this);
        }
    }

    /** Best effort on JVM exit when {@link #close()} was not called: no orphan broker, no leftover files. */
    private void emergencyCleanup() {
        launcher.emergencyStop();
        if (!closed) {
            // (an in-process broker keeps running until the JVM halts; deleting its open files is harmless)
            try {
                files.deleteAll();
            } catch (RuntimeException ignored) {
                // JVM exiting; nothing more to do
            }
        }
    }

    private void awaitPortsFree(long deadline) {
        while (!(Ports.isFree(brokerPort) && Ports.isFree(controllerPort)
                && (node == null || node.saslPort() == 0 || Ports.isFree(node.saslPort()))) && System.nanoTime() - deadline < 0) {
            ClusterAdmin.pause(100);
        }
    }

    private static RuntimeException addTo(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }
}
