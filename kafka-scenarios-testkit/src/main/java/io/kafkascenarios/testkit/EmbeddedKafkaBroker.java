package io.kafkascenarios.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.kafkascenarios.testkit.internal.ChildBrokerMain;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
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
    private static final String HOST = "127.0.0.1";
    private static final int FIRST_START_ATTEMPTS = 3;
    private static final Duration RESTART_BIND_RETRY = Duration.ofSeconds(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int LOG_TAIL_LINES = 60;

    private final Mode mode;
    private final Map<String, String> overrides;
    private final List<String> jvmOptions;
    private final Duration startTimeout;
    private final String clusterId = Uuid.randomUuid().toString();
    private final Path dataDir;
    private final Path kafkaLogDir;
    private final Path configFile;
    private final Path logFile;
    private final ClusterAdmin admin;
    private final Thread cleanupHook;

    private volatile int brokerPort;
    private volatile int controllerPort;
    /** In-process mode: the running server, else null. Guarded by this; volatile for lock-free reads. */
    private volatile KafkaRaftServer server;
    /** Child-JVM mode: the running child, else null. Guarded by this; volatile for the cleanup hook. */
    private volatile Process process;
    private volatile boolean closed;

    private EmbeddedKafkaBroker(Builder builder) throws IOException {
        this.mode = builder.mode;
        this.overrides = Collections.unmodifiableMap(new LinkedHashMap<>(builder.overrides));
        this.jvmOptions = List.copyOf(builder.jvmOptions);
        this.startTimeout = builder.startTimeout;
        this.dataDir = Files.createTempDirectory("kafka-scenarios-broker-");
        this.kafkaLogDir = dataDir.resolve("kraft-logs");
        this.configFile = dataDir.resolve("server.properties");
        this.logFile = dataDir.resolve("broker.log");
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
        return mode == Mode.CHILD_JVM;
    }

    /**
     * {@inheritDoc} In-process: {@code KafkaRaftServer.shutdown()}; child JVM: SIGTERM, then waits for the
     * exit (SIGKILL after 30 s). Any thread; serialized with the other lifecycle methods.
     */
    @Override
    public synchronized void stop() {
        if (mode == Mode.IN_PROCESS) {
            KafkaRaftServer s = server;
            if (s != null) {
                server = null;
                s.shutdown();
                s.awaitShutdown();
            }
            return;
        }
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        p.destroy();
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("child broker pid {} did not stop within {}; killing it", p.pid(), STOP_TIMEOUT);
                p.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the broker", e);
        }
    }

    /**
     * {@inheritDoc} Child JVM: {@code Process.destroyForcibly()} (SIGKILL), then {@code waitFor()}.
     * Any thread; serialized with the other lifecycle methods.
     *
     * @throws UnsupportedOperationException for an in-process broker
     */
    @Override
    public synchronized void kill() {
        if (mode != Mode.CHILD_JVM) {
            throw new UnsupportedOperationException("kill() needs the child-JVM broker (EmbeddedKafkaBroker.childJvm() or "
                    + "KafkaClusterExtension.childJvm()); this broker at " + bootstrapServers()
                    + " runs inside the test JVM, which a SIGKILL would end too");
        }
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the killed broker to exit", e);
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
                launch(deadline);
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
            Process p = process;
            if (p != null) {
                p.destroyForcibly();
            }
            failure = addTo(failure, e);
        }
        try {
            deleteRecursively(dataDir);
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
        return dataDir;
    }

    /**
     * The child JVM's stdout and stderr (all starts appended), inside {@link #dataDir()}. In-process brokers
     * log through the test JVM's logging instead and leave this file absent. Any thread.
     *
     * @return the log file path
     */
    public Path logFile() {
        return logFile;
    }

    /**
     * Whether the broker process or server is up (not stopped, killed or closed). Any thread.
     *
     * @return true while running
     */
    public boolean isRunning() {
        return mode == Mode.IN_PROCESS ? server != null : process != null && process.isAlive();
    }

    @Override
    public String toString() {
        return "EmbeddedKafkaBroker[" + mode + ", " + bootstrapServers() + ", " + dataDir + "]";
    }

    // ------------------------------------------------------------------------------------------ start

    private synchronized void startFirstTime() {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        BindFailedException lastBindFailure = null;
        for (int attempt = 1; attempt <= FIRST_START_ATTEMPTS; attempt++) {
            int[] ports = freePorts(2);
            brokerPort = ports[0];
            controllerPort = ports[1];
            deleteRecursively(kafkaLogDir);
            admin.reset(); // never connected to the previous attempt's ports, but be sure
            writeConfig();
            format();
            try {
                launch(deadline);
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
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        p.put("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", kafkaLogDir.toString());
        p.putAll(defaultBrokerProperties());
        p.putAll(overrides);
        return p;
    }

    private void writeConfig() {
        try (OutputStream out = Files.newOutputStream(configFile)) {
            brokerProperties().store(out, "kafka-scenarios-testkit " + mode + " broker");
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + configFile, e);
        }
    }

    /** Formats the log directory (once per data directory; restarts never reformat). */
    private void format() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", configFile.toString()}, out);
        } catch (Exception e) {
            throw new IllegalStateException("formatting " + kafkaLogDir + " failed: " + e + "\n"
                    + buf.toString(StandardCharsets.UTF_8), e);
        }
        if (rc != 0) {
            throw new IllegalStateException("formatting " + kafkaLogDir + " failed with exit code " + rc + ":\n"
                    + buf.toString(StandardCharsets.UTF_8));
        }
    }

    private void launch(long deadline) {
        if (mode == Mode.IN_PROCESS) {
            launchInProcess();
        } else {
            launchChild(deadline);
        }
    }

    private void launchInProcess() {
        KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(brokerProperties(), false), Time.SYSTEM);
        try {
            s.startup();
        } catch (RuntimeException e) {
            try {
                s.shutdown();
                s.awaitShutdown();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (isBindFailure(e)) {
                throw new BindFailedException(String.valueOf(e.getMessage()), e);
            }
            throw new IllegalStateException("the in-process broker failed to start on " + bootstrapServers(), e);
        }
        server = s;
    }

    private void launchChild(long deadline) {
        String token = UUID.randomUUID().toString();
        String readyLine = ChildBrokerMain.READY_PREFIX + token;
        long logOffset;
        Path argFile = dataDir.resolve("child-classpath.args");
        Path log4jConfig = dataDir.resolve("child-log4j2.xml");
        try {
            logOffset = Files.exists(logFile) ? Files.size(logFile) : 0;
            // An argument file keeps a long class path off the command line (and out of `ps`).
            Files.writeString(argFile, "-cp\n" + quoteForArgFile(childClassPath()) + "\n", Charset.defaultCharset());
            Files.writeString(log4jConfig, CHILD_LOG4J2_XML, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare the child JVM's files in " + dataDir, e);
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-Dlog4j2.configurationFile=" + log4jConfig);
        command.add("-Dlog4j2.shutdownHookEnabled=false");
        command.add("@" + argFile);
        command.add(ChildBrokerMain.class.getName());
        command.add(configFile.toString());
        command.add(token);
        command.add(Long.toString(ProcessHandle.current().pid()));
        command.add(dataDir.toString());
        Process p;
        try {
            p = new ProcessBuilder(command)
                    .directory(dataDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            p.getOutputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the child JVM: " + command, e);
        }
        process = p;
        LogScanner scanner = new LogScanner(logFile, logOffset, readyLine);
        while (true) {
            if (scanner.found()) {
                LOG.debug("child broker pid {} ready at {}", p.pid(), bootstrapServers());
                return;
            }
            if (!p.isAlive()) {
                process = null;
                String output = readSince(logFile, logOffset);
                if (output.contains(readyLine)) {
                    throw new IllegalStateException("the child broker JVM exited with code " + p.exitValue()
                            + " right after it was ready; log " + logFile + ", last lines:\n" + tail(output));
                }
                if (isBindFailure(output)) {
                    String bindLine = output.lines().filter(EmbeddedKafkaBroker::isBindFailure).findFirst().orElse("");
                    throw new BindFailedException(bindLine.strip() + "\n" + tail(output), null);
                }
                throw new IllegalStateException("the child broker JVM exited with code " + p.exitValue()
                        + " before it was ready (" + bootstrapServers() + "); log " + logFile + ", last lines:\n"
                        + tail(output));
            }
            if (System.nanoTime() - deadline >= 0) {
                process = null;
                p.destroyForcibly();
                throw new IllegalStateException("the child broker JVM (pid " + p.pid() + ") was not ready within "
                        + startTimeout.toSeconds() + " s; killed it. Log " + logFile + ", last lines:\n"
                        + tail(readSince(logFile, logOffset)));
            }
            ClusterAdmin.pause(25);
        }
    }

    /** Waits until the broker is registered, unfenced, and every partition leader answers. */
    private void awaitServing(long deadline) {
        String notReady;
        Throwable lastError = null;
        while (true) {
            if (!isRunning()) {
                throw new IllegalStateException("the broker at " + bootstrapServers() + " died while starting"
                        + brokerLogTail());
            }
            try {
                notReady = admin.probeServing(NODE_ID);
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
                        + brokerLogTail(), lastError);
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

    private String brokerLogTail() {
        if (mode != Mode.CHILD_JVM || !Files.exists(logFile)) {
            return "";
        }
        return "; log " + logFile + ", last lines:\n" + tail(readSince(logFile, 0));
    }

    /** Best effort on JVM exit when {@link #close()} was not called: no orphan broker, no leftover files. */
    private void emergencyCleanup() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!closed) {
            // (an in-process broker keeps running until the JVM halts; deleting its open files is harmless)
            try {
                deleteRecursively(dataDir);
            } catch (RuntimeException ignored) {
                // JVM exiting; nothing more to do
            }
        }
    }

    private void awaitPortsFree(long deadline) {
        while (!(portFree(brokerPort) && portFree(controllerPort)) && System.nanoTime() - deadline < 0) {
            ClusterAdmin.pause(100);
        }
    }

    private static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int[] freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName(HOST));
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("could not find free ports on " + HOST, e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // released either way
                }
            }
        }
    }

    private static boolean isBindFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BindException || (c.getMessage() != null && isBindFailure(c.getMessage()))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isBindFailure(String text) {
        return text.contains("Address already in use") || text.contains("java.net.BindException")
                || text.contains("failed to bind");
    }

    private static String readSince(Path file, long offset) {
        if (!Files.exists(file)) {
            return "";
        }
        try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size <= offset) {
                return "";
            }
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - offset, 64L << 20));
            ch.position(offset);
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // fill
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(could not read " + file + ": " + e + ")";
        }
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    }

    /**
     * This JVM's class path with every entry made absolute: the child runs in the data directory. Under
     * Surefire/Failsafe {@code java.class.path} is the real test class path (with a manifest-only booter jar
     * it would be that jar, whose Class-Path manifest entry the child's class loader follows as well).
     */
    private static String childClassPath() {
        String cp = System.getProperty("java.class.path", "");
        List<String> entries = new ArrayList<>();
        for (String entry : cp.split(java.io.File.pathSeparator)) {
            if (!entry.isBlank()) {
                entries.add(Path.of(entry).toAbsolutePath().toString());
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static String quoteForArgFile(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + dir, e);
        }
    }

    private static RuntimeException addTo(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /** Looks for one line in a growing file, reading only what was appended since the last call. */
    private static final class LogScanner {
        private final Path file;
        private final String needle;
        private long position;
        private String carry = "";

        LogScanner(Path file, long offset, String needle) {
            this.file = file;
            this.position = offset;
            this.needle = needle;
        }

        boolean found() {
            if (!Files.exists(file)) {
                return false;
            }
            try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size <= position) {
                    return false;
                }
                ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - position, 16L << 20));
                ch.position(position);
                while (buf.hasRemaining() && ch.read(buf) > 0) {
                    // fill
                }
                position += buf.position();
                // ISO-8859-1 maps bytes 1:1, so a chunk boundary never splits the (ASCII) needle's characters
                String text = carry + new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1);
                if (text.contains(needle)) {
                    return true;
                }
                carry = text.substring(Math.max(0, text.length() - needle.length()));
                return false;
            } catch (IOException e) {
                return false;
            }
        }
    }

    /** A bind failure at start-up: retried with new ports (first start) or after a pause (restart). */
    private static final class BindFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BindFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The child's log4j2 configuration (used only if log4j-core is on the class path): INFO to stdout. */
    private static final String CHILD_LOG4J2_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Configuration status="WARN">
              <Appenders>
                <Console name="out" target="SYSTEM_OUT">
                  <PatternLayout pattern="%d{HH:mm:ss.SSS} %-5level [%t] %c{1.} - %msg%n"/>
                </Console>
              </Appenders>
              <Loggers>
                <Root level="INFO">
                  <AppenderRef ref="out"/>
                </Root>
              </Loggers>
            </Configuration>
            """;
}
