package io.kafkascenarios.internal;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A record copied out of the ring, and its own completion callback: one object per record instead
 * of two, because everything in flight is retained until the broker answers.
 *
 * <p>Threads: built on the flusher thread; {@link #onCompletion} runs on Kafka's I/O thread (or the
 * closing thread when Kafka aborts it) and only counts and enqueues.
 */
final class OutgoingRecord extends ProducerRecord<byte[], byte[]> implements Callback {
    private final Flusher flusher;
    /** The caller's future for a {@code send}; null for an {@code offer}. */
    final SendCompletion completion;
    /** The producer this record was handed to: a fatal error only condemns that one. Flusher thread writes. */
    RecordSink sentTo;

    OutgoingRecord(Flusher flusher, SendCompletion completion, String topic, Integer partition, Long timestamp,
                   byte[] key, byte[] value, RecordHeaders headers) {
        super(topic, partition, timestamp, key, value, headers);
        this.flusher = flusher;
        this.completion = completion;
    }

    @Override
    public void onCompletion(RecordMetadata metadata, Exception exception) {
        flusher.completed(this, metadata, exception);
    }
}
