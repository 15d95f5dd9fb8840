package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;

import io.kafkascenarios.FailedRecord;

/**
 * Drains published slots into the {@link RecordSink}, one Disruptor batch at a time.
 *
 * <p>Thread: {@link #onEvent} and {@link #onShutdown} run only on the flusher thread (the Disruptor's
 * {@code BatchEventProcessor}). Each slot is released as soon as its bytes are copied out, so callers
 * get the slot back while Kafka is still sending. Nothing thrown escapes: a record that cannot be
 * handed to Kafka is counted as failed and reported.
 *
 * <p>{@link #abandon} (from the closing thread) makes the flusher fail the records it still meets
 * instead of sending them: that is how {@code close} keeps its deadline. When the processor halts, the
 * flusher itself fails whatever is still in the ring, so nothing stays pending and no other thread
 * touches slots the flusher may still own.
 */
public final class Flusher implements EventHandler<Slot> {
    private static final Logger LOG = LoggerFactory.getLogger(Flusher.class);
    private static final long PUBLISH_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final RingBuffer<Slot> ring;
    private final Supplier<RecordSink> sinkFactory;
    /** Written by the flusher only (created, replaced); read by the closer once the flusher stopped. */
    private volatile RecordSink sink;
    /** A fatal producer error seen on any thread: the flusher replaces the producer before its next send. */
    private volatile Throwable fatal;
    private final Accounting accounting;
    private final Reporter reporter;
    private Sequence released;
    /** Highest flush marker processed, whether Kafka's flush succeeded or not. */
    private final Sequence markerDone = new Sequence(-1);
    /** Highest flush marker after which Kafka's flush returned normally. */
    private final Sequence markerFlushed = new Sequence(-1);
    private volatile Throwable abandonCause;

    /**
     * @param ring the ring this flusher drains
     * @param sink where records go first
     * @param sinkFactory makes a new sink when a fatal error poisoned the current one
     * @param accounting counters to update
     * @param reporter where failures are queued
     */
    public Flusher(RingBuffer<Slot> ring, RecordSink sink, Supplier<RecordSink> sinkFactory,
                   Accounting accounting, Reporter reporter) {
        this.ring = ring;
        this.sink = sink;
        this.sinkFactory = sinkFactory;
        this.accounting = accounting;
        this.reporter = reporter;
    }

    @Override
    public void setSequenceCallback(Sequence sequenceCallback) {
        this.released = sequenceCallback;
    }

    /** @return the highest flush-marker sequence the flusher has processed, -1 if none */
    public long markerDone() {
        return markerDone.get();
    }

    /** @return the highest flush-marker sequence after which every earlier record had completed */
    public long markerFlushed() {
        return markerFlushed.get();
    }

    /**
     * From now on, fail records instead of sending them. Any thread.
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
            OutgoingRecord record;
            try {
                record = slot.copyOut(this);
            } catch (Throwable t) {
                // Out of memory, most likely: the bytes are lost, the record is not.
                released.set(sequence);
                failUncopied(slot, t);
                return;
            }
            released.set(sequence);
            send(record);
        } else if (kind == Slot.FLUSH) {
            released.set(sequence);
            if (flushSink()) {
                markerFlushed.set(sequence);
            }
            markerDone.set(sequence);
        } else {
            released.set(sequence);
        }
    }

    private void send(OutgoingRecord record) {
        Throwable abandoned = abandonCause;
        if (abandoned != null) {
            fail(record, -1, abandoned);
            return;
        }
        if (fatal != null && !replaceSink(record)) {
            return;
        }
        try {
            record.sentTo = sink;
            sink.send(record, record);
            if (record.completion != null) {
                record.completion.sentToKafka();
            }
        } catch (Throwable t) {
            // Kafka throws synchronously for interrupts, a closed producer, a fatal producer state...
            clearInterrupt(t);
            noteIfFatal(t);
            fail(record, -1, t);
        }
    }

    /**
     * Replaces a producer that reached a fatal state (fenced, unrecoverable idempotence error,
     * authentication or cluster authorization failure): close it at once, which fails its in-flight
     * records through their callbacks, and make a new one. Flusher thread.
     *
     * @param record the record about to be sent, failed if no new producer can be made
     * @return true if there is a usable producer
     */
    private boolean replaceSink(OutgoingRecord record) {
        Throwable cause = fatal;
        RecordSink old = sink;
        try {
            sink = sinkFactory.get();
        } catch (Throwable t) {
            LOG.error("the Kafka producer is in a fatal state ({}) and a new one could not be made; failing records"
                    + " until one can", cause.toString(), t);
            fail(record, -1, t);
            return false;
        }
        fatal = null;
        accounting.producerReplacements.increment();
        LOG.warn("replaced the Kafka producer after a fatal error: {}", cause.toString());
        try {
            old.close(Duration.ZERO);
        } catch (Throwable t) {
            LOG.warn("closing the failed Kafka producer: {}", t.toString());
        }
        return true;
    }

    /** Any thread (Kafka's I/O thread included): only records the error. */
    private void noteIfFatal(Throwable t) {
        if (fatal == null && isFatal(t)) {
            fatal = t;
        }
    }

    /** Errors after which a KafkaProducer accepts nothing more, per Kafka's documentation. */
    static boolean isFatal(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ProducerFencedException || c instanceof OutOfOrderSequenceException
                    || c instanceof InvalidProducerEpochException || c instanceof AuthenticationException
                    || c instanceof ClusterAuthorizationException || c instanceof UnsupportedVersionException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Closes the current producer. Closing thread, after the flusher stopped (or was given up on).
     *
     * @param timeout how long Kafka may take to complete in-flight records
     */
    public void closeSink(Duration timeout) {
        sink.close(timeout);
    }

    private boolean flushSink() {
        if (abandonCause != null) {
            return false;
        }
        try {
            sink.flush();
            return true;
        } catch (Throwable t) {
            // Records are accounted by their callbacks; a failed flush only makes the waiter's flush() false.
            clearInterrupt(t);
            LOG.warn("flush of the Kafka producer failed: {}", t.toString());
            return false;
        }
    }

    /**
     * Kafka re-asserts the interrupt status when it throws {@link InterruptException}. The flusher is
     * stopped by halting its processor, never by an interrupt, so a stray interrupt is cleared: left
     * set, it would fail every later send and make the idle wait spin.
     */
    private static void clearInterrupt(Throwable t) {
        if (t instanceof InterruptException || t instanceof InterruptedException) {
            Thread.interrupted();
        }
    }

    @Override
    public void onShutdown() {
        Thread.interrupted();
        Throwable cause = abandonCause;
        if (cause == null) {
            cause = new IllegalStateException("RingProducer stopped before this record was sent");
        }
        long next = released == null ? 0 : released.get() + 1;
        long cursor = ring.getCursor();
        for (long s = next; s <= cursor; s++) {
            // A caller that claimed before close publishes within nanoseconds; one that claims after
            // close aborts its own slot. Do not wait long for either.
            long deadline = System.nanoTime() + PUBLISH_GRACE_NANOS;
            while (!ring.isAvailable(s) && System.nanoTime() - deadline < 0) {
                Thread.yield();
            }
            if (ring.isAvailable(s)) {
                Slot slot = ring.get(s);
                if (slot.kind == Slot.RECORD) {
                    failUncopiedOrCopy(slot, cause);
                }
            }
            if (released != null) {
                released.set(s);
            }
        }
        reporter.flusherStopped();
    }

    private void failUncopiedOrCopy(Slot slot, Throwable cause) {
        OutgoingRecord record;
        try {
            record = slot.copyOut(this);
        } catch (Throwable t) {
            failUncopied(slot, cause);
            return;
        }
        fail(record, -1, cause);
    }

    private void failUncopied(Slot slot, Throwable cause) {
        accounting.failed.increment();
        if (slot.completion != null) {
            slot.completion.fail(cause);
        }
        reporter.recordFailure(new FailedRecord(slot.topic, slot.partition, null, null), cause);
    }

    private void fail(OutgoingRecord record, int partition, Throwable cause) {
        accounting.failed.increment();
        if (record.completion != null) {
            record.completion.fail(cause);
        }
        Integer requested = record.partition();
        int p = partition >= 0 ? partition : requested == null ? -1 : requested;
        reporter.recordFailure(new FailedRecord(record.topic(), p, record.key(), record.value()), cause);
    }

    /** Completion of one record. Runs on Kafka's I/O thread: counts and enqueues, never blocks. */
    void completed(OutgoingRecord record, RecordMetadata metadata, Exception exception) {
        if (exception == null) {
            accounting.delivered.increment();
            if (record.completion != null) {
                record.completion.succeed(metadata);
            }
        } else {
            if (record.sentTo == sink) {
                // A late error from a producer already replaced must not condemn its successor.
                noteIfFatal(exception);
            }
            fail(record, metadata == null ? -1 : metadata.partition(), exception);
        }
    }
}
