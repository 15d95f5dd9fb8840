package io.kafkascenarios.micrometer;

import java.util.IdentityHashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

import io.kafkascenarios.KafkaClientListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;

/**
 * Binds Micrometer's {@link KafkaClientMetrics} (Kafka's own client metrics, {@code kafka.producer.*}
 * and {@code kafka.consumer.*}, tagged {@code client.id}) for every KafkaProducer and KafkaConsumer
 * the library makes, and unbinds them when the client is closed: a {@code RingProducer}'s replacement
 * producer after a fatal error is bound too, under its own {@code client.id}. Give it to
 * {@code RingProducer.Builder.clientListener} and {@code StreamProcessor.Builder.clientListener}.
 *
 * <p>Threads: called on the thread that creates or closes the client (see {@link KafkaClientListener});
 * binding registers meters and does no I/O. Thread-safe.
 */
public final class KafkaClientBinding implements KafkaClientListener {
    private final MeterRegistry registry;
    private final Tags tags;
    private final Map<Object, KafkaClientMetrics> bound = new IdentityHashMap<>();

    /**
     * @param registry where the clients' meters go
     * @param tags extra tags for every meter
     */
    public KafkaClientBinding(MeterRegistry registry, Iterable<Tag> tags) {
        this.registry = registry;
        this.tags = Tags.of(tags);
    }

    @Override
    public void producerCreated(Producer<byte[], byte[]> producer, String clientId) {
        bind(producer, new KafkaClientMetrics(producer, tags));
    }

    @Override
    public void producerClosed(Producer<byte[], byte[]> producer) {
        unbind(producer);
    }

    @Override
    public void consumerCreated(Consumer<byte[], byte[]> consumer, String clientId) {
        bind(consumer, new KafkaClientMetrics(consumer, tags));
    }

    @Override
    public void consumerClosed(Consumer<byte[], byte[]> consumer) {
        unbind(consumer);
    }

    private void bind(Object client, KafkaClientMetrics metrics) {
        synchronized (bound) {
            bound.put(client, metrics);
        }
        metrics.bindTo(registry);
    }

    private void unbind(Object client) {
        KafkaClientMetrics metrics;
        synchronized (bound) {
            metrics = bound.remove(client);
        }
        if (metrics != null) {
            metrics.close(); // removes its meters from the registry
        }
    }

    /** @return clients bound now */
    public int boundClients() {
        synchronized (bound) {
            return bound.size();
        }
    }
}
