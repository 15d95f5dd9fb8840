package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import io.kafkascenarios.SendTimeoutException;

/**
 * A future that someone waits for with a deadline: completed exactly once, by the outcome or by
 * {@link #run} at the deadline, whichever comes first; the outcome cancels the scheduled deadline.
 *
 * <p>Threads: created on the caller thread; {@link #deadline} once on the caller thread; outcomes on
 * Kafka's I/O thread, the flusher or the closer; {@link #run} on the producer's deadline thread.
 * Completing is a CAS: the first one wins and the others are no-ops.
 *
 * @param <T> what the future gives
 */
abstract class TimedCompletion<T> extends CompletableFuture<T> implements RecordCompletion, Runnable {
    private final String topic;
    private final long startNanos;
    private final NanoClock clock;
    private final Accounting accounting;
    private volatile Future<?> deadline;

    /**
     * @param topic the (first) record's topic, for messages
     * @param startNanos when the caller started, on {@code clock}
     * @param clock the producer's clock, for the elapsed time a timeout reports
     * @param accounting counts timeouts by stage
     */
    TimedCompletion(String topic, long startNanos, NanoClock clock, Accounting accounting) {
        this.topic = topic;
        this.startNanos = startNanos;
        this.clock = clock;
        this.accounting = accounting;
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
            d.cancel(false);
        }
    }

    /** @return where the time went, as the deadline passes */
    abstract SendTimeoutException.Stage stage();

    /** The deadline passed. */
    @Override
    public final void run() {
        SendTimeoutException.Stage stage = stage();
        if (completeExceptionally(new SendTimeoutException(stage, Duration.ofNanos(clock.nanoTime() - startNanos), topic))) {
            accounting.sendTimedOut(stage);
        }
    }
}
