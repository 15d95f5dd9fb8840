package io.kafkascenarios.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
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
 * <p>Threads: {@link #recordFailure} from any thread (Kafka's I/O thread, the flusher, the closer): it
 * only enqueues. {@link #run} is the reporter thread, the only one that calls the listener.
 * {@link #stop} from the closing thread.
 */
public final class Reporter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);
    private static final int MAX_DISTINCT_LISTENER_ERRORS_LOGGED = 64;

    private final RingProducerListener listener;
    private final Accounting accounting;
    private final long intervalNanos;
    private final int maxRecordsPerReport;
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final Set<String> listenerErrorsLogged = new HashSet<>();
    private volatile boolean running = true;
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
     * @param maxRecordsPerReport failed records kept per distinct error per report
     */
    public Reporter(RingProducerListener listener, Accounting accounting, long intervalNanos, int maxRecordsPerReport) {
        this.listener = listener;
        this.accounting = accounting;
        this.intervalNanos = intervalNanos;
        this.maxRecordsPerReport = maxRecordsPerReport;
    }

    private static final class Failure {
        final FailedRecord record;
        final Throwable cause;

        Failure(FailedRecord record, Throwable cause) {
            this.record = record;
            this.cause = cause;
        }
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
     * Queues a failed record for the next report. Non-blocking, safe on Kafka's I/O thread. The
     * caller has already counted the failure.
     */
    public void recordFailure(FailedRecord record, Throwable cause) {
        failures.add(new Failure(record, cause));
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        while (running) {
            LockSupport.parkNanos(this, intervalNanos);
            reportOnce();
        }
        reportOnce();
    }

    /** Asks the reporter thread to make a last report and stop; waits for it up to the timeout. */
    public void stop(long timeoutNanos) throws InterruptedException {
        running = false;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
        }
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
        if (failures.isEmpty()) {
            return;
        }
        Map<String, Group> groups = new LinkedHashMap<>();
        for (Failure f = failures.poll(); f != null; f = failures.poll()) {
            Group g = groups.get(distinctKey(f.cause));
            if (g == null) {
                g = new Group(f.cause);
                groups.put(distinctKey(f.cause), g);
            }
            g.count++;
            if (g.records.size() < maxRecordsPerReport) {
                g.records.add(f.record);
            }
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

    /** Two errors are the same when their class and message are. */
    static String distinctKey(Throwable t) {
        return t.getClass().getName() + ':' + t.getMessage();
    }
}
