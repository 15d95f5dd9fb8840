package io.kafkascenarios.jmh;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.testkit.KafkaCluster;

/**
 * What every side-by-side benchmark needs: a broker, one topic per side, and either a
 * {@link RingProducer} (the library side: methods named {@code ring*} or {@code stream*}) or a raw
 * {@code KafkaProducer} (the others), built from the same settings. Subclasses adjust the settings, the
 * ring and the topics' partition count, and add their own trial set-up in {@link #prepareTrial()}.
 *
 * <p>Threads: set up and torn down by JMH on one thread per trial; the producers are shared by the
 * benchmark threads.
 */
@State(Scope.Benchmark)
public abstract class SideBySide {
    protected KafkaCluster cluster;
    protected RingProducer ring;
    protected KafkaProducer<byte[], byte[]> raw;
    protected final byte[] key = "key-000001".getBytes();
    protected final byte[] value = new byte[100];
    protected String ringTopic;
    protected String rawTopic;

    /**
     * @param config the settings both producers get; add to it
     */
    protected void configure(Map<String, Object> config) {
    }

    /**
     * @param builder the ring producer's builder, already given the shared settings
     * @return the builder to build from
     */
    protected RingProducer.Builder ring(RingProducer.Builder builder) {
        return builder;
    }

    /** Called before the producers close, with the ring's final accounting. */
    protected void check(RingStats stats) {
    }

    /** @return partitions of each side's topic */
    protected int partitions() {
        return 3;
    }

    /**
     * Called at the end of the trial's set-up, once the cluster, the topics and this fork's producer are
     * up. A hook rather than a subclass {@code @Setup}: JMH does not document an order between the set-up
     * methods of a class and its superclass, and the subclass needs the cluster.
     */
    protected void prepareTrial() {
    }

    /** Called first in the trial's tear-down, while the cluster and the producer are still up. */
    protected void finishTrial() {
    }

    /**
     * Starts the broker connection and only the side this fork measures: JMH forks a JVM per benchmark
     * method, and an idle producer of the other side would still cost CPU on a small machine (the
     * ring's flusher and reporter, Kafka's I/O thread).
     *
     * @param params which benchmark this fork runs
     */
    @Setup(Level.Trial)
    public void startSideBySide(BenchmarkParams params) {
        String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        cluster = BenchCluster.start();
        String name = getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
        ringTopic = name + "-ring-" + System.nanoTime();
        rawTopic = name + "-raw-" + System.nanoTime();
        cluster.createTopic(ringTopic, partitions(), BenchCluster.TOPIC_CONFIG);
        cluster.createTopic(rawTopic, partitions(), BenchCluster.TOPIC_CONFIG);
        Map<String, Object> config = BenchCluster.producerConfig(cluster.bootstrapServers());
        configure(config);
        if (method.startsWith("ring") || method.startsWith("stream")) {
            ring = ring(RingProducer.builder(config).listener(new RingProducerListener() { })).build();
        } else {
            raw = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        }
        prepareTrial();
    }

    @TearDown(Level.Trial)
    public void stopSideBySide() {
        try {
            finishTrial();
        } finally {
            if (ring != null) {
                RingStats stats = ring.stats();
                ring.close(Duration.ofSeconds(30));
                check(stats);
            }
            if (raw != null) {
                raw.close(Duration.ofSeconds(30));
            }
            cluster.close();
        }
    }
}
