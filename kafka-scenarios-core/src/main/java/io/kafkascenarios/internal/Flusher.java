package io.kafkascenarios.internal;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.Sequence;

import io.kafkascenarios.FailedRecord;

/**
 * Drains published slots into the {@link RecordSink}, one Disruptor batch at a time.
 *
 * <p>Thread: {@link #onEvent} runs only on the flusher thread (the Disruptor's
 * {@code BatchEventProcessor}). Each slot is released as soon as its bytes are copied out, so callers
 * get the slot back while Kafka is still sending. Nothing thrown by Kafka escapes: a record that
 * cannot be handed to Kafka is counted as failed and reported.
 *
 * <p>{@link #abandon} (from the closing thread) makes the flusher fail the records it still meets
 * instead of sending them: that is how {@code close} keeps its deadline.
 */
public final class Flusher implements EventHandler<Slot> {
    private static final Logger LOG = LoggerFactory.getLogger(Flusher.class);

    private final RecordSink sink;
    private final Accounting accounting;
    private final Reporter reporter;
    private Sequence released;
    private final Sequence flushed = new Sequence(-1);
    private volatile Throwable abandonCause;

    /**
     * @param sink where records go
     * @param accounting counters to update
     * @param reporter where failures are queued
     */
    public Flusher(RecordSink sink, Accounting accounting, Reporter reporter) {
        this.sink = sink;
        this.accounting = accounting;
        this.reporter = reporter;
    }

    @Override
    public void setSequenceCallback(Sequence sequenceCallback) {
        this.released = sequenceCallback;
    }

    /** @return the highest flush-marker sequence the flusher has completed, -1 if none */
    public long flushedSequence() {
        return flushed.get();
    }

    /**
     * From now on, fail records instead of sending them.
     *
     * @param cause reported as the failure cause of each such record
     */
    public void abandon(Throwable cause) {
        abandonCause = cause;
    }

    @Override
    public void onEvent(Slot slot, long sequence, boolean endOfBatch) {
        int kind = slot.kind;
        if (kind == Slot.RECORD) {
            ProducerRecord<byte[], byte[]> record = slot.toProducerRecord();
            released.set(sequence);
            send(record);
        } else if (kind == Slot.FLUSH) {
            released.set(sequence);
            flushSink();
            flushed.set(sequence);
        } else {
            released.set(sequence);
        }
    }

    private void send(ProducerRecord<byte[], byte[]> record) {
        Throwable abandoned = abandonCause;
        if (abandoned != null) {
            fail(record, -1, abandoned);
            return;
        }
        try {
            sink.send(record, new Delivery(record));
        } catch (Throwable t) {
            // Kafka throws synchronously for interrupts, a closed producer, bad serialization of headers...
            fail(record, -1, t);
        }
    }

    private void flushSink() {
        if (abandonCause != null) {
            return;
        }
        try {
            sink.flush();
        } catch (Throwable t) {
            // Records are accounted by their callbacks; a flush that fails only ends the wait early.
            LOG.warn("flush of the Kafka producer failed: {}", t.toString());
        }
    }

    /**
     * Counts and reports a record that will never reach Kafka. Flusher thread, or the closing thread
     * once the flusher has stopped.
     */
    public void fail(ProducerRecord<byte[], byte[]> record, Throwable cause) {
        fail(record, -1, cause);
    }

    private void fail(ProducerRecord<byte[], byte[]> record, int partition, Throwable cause) {
        accounting.failed.increment();
        Integer requested = record.partition();
        int p = partition >= 0 ? partition : requested == null ? -1 : requested;
        reporter.recordFailure(new FailedRecord(record.topic(), p, record.key(), record.value()), cause);
    }

    /** Completion of one record. Runs on Kafka's I/O thread: counts and enqueues, never blocks. */
    private final class Delivery implements Callback {
        private final ProducerRecord<byte[], byte[]> record;

        Delivery(ProducerRecord<byte[], byte[]> record) {
            this.record = record;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception exception) {
            if (exception == null) {
                accounting.delivered.increment();
            } else {
                fail(record, metadata == null ? -1 : metadata.partition(), exception);
            }
        }
    }
}
