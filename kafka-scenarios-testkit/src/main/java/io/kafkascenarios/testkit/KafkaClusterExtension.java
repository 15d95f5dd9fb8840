package io.kafkascenarios.testkit;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JUnit 5 extension that gives a test class one shared {@link KafkaCluster}, started before all its tests and
 * closed after them:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final KafkaClusterExtension KAFKA = KafkaClusterExtension.inProcess(); // or .childJvm()
 *
 * @Test
 * void roundTrip() {                       // or: void roundTrip(KafkaCluster cluster)
 *     String topic = KafkaClusterExtension.uniqueTopic("round-trip");
 *     KAFKA.cluster().createTopic(topic, 3);
 *     ... plain KafkaProducer / KafkaConsumer on KAFKA.cluster().bootstrapServers() ...
 * }
 * }</pre>
 *
 * <p>Which cluster, decided once in {@code beforeAll} from system properties (blank values and unresolved
 * Maven placeholders such as {@code ${kafka.bootstrap}} count as unset):
 * <ol>
 *   <li>{@code -Dkafka.bootstrap=host:port} → {@link ExternalKafkaCluster};</li>
 *   <li>{@code -Dkafka.provider=testcontainers} → {@link TestcontainersKafkaCluster} with image
 *       {@code -Dkafka.image} (default {@value TestcontainersKafkaCluster#DEFAULT_IMAGE}); without a Docker
 *       engine the test class is skipped (aborted), not failed;</li>
 *   <li>otherwise ({@code kafka.provider} unset or {@code embedded}) → {@link EmbeddedKafkaBroker} in the mode
 *       of the factory ({@link #inProcess()} or {@link #childJvm()}).</li>
 * </ol>
 * Tests that kill or restart the broker call {@link #assumeFaultInjection()} first.
 *
 * <p>Register it in a {@code static} field (class-level lifecycle); with {@code @Nested} classes the outermost
 * class owns the cluster. It also resolves test-method, constructor and lifecycle-method parameters of type
 * {@link KafkaCluster}.
 *
 * <p>Threads: JUnit calls the callbacks. {@link #cluster()}, {@link #assumeFaultInjection()} and
 * {@link #uniqueTopic(String)} may be called from any thread (also tests running in parallel) once
 * {@code beforeAll} has run; {@link #brokerProperty(String, String)} only before that, typically in the field
 * initializer.
 */
public final class KafkaClusterExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    /** System property naming an external cluster's bootstrap servers. */
    public static final String BOOTSTRAP_PROPERTY = "kafka.bootstrap";
    /** System property choosing the provider: {@code embedded} (default) or {@code testcontainers}. */
    public static final String PROVIDER_PROPERTY = "kafka.provider";
    /** System property with the Docker image for the Testcontainers provider. */
    public static final String IMAGE_PROPERTY = "kafka.image";

    private static final Logger LOG = LoggerFactory.getLogger(KafkaClusterExtension.class);
    private static final AtomicLong TOPIC_COUNTER = new AtomicLong();
    private static final String RUN_ID = UUID.randomUUID().toString().substring(0, 8);

    /** Where {@link #startCluster} leads, for the given system properties. */
    enum Provider { EMBEDDED, EXTERNAL, TESTCONTAINERS }

    private final EmbeddedKafkaBroker.Mode mode;
    /** Nodes of an embedded {@link EmbeddedKafkaCluster}, or 0 for a single {@link EmbeddedKafkaBroker}. */
    private final int nodes;
    private final Map<String, String> brokerProperties = new LinkedHashMap<>();
    private boolean saslScram;
    private KafkaCluster cluster;
    private String ownerId;

    private KafkaClusterExtension(EmbeddedKafkaBroker.Mode mode) {
        this(mode, 0);
    }

    private KafkaClusterExtension(EmbeddedKafkaBroker.Mode mode, int nodes) {
        this.mode = mode;
        this.nodes = nodes;
    }

    /**
     * An extension whose embedded cluster (when no other provider is chosen) has several combined
     * broker+controller nodes, each in a child JVM ({@link EmbeddedKafkaCluster}): for leader failover
     * and rolling restarts. Tests that need the nodes call {@link #multiNode()}.
     *
     * @param nodes how many nodes (3 is the usual cluster)
     * @return a new extension; register it in a static field
     */
    public static KafkaClusterExtension childJvmCluster(int nodes) {
        if (nodes < 1 || nodes > 5) {
            throw new IllegalArgumentException("nodes must be 1 to 5, was " + nodes);
        }
        return new KafkaClusterExtension(EmbeddedKafkaBroker.Mode.CHILD_JVM, nodes);
    }

    /**
     * The embedded multi-node cluster, to kill or restart single nodes; skips the calling test (or
     * class) when the cluster is another provider's. Any thread, after {@code beforeAll}.
     *
     * @return the cluster
     */
    public EmbeddedKafkaCluster multiNode() {
        KafkaCluster c = cluster();
        Assumptions.assumeTrue(c instanceof EmbeddedKafkaCluster,
                "needs the embedded multi-node cluster (KafkaClusterExtension.childJvmCluster), not " + c);
        return (EmbeddedKafkaCluster) c;
    }

    /**
     * Gives the embedded multi-node cluster a SCRAM-SHA-512 listener and ACLs
     * ({@link EmbeddedKafkaCluster.Builder#saslScram()}). Call before {@code beforeAll}, on a
     * {@link #childJvmCluster} extension.
     *
     * @return this extension
     */
    public synchronized KafkaClusterExtension saslScram() {
        if (nodes == 0) {
            throw new IllegalStateException("saslScram() is for childJvmCluster(n) extensions");
        }
        if (cluster != null) {
            throw new IllegalStateException("saslScram() must be called before the cluster starts");
        }
        saslScram = true;
        return this;
    }

    /**
     * An extension whose embedded broker (when no other provider is chosen) runs inside the test JVM.
     *
     * @return a new extension; register it in a static field
     */
    public static KafkaClusterExtension inProcess() {
        return new KafkaClusterExtension(EmbeddedKafkaBroker.Mode.IN_PROCESS);
    }

    /**
     * An extension whose embedded broker (when no other provider is chosen) runs in a child JVM that tests
     * can kill and restart.
     *
     * @return a new extension; register it in a static field
     */
    public static KafkaClusterExtension childJvm() {
        return new KafkaClusterExtension(EmbeddedKafkaBroker.Mode.CHILD_JVM);
    }

    /**
     * A broker property for the embedded broker (see {@link EmbeddedKafkaBroker.Builder#brokerProperty});
     * ignored with a warning for external and Testcontainers clusters. Call before {@code beforeAll}.
     *
     * @param key   broker config name
     * @param value its value
     * @return this extension
     */
    public synchronized KafkaClusterExtension brokerProperty(String key, String value) {
        if (cluster != null) {
            throw new IllegalStateException("brokerProperty() must be called before the cluster starts");
        }
        brokerProperties.put(key, value);
        return this;
    }

    /**
     * The cluster of the current test class. Any thread, after {@code beforeAll}.
     *
     * @return the running cluster
     * @throws IllegalStateException outside the class lifecycle (e.g. the extension is not in a static field)
     */
    public synchronized KafkaCluster cluster() {
        if (cluster == null) {
            throw new IllegalStateException("no cluster: register KafkaClusterExtension with @RegisterExtension in a "
                    + "static field and use it from tests or @BeforeAll/@AfterAll methods");
        }
        return cluster;
    }

    /**
     * Skips the calling test (or, from {@code @BeforeAll}, the test class) unless the cluster can be killed
     * and restarted, i.e. it is the child-JVM embedded broker. Any thread, after {@code beforeAll}.
     */
    public void assumeFaultInjection() {
        KafkaCluster c = cluster();
        Assumptions.assumeTrue(c.supportsFaults(), () -> "fault injection (kill()/restart()) needs the child-JVM "
                + "embedded broker, but this test class runs against " + c
                + (c instanceof EmbeddedKafkaBroker
                        ? "; use KafkaClusterExtension.childJvm()"
                        : "; it was chosen by -D" + BOOTSTRAP_PROPERTY + " or -D" + PROVIDER_PROPERTY));
    }

    /**
     * A topic name unlikely to exist yet, also on a cluster shared by several runs:
     * {@code <prefix>-<run id>-<counter>}, with characters Kafka does not allow replaced by '-'. Any thread.
     *
     * @param prefix a readable prefix such as {@code "round-trip"}
     * @return a legal, unique topic name
     */
    public static String uniqueTopic(String prefix) {
        String clean = (prefix == null || prefix.isBlank() ? "topic" : prefix).replaceAll("[^a-zA-Z0-9._-]", "-");
        if (clean.length() > 200) {
            clean = clean.substring(0, 200);
        }
        return clean + "-" + RUN_ID + "-" + TOPIC_COUNTER.incrementAndGet();
    }

    // ------------------------------------------------------------------------------------------ JUnit

    /** Starts the cluster for the outermost test class. Called by JUnit. */
    @Override
    public synchronized void beforeAll(ExtensionContext context) {
        if (cluster != null) {
            return; // a @Nested class of the owner
        }
        cluster = startCluster(mode, nodes, saslScram, brokerProperties, System::getProperty);
        ownerId = context.getUniqueId();
        LOG.info("{} uses {}", context.getDisplayName(), cluster);
    }

    /** Closes the cluster after the owning test class. Called by JUnit. */
    @Override
    public synchronized void afterAll(ExtensionContext context) {
        if (cluster == null || !context.getUniqueId().equals(ownerId)) {
            return;
        }
        try {
            cluster.close();
        } finally {
            cluster = null;
            ownerId = null;
        }
    }

    /** Supports parameters of type {@link KafkaCluster}. Called by JUnit. */
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == KafkaCluster.class;
    }

    /** Returns {@link #cluster()}. Called by JUnit. */
    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return cluster();
    }

    // ------------------------------------------------------------------------------------------ selection

    static Provider provider(UnaryOperator<String> properties) {
        if (setting(properties, BOOTSTRAP_PROPERTY) != null) {
            return Provider.EXTERNAL;
        }
        String provider = setting(properties, PROVIDER_PROPERTY);
        if (provider == null) {
            return Provider.EMBEDDED;
        }
        switch (provider.toLowerCase(Locale.ROOT)) {
            case "embedded":
                return Provider.EMBEDDED;
            case "testcontainers":
                return Provider.TESTCONTAINERS;
            case "external":
                throw new IllegalArgumentException("-D" + PROVIDER_PROPERTY + "=external needs -D" + BOOTSTRAP_PROPERTY
                        + "=host:port");
            default:
                throw new IllegalArgumentException("unknown -D" + PROVIDER_PROPERTY + "=" + provider
                        + "; use embedded (default), testcontainers, or set -D" + BOOTSTRAP_PROPERTY);
        }
    }

    /** The trimmed value, or null if unset, blank, or an unresolved placeholder like {@code ${kafka.bootstrap}}. */
    static String setting(UnaryOperator<String> properties, String name) {
        String value = properties.apply(name);
        if (value == null) {
            return null;
        }
        String v = value.trim();
        if (v.isEmpty() || (v.startsWith("${") && v.endsWith("}"))) {
            return null;
        }
        return v;
    }

    private static KafkaCluster startCluster(EmbeddedKafkaBroker.Mode mode, int nodes, boolean saslScram, Map<String, String> brokerProperties,
                                             UnaryOperator<String> properties) {
        Provider provider = provider(properties);
        if (provider != Provider.EMBEDDED && !brokerProperties.isEmpty()) {
            LOG.warn("broker properties {} are ignored: the cluster is {}", brokerProperties.keySet(), provider);
        }
        switch (provider) {
            case EXTERNAL: {
                ExternalKafkaCluster external = ExternalKafkaCluster.connect(setting(properties, BOOTSTRAP_PROPERTY));
                try {
                    external.checkReachable("-D" + BOOTSTRAP_PROPERTY);
                } catch (RuntimeException e) {
                    external.close();
                    throw e;
                }
                return external;
            }
            case TESTCONTAINERS:
                return startTestcontainers(properties);
            default: {
                if (nodes > 0) {
                    EmbeddedKafkaCluster.Builder cluster = EmbeddedKafkaCluster.childJvms(nodes);
                    brokerProperties.forEach(cluster::brokerProperty);
                    if (saslScram) {
                        cluster.saslScram();
                    }
                    return cluster.start();
                }
                EmbeddedKafkaBroker.Builder builder = mode == EmbeddedKafkaBroker.Mode.IN_PROCESS
                        ? EmbeddedKafkaBroker.inProcess() : EmbeddedKafkaBroker.childJvm();
                brokerProperties.forEach(builder::brokerProperty);
                return builder.start();
            }
        }
    }

    /** Touches {@link TestcontainersKafkaCluster} (and so Testcontainers) only here. */
    private static KafkaCluster startTestcontainers(UnaryOperator<String> properties) {
        String image = setting(properties, IMAGE_PROPERTY);
        if (image == null) {
            image = "apache/kafka:4.1.1"; // = TestcontainersKafkaCluster.DEFAULT_IMAGE, without loading that class
        }
        try {
            Class.forName("org.testcontainers.kafka.KafkaContainer", false, KafkaClusterExtension.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("-D" + PROVIDER_PROPERTY + "=testcontainers needs org.testcontainers:kafka on "
                    + "the test class path (it is an optional dependency of kafka-scenarios-testkit)", e);
        }
        if (!TestcontainersKafkaCluster.dockerAvailable()) {
            String reason = "-D" + PROVIDER_PROPERTY + "=testcontainers, but Testcontainers finds no Docker engine "
                    + "here; skipping the test class (image " + image + ")";
            LOG.warn(reason); // class-level aborts are easy to miss in Surefire/Failsafe reports ("Tests run: 0")
            Assumptions.abort(reason);
        }
        return TestcontainersKafkaCluster.start(image);
    }
}
