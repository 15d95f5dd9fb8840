package io.kafkascenarios.internal;

import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Who waits for one record that went through the ring: a {@code send} future, or a group of
 * {@code sendAll}. Null in a slot for a plain {@code offer}.
 *
 * <p>Threads: {@link #takeForSend} on the flusher thread; {@link #succeed} on Kafka's I/O thread;
 * {@link #fail} on Kafka's I/O thread, the flusher, the closing thread or a caller. Implementations
 * only count and complete futures: they never block.
 */
public interface RecordCompletion {
    /**
     * Flusher thread, before it copies the record out of its slot: whether it may go to Kafka. False
     * when its deadline withdrew it while it waited in the ring: the flusher then skips it (counted
     * as withdrawn) and it is never written. Once true, the record can no longer be withdrawn.
     *
     * @return true to send the record, false to skip it
     */
    boolean takeForSend();

    /**
     * Flusher thread, after {@link #takeForSend} said false: makes sure the future has failed (the
     * deadline that withdrew the record may not have failed it yet) before the record is counted as
     * withdrawn: a future first, the counter last, as for every outcome.
     */
    void failWithdrawn();

    /** @param metadata where the broker stored the record */
    void succeed(RecordMetadata metadata);

    /** @param cause why the record failed */
    void fail(Throwable cause);
}
