package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
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
    /** A fatal producer error seen on any thread: the flusher replaces that producer before its next send. */
    private final AtomicReference<Condemned> condemned = new AtomicReference<>();
    private static final long MIN_REPLACEMENT_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_REPLACEMENT_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(30);
    private long replacementBackoffNanos = MIN_REPLACEMENT_BACKOFF_NANOS;
    private long nextReplacementNanos = System.nanoTime() - MAX_REPLACEMENT_BACKOFF_NANOS - 1;
    private final Accounting accounting;
    private final Reporter reporter;
    private Sequence released;
    /** Highest flush marker processed, whether Kafka's flush succeeded or not. */
    private final Sequence markerDone = new Sequence(-1);
    /** Highest flush marker after which Kafka's flush returned normally. */
    private final Sequence markerFlushed = new Sequence(-1);
    private volatile Throwable abandonCause;
    private final FlusherWaitStrategy waitStrategy;

    /**
     * @param ring the ring this flusher drains
     * @param sink where records go first
     * @param sinkFactory makes a new sink when a fatal error poisoned the current one
     * @param accounting counters to update
     * @param reporter where failures are queued
     * @param waitStrategy how the flusher waits; told when a request's record went out
     */
    public Flusher(RingBuffer<Slot> ring, RecordSink sink, Supplier<RecordSink> sinkFactory,
                   Accounting accounting, Reporter reporter, FlusherWaitStrategy waitStrategy) {
        this.ring = ring;
        this.sink = sink;
        this.sinkFactory = sinkFactory;
        this.accounting = accounting;
        this.reporter = reporter;
        this.waitStrategy = waitStrategy;
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
        Condemned condemned = this.condemned.get();
        if (condemned != null && !replaceSink(condemned, record)) {
            return;
        }
        RecordSink current = sink;
        try {
            record.sentTo = current;
            current.send(record, record);
            if (record.completion != null) {
                record.completion.sentToKafka();
                waitStrategy.requestSent();
            }
        } catch (Throwable t) {
            // Kafka throws synchronously for interrupts, a closed producer, a fatal producer state...
            // In a fatal state it may also have appended the record and call back later: fail() and
            // completed() are guarded so that the record is counted once.
            clearInterrupt(t);
            noteIfFatal(current, t);
            fail(record, -1, t);
        }
    }

    /** A producer in a fatal state and why. Allocated only when that happens. */
    private static final class Condemned {
        final RecordSink sink;
        final Throwable cause;

        Condemned(RecordSink sink, Throwable cause) {
            this.sink = sink;
            this.cause = cause;
        }
    }

    /**
     * Replaces a producer in a fatal state: make a new one, and close the old one on a thread of its
     * own (Kafka's close joins its I/O thread, which runs every aborted record's callback), so the
     * flusher never waits for it. Replacements back off exponentially while the cause persists; in
     * between, records fail at once with the fatal cause. Flusher thread.
     *
     * @param condemned the producer to replace and why
     * @param record the record about to be sent, failed if there is no usable producer
     * @return true if there is a usable producer
     */
    private boolean replaceSink(Condemned condemned, OutgoingRecord record) {
        if (condemned.sink != sink) {
            this.condemned.compareAndSet(condemned, null); // a late error from a producer already replaced
            return true;
        }
        long now = System.nanoTime();
        if (now - nextReplacementNanos < 0) {
            fail(record, -1, condemned.cause);
            return false;
        }
        RecordSink old = sink;
        try {
            sink = sinkFactory.get();
        } catch (Throwable t) {
            t.addSuppressed(condemned.cause);
            LOG.error("the Kafka producer is in a fatal state ({}) and a new one could not be made; retrying in {} ms",
                    condemned.cause.toString(), TimeUnit.NANOSECONDS.toMillis(replacementBackoffNanos), t);
            backOff(now);
            fail(record, -1, t);
            return false;
        }
        this.condemned.compareAndSet(condemned, null);
        accounting.producerReplacements.increment();
        LOG.warn("replaced the Kafka producer after a fatal error: {}", condemned.cause.toString());
        backOff(now);
        Thread closer = new Thread(() -> {
            try {
                old.close(Duration.ZERO);
            } catch (Throwable t) {
                LOG.warn("closing the failed Kafka producer: {}", t.toString());
            }
        }, "kafka-scenarios-producer-closer");
        closer.setDaemon(true);
        closer.start();
        return true;
    }

    /** The next replacement waits twice as long as the last, up to 30 s, unless the last was long ago. */
    private void backOff(long now) {
        if (now - nextReplacementNanos > MAX_REPLACEMENT_BACKOFF_NANOS) {
            replacementBackoffNanos = MIN_REPLACEMENT_BACKOFF_NANOS;
        } else {
            replacementBackoffNanos = Math.min(replacementBackoffNanos * 2, MAX_REPLACEMENT_BACKOFF_NANOS);
        }
        nextReplacementNanos = now + replacementBackoffNanos;
    }

    /** Any thread (Kafka's I/O thread included): only records the error, against the producer that gave it. */
    private void noteIfFatal(RecordSink from, Throwable t) {
        if (condemned.get() == null && from == sink && isFatal(t)) {
            condemned.compareAndSet(null, new Condemned(from, t));
        }
    }

    /**
     * Errors after which a KafkaProducer with idempotence accepts nothing more: the ones kafka-clients
     * 4.x's TransactionManager turns into its fatal state. Others (an out-of-order sequence, an expired
     * authentication) it recovers from by itself.
     */
    static boolean isFatal(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ProducerFencedException || c instanceof ClusterAuthorizationException
                    || c instanceof TransactionalIdAuthorizationException || c instanceof UnsupportedVersionException
                    || c instanceof InvalidPidMappingException) {
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
        if (!record.finish()) {
            return;
        }
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
            if (!record.finish()) {
                return;
            }
            accounting.delivered.increment();
            if (record.completion != null) {
                record.completion.succeed(metadata);
            }
        } else {
            // A late error from a producer already replaced must not condemn its successor.
            noteIfFatal(record.sentTo, exception);
            fail(record, metadata == null ? -1 : metadata.partition(), exception);
        }
    }
}
