package io.kafkascenarios.internal;

import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Who waits for one record that went through the ring: a {@code send} future, or a group of
 * {@code sendAll}. Null in a slot for a plain {@code offer}.
 *
 * <p>Threads: {@link #sentToKafka} on the flusher thread; {@link #succeed} on Kafka's I/O thread;
 * {@link #fail} on Kafka's I/O thread, the flusher, the closing thread or a caller. Implementations
 * only count and complete futures: they never block.
 */
public interface RecordCompletion {
    /** The record was handed to Kafka. */
    void sentToKafka();

    /** @param metadata where the broker stored the record */
    void succeed(RecordMetadata metadata);

    /** @param cause why the record failed */
    void fail(Throwable cause);
}
