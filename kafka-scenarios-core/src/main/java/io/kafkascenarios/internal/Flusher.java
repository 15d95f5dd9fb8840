package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.common.errors.InterruptException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.lmax.disruptor.Sequence;

/**
 * The flusher thread's loop: takes published slots in sequence order, copies each record out,
 * releases the slot, and hands the copy to Kafka; runs {@code flush()} at flush markers; at close,
 * drains up to the close sequence and closes the producer. Nothing thrown escapes: a record that
 * cannot be handed to Kafka is failed with its cause and reported.
 *
 * <h2>Close, from the flusher's side</h2>
 * Phases: {@code RUNNING} → {@code DRAINING} (the closing thread called {@link #drain} with the
 * close sequence) → {@code CLOSING} (everything up to the close sequence is handled; the flusher
 * closes the producer with what is left of the close's deadline) → {@code DONE}. If the drain does not
 * finish in time, the closing thread {@link #abandon}s it: {@code DRAINING} → {@code ABANDONED}; the
 * flusher then closes the producer at once (Kafka fails what it holds), and fails every record it
 * still meets instead of sending it, including records whose callers commit their slot after close
 * returned: the flusher keeps going until the close sequence, however late, so no claimed slot is
 * ever left without an outcome. The producer is closed on this thread, its owner, so an interrupt of
 * the closing thread cannot cut Kafka's close short.
 *
 * <p>Interrupts: the closing thread interrupts the flusher only when it abandons the drain, to break a
 * {@code send} or {@code flush} blocked in Kafka, and says when that interrupt is delivered
 * ({@code interruptSent}); the flusher clears it before closing the producer. Any other interrupt is
 * stray and cleared where it would matter: before parks, and when Kafka's {@code send} or
 * {@code flush} throws {@code InterruptException}, which is then called again (Kafka throws it before
 * appending the record). One stray interrupt is not covered: during Kafka's own {@code close} it makes
 * Kafka abort what it still holds (Kafka's behaviour; those records are failed and reported).
 *
 * <p>Threads: {@link #run} is the flusher thread. {@link #drain}, {@link #abandon},
 * {@link #awaitDone} from the closing thread; the marker accessors from callers of {@code flush}.
 */
public final class Flusher implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Flusher.class);
    static final int RUNNING = 0;
    static final int DRAINING = 1;
    static final int ABANDONED = 2;
    static final int CLOSING = 3;
    static final int DONE = 4;
    /** Kafka's close counts whole milliseconds: less than one left means abort at once. */
    private static final long MIN_KAFKA_CLOSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Stray interrupts ignored in a row for one send or flush before the flusher takes it as the outcome. */
    static final int MAX_STRAY_INTERRUPTS = 16;

    private final Ring ring;
    private final Sinks sinks;
    private final Outcomes outcomes;
    private final FlusherIdle idle;
    private final Reporter reporter;
    private final NanoClock clock;
    private final int maxBatch;

    private final AtomicInteger phase = new AtomicInteger(RUNNING);
    /** No sequence above it carries a record; {@code Long.MAX_VALUE} until close. */
    private volatile long closeSequence = Long.MAX_VALUE;
    private volatile long closeStartNanos;
    private volatile long closeTimeoutNanos;
    /** Kafka's close must end by then (after the close's start), so its forced abort fits in the deadline. */
    private volatile long kafkaCloseByNanos;
    private volatile Throwable abandonCause;
    private volatile boolean interruptSent;
    private final CountDownLatch done = new CountDownLatch(1);
    /** Highest flush marker processed, whether Kafka's flush succeeded or not. */
    private final Sequence markerDone = new Sequence(-1);
    /** Highest flush marker after which every earlier record had its outcome. */
    private final Sequence markerFlushed = new Sequence(-1);
    /** Records taken from the ring. Flusher thread only. */
    private long handled;
    private boolean producerClosed;

    /**
     * @param ring the ring to drain
     * @param sinks the producer(s) to send to
     * @param outcomes settles records
     * @param idle how to wait for records
     * @param reporter told when the flusher stops
     * @param clock time for the close budget
     * @param maxBatch most slots taken before close and abandon are checked again
     */
    public Flusher(Ring ring, Sinks sinks, Outcomes outcomes, FlusherIdle idle, Reporter reporter, NanoClock clock,
                   int maxBatch) {
        this.ring = ring;
        this.sinks = sinks;
        this.outcomes = outcomes;
        this.idle = idle;
        this.reporter = reporter;
        this.clock = clock;
        this.maxBatch = maxBatch;
    }

    @Override
    public void run() {
        try {
            drainLoop();
            finish();
        } catch (Throwable t) {
            // Unreachable by design (every step catches); if it happens, say so loudly and still end cleanly.
            LOG.error("the flusher stopped unexpectedly; records left in the ring stay pending", t);
        } finally {
            phase.set(DONE);
            try {
                reporter.flusherStopped();
            } finally {
                done.countDown();
            }
        }
    }

    private void drainLoop() {
        long next = ring.released() + 1;
        while (next <= closeSequence) {
            try {
                if (!producerClosed && phase.get() == ABANDONED) {
                    closeProducer();
                }
                if (!ring.isPublished(next)) {
                    idle.idle(ring, next);
                    continue;
                }
                int n = 0;
                do {
                    handle(next++); // moves on even if handling throws: a slot is never taken twice
                } while (++n < maxBatch && ring.isPublished(next));
                idle.workDone();
            } catch (Throwable t) {
                // Each step settles its record itself; what reaches here (an Error while reporting, say)
                // must not stop the one thread that drains the ring.
                LOG.error("unexpected error in the flusher before sequence {}; the flusher carries on", next, t);
            }
        }
    }

    private void handle(long sequence) {
        Slot slot = ring.slot(sequence);
        int kind = slot.kind;
        if (kind == Slot.RECORD) {
            handled++;
            RecordCompletion completion = slot.completion;
            if (completion != null && !completion.takeForSend()) {
                // Its deadline withdrew it while it waited here: it must never reach Kafka.
                ring.release(sequence);
                outcomes.withdrawn(completion);
                return;
            }
            OutgoingRecord record;
            try {
                record = slot.copyOut(outcomes);
            } catch (Throwable t) {
                // Out of memory, most likely: the bytes are lost, the record is not. Read before release.
                try {
                    outcomes.failUncopied(slot, t);
                } finally {
                    ring.release(sequence);
                }
                return;
            }
            ring.release(sequence);
            send(record);
        } else if (kind == Slot.FLUSH) {
            ring.release(sequence);
            flushMarker(sequence);
        } else {
            ring.release(sequence);
        }
    }

    private void send(OutgoingRecord record) {
        if (phase.get() == ABANDONED) {
            outcomes.fail(record, -1, abandonCause);
            return;
        }
        Throwable unusable;
        RecordSink sink;
        try {
            unusable = sinks.usableOrFailure();
            if (unusable == null) {
                unusable = outcomes.refusals().refusal(record.topic()); // Kafka's own exception, at once
            }
            sink = sinks.current();
        } catch (Throwable t) {
            unusable = t;
            sink = null;
        }
        if (unusable != null) {
            outcomes.fail(record, -1, unusable);
            return;
        }
        for (int strays = 0; ; strays++) {
            try {
                record.sentTo = sink;
                sink.send(record, record);
                if (record.completion != null) {
                    idle.requestSent();
                }
                return;
            } catch (Throwable t) {
                // Kafka throws synchronously for interrupts, a closed producer, a fatal producer state...
                // In a fatal state it may also have appended the record and call back later: outcomes are
                // guarded so that the record is counted once.
                Thread.interrupted();
                if (isStray(t, strays)) {
                    continue; // Kafka throws it before the record is appended: sending again is safe
                }
                boolean abandoned = phase.get() == ABANDONED && (t instanceof InterruptException);
                try {
                    sinks.noteIfFatal(sink, t);
                    outcomes.refusals().note(record.topic(), t);
                } finally {
                    outcomes.fail(record, -1, abandoned ? abandonCause : t);
                }
                return;
            }
        }
    }

    /**
     * An interrupt the closing thread did not send (it sets {@code ABANDONED} before it interrupts):
     * somebody else's, to be ignored. Bounded, so that a sink that always throws it cannot hold the
     * flusher.
     */
    private boolean isStray(Throwable t, int strays) {
        if (t instanceof InterruptException && phase.get() != ABANDONED && strays < MAX_STRAY_INTERRUPTS) {
            LOG.debug("the flusher thread was interrupted by someone other than close; ignored");
            return true;
        }
        return false;
    }

    private void flushMarker(long sequence) {
        boolean flushed = false;
        try {
            // Kafka's flush covers the current producer; a replaced one counts once its close returned;
            // the counts then say whether every record handed out before this marker has its outcome.
            flushed = phase.get() < ABANDONED && flushProducer() && sinks.awaitRetired(this::abandoned)
                    && outcomes.settled(handled);
        } catch (Throwable t) {
            LOG.warn("flush failed: {}", t.toString());
        } finally {
            if (flushed) {
                markerFlushed.set(sequence);
            }
            markerDone.set(sequence);
        }
    }

    private boolean abandoned() {
        return phase.get() == ABANDONED;
    }

    private boolean flushProducer() {
        for (int strays = 0; ; strays++) {
            try {
                sinks.current().flush();
                return true;
            } catch (Throwable t) {
                // Records are accounted by their callbacks; a failed flush only makes the waiter's flush() false.
                Thread.interrupted();
                if (isStray(t, strays)) {
                    continue;
                }
                LOG.warn("flush of the Kafka producer failed: {}", t.toString());
                return false;
            }
        }
    }

    /** Everything up to the close sequence is handled: close the producer within the budget, wait for old ones. */
    private void finish() {
        if (!producerClosed) {
            closeProducer();
        }
        long left = closeTimeoutNanos - (clock.nanoTime() - closeStartNanos);
        if (left > 0) {
            sinks.awaitRetired(() -> closeTimeoutNanos - (clock.nanoTime() - closeStartNanos) <= 0);
        }
    }

    private void closeProducer() {
        if (!phase.compareAndSet(DRAINING, CLOSING)) {
            // ABANDONED: the closing thread interrupts this thread; take that interrupt before Kafka's
            // close can see it (it would force the close).
            while (!interruptSent) {
                Thread.onSpinWait();
            }
        }
        Thread.interrupted();
        producerClosed = true;
        long left = kafkaCloseByNanos - (clock.nanoTime() - closeStartNanos);
        try {
            // Under a millisecond left, Kafka would round it to zero anyway; stretching it to one would
            // let the abort and its callbacks land after close returned (close(1 ms)): abort now.
            sinks.closeCurrent(Duration.ofNanos(left < MIN_KAFKA_CLOSE_NANOS ? 0 : left));
        } catch (Throwable t) {
            Thread.interrupted();
            LOG.warn("closing the Kafka producer failed: {}", t.toString());
        }
    }

    /**
     * Closing thread: drain up to {@code closeSequence}, then close the producer, all within the budget.
     * Kafka's close waits for acknowledgements until {@code timeoutNanos - reserveNanos}, then aborts
     * what is left and runs those callbacks before it returns: the reserve is for that abort.
     *
     * @param closeSequence from {@link Ring#close()}
     * @param startNanos when close started
     * @param timeoutNanos the close's whole budget
     * @param reserveNanos the end of the budget kept for Kafka's abort and the last callbacks
     */
    public void drain(long closeSequence, long startNanos, long timeoutNanos, long reserveNanos) {
        this.closeStartNanos = startNanos;
        this.closeTimeoutNanos = timeoutNanos;
        this.kafkaCloseByNanos = timeoutNanos - reserveNanos;
        phase.compareAndSet(RUNNING, DRAINING);
        this.closeSequence = closeSequence;
    }

    /**
     * Closing thread: the drain ran out of time. From now on the flusher fails records instead of
     * sending them, and closes the producer at once.
     *
     * @param cause each remaining record's failure
     * @param flusherThread interrupted to break a send or flush blocked in Kafka
     * @return true if this call abandoned the drain (false: the flusher was already closing)
     */
    public boolean abandon(Throwable cause, Thread flusherThread) {
        abandonCause = cause;
        if (!phase.compareAndSet(DRAINING, ABANDONED)) {
            return false;
        }
        flusherThread.interrupt();
        interruptSent = true;
        LockSupport.unpark(flusherThread);
        return true;
    }

    /**
     * Waits for the flusher to finish, until {@code timeoutNanos} after {@code startNanos}; an
     * interrupt does not cut the wait short.
     *
     * @param startNanos when the wait's budget started
     * @param timeoutNanos the budget
     * @return true if the flusher is done; an interrupt that came meanwhile is set again on return
     */
    public boolean awaitDone(long startNanos, long timeoutNanos) {
        boolean interrupted = false;
        try {
            while (true) {
                long left = timeoutNanos - (clock.nanoTime() - startNanos);
                if (done.getCount() == 0 || left <= 0) {
                    return done.getCount() == 0;
                }
                try {
                    done.await(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** @return true once the flusher has finished */
    public boolean isDone() {
        return done.getCount() == 0;
    }

    /** @return the highest flush-marker sequence the flusher has processed, -1 if none */
    public long markerDone() {
        return markerDone.get();
    }

    /** @return the highest flush-marker sequence after which every earlier record had completed */
    public long markerFlushed() {
        return markerFlushed.get();
    }
}
