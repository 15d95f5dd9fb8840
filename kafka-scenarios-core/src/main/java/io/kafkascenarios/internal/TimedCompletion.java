package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import io.kafkascenarios.SendTimeoutException;

/**
 * A future that someone waits for with a deadline: completed exactly once, by the outcome or by
 * {@link #run} at the deadline, whichever comes first; the outcome cancels the scheduled deadline.
 *
 * <p>Withdrawal: the record (or group) is {@code QUEUED} in the ring until the flusher takes its
 * first record ({@link #takeForSend}: {@code TAKEN}). A deadline that finds it still queued moves it
 * to {@code WITHDRAWN} by the same CAS, so exactly one of the two wins: either the flusher skips
 * every record of it and none is ever written ({@code IN_RING}, withdrawn), or Kafka has (or is
 * about to have) one, and it may still be written ({@code AWAITING_ACK}).
 *
 * <p>Threads: created on the caller thread; {@link #deadline} once on the caller thread; outcomes on
 * Kafka's I/O thread, the flusher or the closer; {@link #run} on the producer's deadline thread.
 * Completing is a CAS: the first one wins and the others are no-ops.
 *
 * @param <T> what the future gives
 */
abstract class TimedCompletion<T> extends CompletableFuture<T> implements RecordCompletion, Runnable {
    private static final int QUEUED = 0;
    private static final int TAKEN = 1;
    private static final int WITHDRAWN = 2;
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<TimedCompletion> STATE =
            AtomicIntegerFieldUpdater.newUpdater(TimedCompletion.class, "state");
    private final String topic;
    private final long startNanos;
    private final NanoClock clock;
    private final Accounting accounting;
    private final DeadlineCancels cancels;
    private volatile Future<?> deadline;
    private volatile int state;

    /**
     * @param topic the (first) record's topic, for messages
     * @param startNanos when the caller started, on {@code clock}
     * @param clock the producer's clock, for the elapsed time a timeout reports
     * @param accounting counts timeouts by stage
     * @param cancels where a completed future's deadline goes to be cancelled off the completing thread
     */
    TimedCompletion(String topic, long startNanos, NanoClock clock, Accounting accounting, DeadlineCancels cancels) {
        this.topic = topic;
        this.startNanos = startNanos;
        this.clock = clock;
        this.accounting = accounting;
        this.cancels = cancels;
    }

    /** @param deadline the scheduled {@link #run}, cancelled on completion. Caller thread, once. */
    public final void deadline(Future<?> deadline) {
        this.deadline = deadline;
        if (isDone()) {
            deadline.cancel(false);
        }
    }

    /** @param value the outcome; cancels the deadline if this completed the future */
    final void succeedWith(T value) {
        if (complete(value)) {
            cancelDeadline();
        }
    }

    @Override
    public final void fail(Throwable cause) {
        if (completeExceptionally(cause)) {
            cancelDeadline();
        }
    }

    private void cancelDeadline() {
        Future<?> d = deadline;
        if (d != null) {
            cancels.later(d); // not here: this is often Kafka's I/O thread, and cancelling takes a lock
        }
    }

    /** Flusher thread: the first record of this completion taken wins against the deadline. */
    @Override
    public final boolean takeForSend() {
        int s = state;
        if (s == TAKEN) {
            return true; // a later record of a group already on its way
        }
        // Only the deadline moves QUEUED to WITHDRAWN: a failed CAS means withdrawn.
        return s == QUEUED && STATE.compareAndSet(this, QUEUED, TAKEN);
    }

    /**
     * Withdraws every record of this completion still in the ring, if the flusher has taken none.
     * Any thread (the deadline thread, or a {@code sendAll} caller giving up on ring space).
     *
     * @return true if withdrawn: none of its records will be written
     */
    public final boolean withdraw() {
        return STATE.compareAndSet(this, QUEUED, WITHDRAWN);
    }

    /** The deadline passed: withdraws the record if it is still in the ring, then fails the future. */
    @Override
    public final void run() {
        if (isDone()) {
            return; // answered, failed or cancelled first (its cancel may still be queued): nothing to withdraw
        }
        if (withdraw()) {
            failWithdrawn();
        } else {
            failTimedOut(new SendTimeoutException(SendTimeoutException.Stage.AWAITING_ACK,
                    Duration.ofNanos(clock.nanoTime() - startNanos), topic));
        }
    }

    @Override
    public final void failWithdrawn() {
        failTimedOut(new SendTimeoutException(SendTimeoutException.Stage.IN_RING, Duration.ofNanos(clock.nanoTime() - startNanos),
                topic));
    }

    /**
     * Fails the future with a timeout, counted by its stage if this completed it: whoever completes
     * first (the deadline, the flusher skipping a withdrawn record, a caller out of ring space) counts.
     *
     * @param timeout the failure
     */
    public final void failTimedOut(SendTimeoutException timeout) {
        if (completeExceptionally(timeout)) {
            cancelDeadline();
            accounting.sendTimedOut(timeout.stage());
        }
    }

    /** Cancelling the future cancels its deadline too: it withdraws nothing and counts nothing. */
    @Override
    public final boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled) {
            cancelDeadline();
        }
        return cancelled;
    }
}
