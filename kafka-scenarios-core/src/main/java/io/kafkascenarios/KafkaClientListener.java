package io.kafkascenarios;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Told when the library creates or closes a kafka-clients client, so that something outside core can
 * follow the clients' lives: bind Kafka's own metrics to a registry (the
 * {@code kafka-scenarios-micrometer} module does, with Micrometer's {@code KafkaClientMetrics}), or
 * log. A {@link RingProducer} makes a new {@code KafkaProducer} each time a fatal error poisons the
 * current one; each generation gets its own {@code client.id}.
 *
 * <p>Threads: called on the thread that creates or closes the client: the caller of
 * {@code build()}/{@code start()}, the producer's flusher thread (a replacement), a producer-closer
 * thread, the stream processor's poll thread. Keep it quick and never block: the flusher waits for it.
 * An exception it throws is logged and ignored.
 */
public interface KafkaClientListener {
    /**
     * @param producer the producer just created; do not send through it or close it
     * @param clientId its {@code client.id}
     */
    default void producerCreated(Producer<byte[], byte[]> producer, String clientId) {
    }

    /** @param producer a producer this listener was told of, now closed */
    default void producerClosed(Producer<byte[], byte[]> producer) {
    }

    /**
     * @param consumer the consumer just created; do not poll it or close it
     * @param clientId its {@code client.id}
     */
    default void consumerCreated(Consumer<byte[], byte[]> consumer, String clientId) {
    }

    /** @param consumer a consumer this listener was told of, now closed */
    default void consumerClosed(Consumer<byte[], byte[]> consumer) {
    }
}
