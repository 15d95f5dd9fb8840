package io.kafkascenarios.jmh;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import io.kafkascenarios.testkit.EmbeddedKafkaBroker;
import io.kafkascenarios.testkit.KafkaCluster;

/**
 * The broker a benchmark talks to: an embedded broker in a child JVM (so it does not share the
 * measured JVM), or an existing cluster given by {@code -Dkafka.bootstrap=host:port}.
 */
public final class BenchCluster {
    /** Topic settings that keep a long benchmark from filling the disk. */
    public static final Map<String, String> TOPIC_CONFIG = Map.of(
            "segment.bytes", String.valueOf(64 * 1024 * 1024),
            "retention.bytes", String.valueOf(128 * 1024 * 1024));

    private BenchCluster() {
    }

    /** @return a started cluster; close it in the trial's tear-down */
    public static KafkaCluster start() {
        String bootstrap = System.getProperty("kafka.bootstrap", "").trim();
        if (!bootstrap.isEmpty() && !bootstrap.startsWith("${")) {
            return io.kafkascenarios.testkit.ExternalKafkaCluster.connect(bootstrap);
        }
        return EmbeddedKafkaBroker.childJvm()
                .brokerProperty("log.retention.check.interval.ms", "5000")
                .start();
    }

    /**
     * The producer settings both sides of a comparison use: the library's ring and the raw
     * KafkaProducer get the same map.
     *
     * @param bootstrap bootstrap servers
     * @return a new mutable map
     */
    public static Map<String, Object> producerConfig(String bootstrap) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        return config;
    }

    /**
     * The consumer settings both sides of a consume-and-produce comparison use: the stream processor's
     * consumer and the hand-written loop's get the same map. Kafka's defaults (500 records per poll)
     * except {@code fetch.max.wait.ms}, 10 ms instead of 500, because the benchmark's input is a
     * finite, pre-filled topic. Once a partition is drained, a fetch that includes only drained
     * partitions is a long poll of that length on the broker, and a consumer has one fetch in flight
     * per broker: {@code close()} waits for it (about 0.5 s of every invocation, on both sides, that a
     * long-running consumer never pays), and so does a partition the processor resumes after pausing it
     * for backpressure, which a consumer lagging on a live topic would find full. While there is data
     * to fetch the broker answers at once, so the setting does not limit the steady throughput.
     *
     * @param bootstrap bootstrap servers
     * @param group the consumer group; a fresh one reads the topic from the beginning
     * @return a new mutable map, without deserializers (each side supplies bytes deserializers)
     */
    public static Map<String, Object> consumerConfig(String bootstrap, String group) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
        return config;
    }
}
