package io.kafkascenarios.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A record copied out of the ring, and its own completion callback: one object per record instead
 * of two, because everything in flight is retained until the broker answers.
 *
 * <p>Threads: built on the flusher thread; {@link #onCompletion} runs on Kafka's I/O thread (or the
 * thread closing a producer, when Kafka aborts it) and only counts and enqueues.
 */
final class OutgoingRecord extends ProducerRecord<byte[], byte[]> implements Callback {
    private final Outcomes outcomes;
    /** The caller's future for a {@code send}; null for an {@code offer}. */
    final RecordCompletion completion;
    /** The producer this record was handed to: a fatal error only condemns that one. Flusher thread writes. */
    RecordSink sentTo;
    private static final AtomicIntegerFieldUpdater<OutgoingRecord> FINISHED =
            AtomicIntegerFieldUpdater.newUpdater(OutgoingRecord.class, "finished");
    private volatile int finished;

    OutgoingRecord(Outcomes outcomes, RecordCompletion completion, String topic, Integer partition, Long timestamp,
                   byte[] key, byte[] value, RecordHeaders headers) {
        super(topic, partition, timestamp, key, value, headers);
        this.outcomes = outcomes;
        this.completion = completion;
    }

    /**
     * Claims the record's one outcome. Kafka in a fatal state can throw from {@code send} and still
     * call back later for the same record; only the first outcome is counted.
     *
     * @return true the first time only
     */
    boolean finish() {
        return FINISHED.compareAndSet(this, 0, 1);
    }

    @Override
    public void onCompletion(RecordMetadata metadata, Exception exception) {
        outcomes.completed(this, metadata, exception);
    }
}
