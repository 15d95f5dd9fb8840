package io.kafkascenarios.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import io.kafkascenarios.BlockingReport;
import io.kafkascenarios.FailedRecord;
import io.kafkascenarios.FailureReport;
import io.kafkascenarios.RingProducerListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns counters and queued failures into coalesced listener calls, on its own thread.
 *
 * <p>Threads: {@link #recordFailure} from any thread (Kafka's I/O thread, the flusher): it only
 * enqueues. {@link #run} is the reporter thread, the only one that calls the listener. It makes its
 * last report once the flusher has stopped and the closing thread has closed Kafka ({@link #stop}),
 * so failures produced while closing are reported too.
 *
 * <p>Failures are grouped by exception class: Kafka's messages embed counts and times, so grouping
 * by message would not coalesce anything.
 */
public final class Reporter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);
    private static final int MAX_DISTINCT_LISTENER_ERRORS_LOGGED = 64;

    private final RingProducerListener listener;
    private final Accounting accounting;
    private final long intervalNanos;
    private final int maxQueuedRecords;
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    /** Failures queued with their bytes and not yet reported: bounded by {@code maxQueuedRecords}. */
    private final AtomicInteger queued = new AtomicInteger();
    /** Failures past that bound: counted, their bytes dropped, their last cause kept. */
    private final LongAdder overflow = new LongAdder();
    private volatile Throwable overflowCause;
    private long overflowReported;
    private final Set<String> listenerErrorsLogged = new HashSet<>();
    private volatile boolean flusherStopped;
    private volatile boolean closeRequested;
    private volatile Thread thread;

    private long lastDiscarded;
    private long lastBlockStarted;
    private long lastBlockStopped;
    private long lastBlockGaveUp;
    private long lastBlockNanos;

    /**
     * @param listener who hears the reports
     * @param accounting counters to report deltas of
     * @param intervalNanos time between reports
     * @param maxQueuedRecords failed records whose bytes are held for the next report; beyond it
     *                         failures are still counted and reported, without their bytes
     */
    public Reporter(RingProducerListener listener, Accounting accounting, long intervalNanos, int maxQueuedRecords) {
        this.listener = listener;
        this.accounting = accounting;
        this.intervalNanos = intervalNanos;
        this.maxQueuedRecords = maxQueuedRecords;
    }

    private record Failure(FailedRecord record, Throwable cause) {
    }

    private static final class Group {
        final Throwable first;
        long count;
        final List<FailedRecord> records = new ArrayList<>();

        Group(Throwable first) {
            this.first = first;
        }
    }

    /**
     * Queues a failed record for the next report. Non-blocking, safe on Kafka's I/O thread; memory is
     * bounded: past {@code maxQueuedRecords} only a counter moves. The caller counts the failure in
     * {@link Accounting#failed} after this returns (see {@link Outcomes}).
     */
    public void recordFailure(FailedRecord record, Throwable cause) {
        if (queued.incrementAndGet() <= maxQueuedRecords) {
            failures.add(new Failure(record, cause));
        } else {
            queued.decrementAndGet();
            overflowCause = cause;
            overflow.increment();
        }
    }

    @Override
    public void run() {
        while (!(flusherStopped && closeRequested)) {
            LockSupport.parkNanos(this, intervalNanos);
            // A stray interrupt would make parkNanos return at once: the reporter stops by flags only.
            Thread.interrupted();
            reportSafely();
        }
        reportSafely();
    }

    private void reportSafely() {
        try {
            reportOnce();
        } catch (Throwable t) {
            LOG.error("reporting failed; the reporter carries on", t);
        }
    }

    /**
     * Names the reporter's thread before it starts, so that a {@link #stop} right after the build
     * waits for it too. Building thread.
     *
     * @param reporterThread the thread that will run this
     */
    void runsOn(Thread reporterThread) {
        thread = reporterThread;
    }

    /** The flusher has stopped: no more failures will come from it. Flusher thread. */
    void flusherStopped() {
        flusherStopped = true;
        LockSupport.unpark(thread);
    }

    /**
     * The producer is closed (Kafka closed, all callbacks run): make a last report once the flusher
     * has also stopped, and wait for it up to the timeout. Closing thread.
     *
     * @param timeoutNanos longest wait
     * @return true if the reporter has finished
     */
    public boolean stop(long timeoutNanos) {
        closeRequested = true;
        Thread t = thread;
        if (t == null) {
            return false;
        }
        LockSupport.unpark(t);
        long deadline = System.nanoTime() + timeoutNanos;
        boolean interrupted = false;
        while (t.isAlive() && deadline - System.nanoTime() > 0) {
            try {
                TimeUnit.NANOSECONDS.timedJoin(t, deadline - System.nanoTime());
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }

    /** One round of reports. Reporter thread only (or the closer once the reporter thread is gone). */
    void reportOnce() {
        reportFailures();
        long discarded = accounting.discarded.sum();
        if (discarded != lastDiscarded) {
            long delta = discarded - lastDiscarded;
            lastDiscarded = discarded;
            try {
                listener.onDiscarded(delta, discarded);
            } catch (Throwable t) {
                listenerFailed(t);
            }
        }
        reportBlocking();
    }

    private void reportFailures() {
        if (failures.isEmpty() && overflow.sum() == overflowReported) {
            return;
        }
        Map<String, Group> groups = new LinkedHashMap<>();
        for (Failure f = failures.poll(); f != null; f = failures.poll()) {
            queued.decrementAndGet();
            String key = f.cause.getClass().getName();
            Group g = groups.get(key);
            if (g == null) {
                g = new Group(f.cause);
                groups.put(key, g);
            }
            g.count++;
            g.records.add(f.record);
        }
        long overflowTotal = overflow.sum();
        if (overflowTotal != overflowReported) {
            Throwable cause = overflowCause;
            Group g = groups.get(cause.getClass().getName());
            if (g == null) {
                g = new Group(cause);
                groups.put(cause.getClass().getName(), g);
            }
            g.count += overflowTotal - overflowReported;
            overflowReported = overflowTotal;
        }
        for (Group g : groups.values()) {
            try {
                listener.onFailed(new FailureReport(g.first, g.count, g.records));
            } catch (Throwable t) {
                listenerFailed(t);
            }
        }
    }

    private void reportBlocking() {
        // Read "stopped" before "started" so waitingNow is never negative.
        long stopped = accounting.blockStopped.sum();
        long started = accounting.blockStarted.sum();
        long startedDelta = started - lastBlockStarted;
        long stoppedDelta = stopped - lastBlockStopped;
        long waitingNow = started - stopped;
        if (startedDelta == 0 && stoppedDelta == 0 && waitingNow == 0) {
            return;
        }
        long gaveUp = accounting.blockGaveUp.sum();
        long nanos = accounting.blockNanos.sum();
        long max = accounting.blockMaxNanos.getThenReset();
        BlockingReport report = new BlockingReport(startedDelta, stoppedDelta, gaveUp - lastBlockGaveUp,
                waitingNow, nanos - lastBlockNanos, max);
        lastBlockStarted = started;
        lastBlockStopped = stopped;
        lastBlockGaveUp = gaveUp;
        lastBlockNanos = nanos;
        try {
            listener.onBlocked(report);
        } catch (Throwable t) {
            listenerFailed(t);
        }
    }

    private void listenerFailed(Throwable t) {
        accounting.listenerErrors.increment();
        String key = distinctKey(t);
        if (listenerErrorsLogged.size() < MAX_DISTINCT_LISTENER_ERRORS_LOGGED && listenerErrorsLogged.add(key)) {
            LOG.error("RingProducerListener {} threw; this error is logged once, later ones are only counted"
                    + " in RingStats.listenerErrors()", listener, t);
        }
    }

    /** Two listener errors are the same when their class and message are. */
    static String distinctKey(Throwable t) {
        return t.getClass().getName() + ':' + t.getMessage();
    }
}
