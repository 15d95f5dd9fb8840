package io.kafkascenarios.jmh;

import java.util.HashMap;
import java.util.Map;

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
}
