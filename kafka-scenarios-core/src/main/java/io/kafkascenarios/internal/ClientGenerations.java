package io.kafkascenarios.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kafkascenarios.KafkaClientListener;

/**
 * The KafkaProducers of one ring producer, one generation after another (a new one each time a fatal
 * error poisons the current one): each with its own {@code client.id}, each announced to the
 * {@link KafkaClientListener} when made and when closed.
 *
 * <p>Threads: {@link #next} on the builder's thread (the first) and the flusher (replacements); the
 * close notice on whichever thread closes the producer.
 */
public final class ClientGenerations {
    private static final Logger LOG = LoggerFactory.getLogger(ClientGenerations.class);
    private final Map<String, Object> config;
    private final String name;
    private final Supplier<? extends Producer<byte[], byte[]>> factory;
    private final KafkaClientListener listener;
    private int generation;

    /**
     * @param config the producer configuration
     * @param name the ring producer's name: the {@code client.id} base when none is configured
     * @param factory the user's producer factory, or null to make KafkaProducers from {@code config}
     * @param listener told of each producer, or null
     */
    public ClientGenerations(Map<String, Object> config, String name, Supplier<? extends Producer<byte[], byte[]>> factory,
                             KafkaClientListener listener) {
        this.config = config;
        this.name = name;
        this.factory = factory;
        this.listener = listener;
    }

    /** @return a sink over the next generation's producer */
    public RecordSink next() {
        int g = ++generation;
        Producer<byte[], byte[]> producer;
        String clientId;
        if (factory != null) {
            producer = Objects.requireNonNull(factory.get(), "the producer factory returned null");
            clientId = clientIdOf(producer.metrics());
        } else {
            Map<String, Object> c = new HashMap<>(config);
            Object configured = c.get(ProducerConfig.CLIENT_ID_CONFIG);
            String base = configured == null || configured.toString().isBlank() ? name : configured.toString();
            // Distinct per generation: Kafka's metrics (and JMX) are keyed by client.id, and the old
            // producer may still be closing when its replacement starts.
            clientId = g == 1 ? base : base + "-" + g;
            c.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
            producer = new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
        }
        if (listener == null) {
            return new KafkaRecordSink(producer, clientId, () -> { });
        }
        tell(() -> listener.producerCreated(producer, clientId));
        return new KafkaRecordSink(producer, clientId, () -> tell(() -> listener.producerClosed(producer)));
    }

    private static void tell(Runnable notice) {
        try {
            notice.run();
        } catch (RuntimeException e) {
            LOG.warn("the KafkaClientListener threw; ignored: {}", e.toString(), e);
        }
    }

    /**
     * @param metrics a kafka-clients client's {@code metrics()}
     * @return their {@code client-id} tag, or "unknown"
     */
    public static String clientIdOf(Map<MetricName, ?> metrics) {
        try {
            for (MetricName m : metrics.keySet()) {
                String id = m.tags().get("client-id");
                if (id != null) {
                    return id;
                }
            }
        } catch (RuntimeException e) {
            // a test double without metrics
        }
        return "unknown";
    }
}
