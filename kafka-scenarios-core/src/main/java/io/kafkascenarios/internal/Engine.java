package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kafkascenarios.RingProducerListener;

/**
 * The machinery behind {@code RingProducer}: builds the ring, the flusher, the reporter and their
 * threads, and runs the two protocols that cross threads: flush (a marker in the ring) and close.
 * {@code RingProducer} keeps the API, the argument checks and the publishing hot path.
 *
 * <h2>Close</h2>
 * <ol>
 *   <li>The first closer captures the failures so far, wins the close, and closes the ring, which gives
 *       the close sequence (see {@link Ring}).</li>
 *   <li>It tells the flusher to drain up to that sequence and waits, uninterruptibly, until the
 *       deadline less a reserve (a fifth of it, at most 500 ms). The flusher sends every record up to
 *       the close sequence, then closes the KafkaProducer on its own thread with what is left of the
 *       deadline less the reserve (Kafka aborts what it cannot deliver by then and runs those callbacks
 *       within the reserve), then waits for producers being replaced.</li>
 *   <li>If the flusher is not done by then, the closer abandons the drain: the flusher closes the
 *       producer at once and fails the rest, and the closer waits until the deadline.</li>
 *   <li>The reporter makes its last report; the deadline thread stops taking new deadlines.</li>
 * </ol>
 * Later closers wait, uninterruptibly, for the first one's result up to their own deadline.
 *
 * <p>Threads: built on the builder's thread; {@link #flush}, {@link #close}, {@link #scheduleDeadline},
 * {@link #wakeFlusher} from any caller thread.
 */
public final class Engine {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static final long MARKER_POLL_NANOS = 100_000;
    private static final long MAX_CLOSE_RESERVE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /**
     * What the engine needs from the builder.
     *
     * @param ringSize slots, a power of two
     * @param slotCapacity bytes per slot
     * @param blockWhenFull the on-full policy
     * @param blockTimeoutNanos longest wait of a blocking offer
     * @param maxBatch most slots the flusher takes before it looks at close again
     * @param reportIntervalNanos time between listener reports
     * @param maxReportedFailures failed records held with their bytes between reports
     * @param flusherParkNanos the flusher's first idle park
     * @param flusherMaxParkNanos the flusher's longest idle park
     * @param flusherHotNanos how long the flusher stays runnable after a request's record
     * @param refusalRetryNanos how long a topic or login Kafka refused fails records at once ({@link Refusals})
     * @param listener the listener
     * @param threadFactory the user's thread factory, or null
     * @param clock the clock
     */
    public record Settings(int ringSize, int slotCapacity, boolean blockWhenFull, long blockTimeoutNanos, int maxBatch,
                           long reportIntervalNanos, int maxReportedFailures, long flusherParkNanos,
                           long flusherMaxParkNanos, long flusherHotNanos, long refusalRetryNanos,
                           RingProducerListener listener,
                           ThreadFactory threadFactory, NanoClock clock) {
    }

    private final Accounting accounting = new Accounting();
    private final DeadlineCancels deadlineCancels = new DeadlineCancels();
    private final NanoClock clock;
    private final Ring ring;
    private final Reporter reporter;
    private final Flusher flusher;
    private final EngineThreads threads;
    private final Thread flusherThread;
    private final Thread reporterThread;
    /** The deadline thread, made when the producer is built so that a factory returning null is refused then. */
    private final Handoff deadlineTask = new Handoff();
    private final Thread deadlineThread;
    private volatile ScheduledThreadPoolExecutor deadlines;
    private boolean deadlinesClosed;
    private final AtomicReference<CloseState> close = new AtomicReference<>();

    /**
     * Builds and starts the engine. Closes nothing on failure: the caller closes the first sink.
     *
     * @param s settings
     * @param first the first sink
     * @param sinkFactory makes the next sink after a fatal error
     */
    private final Sinks sinks;

    public Engine(Settings s, RecordSink first, Supplier<RecordSink> sinkFactory) {
        this.clock = s.clock();
        FlusherIdle idle = new FlusherIdle(s.flusherParkNanos(), s.flusherMaxParkNanos(), s.flusherHotNanos(), clock,
                LockSupport::parkNanos);
        this.ring = new Ring(s.ringSize(), s.slotCapacity(), accounting, s.blockWhenFull(), s.blockTimeoutNanos(),
                idle, clock);
        this.reporter = new Reporter(s.listener(), accounting, s.reportIntervalNanos(), s.maxReportedFailures());
        this.threads = new EngineThreads(s.threadFactory());
        this.sinks = new Sinks(first, sinkFactory, accounting, threads, clock);
        Outcomes outcomes = new Outcomes(accounting, reporter, sinks, new Refusals(s.refusalRetryNanos(), clock));
        this.flusher = new Flusher(ring, sinks, outcomes, idle, reporter, clock, s.maxBatch());
        this.reporterThread = threads.requireThread(EngineThreads.Role.REPORTER, reporter);
        this.flusherThread = threads.requireThread(EngineThreads.Role.FLUSHER, flusher);
        this.deadlineThread = threads.requireThread(EngineThreads.Role.DEADLINES, deadlineTask);
        reporter.runsOn(reporterThread);
        reporterThread.start();
        try {
            flusherThread.start();
        } catch (Throwable t) {
            // Out of native threads: stop the reporter, then let the builder close the sink.
            reporter.flusherStopped();
            reporter.stop(0);
            throw t;
        }
    }

    /** @return Kafka's connections from the current producer now, or -1 if it cannot tell. Any thread. */
    public int connections() {
        return sinks.current().connections();
    }

    /** @return the ring (the publishing door) */
    public Ring ring() {
        return ring;
    }

    /** @return where completed futures leave their deadlines to be cancelled */
    public DeadlineCancels deadlineCancels() {
        return deadlineCancels;
    }

    /** @return the counters */
    public Accounting accounting() {
        return accounting;
    }

    /** @return the clock */
    public NanoClock clock() {
        return clock;
    }

    /** Any thread: wakes the flusher if it is parked (a request waits for its record). */
    public void wakeFlusher() {
        LockSupport.unpark(flusherThread);
    }

    /**
     * Schedules a future's deadline. The deadline thread starts on the first call: telemetry-only users
     * never pay for it.
     *
     * @param onDeadline run at the deadline
     * @param delayNanos from now
     * @return the scheduled task, or null once close has finished (a record committed then is failed
     *         by the flusher, which completes its future)
     */
    public Future<?> scheduleDeadline(Runnable onDeadline, long delayNanos) {
        ScheduledThreadPoolExecutor d = deadlines;
        if (d == null) {
            d = startDeadlines();
            if (d == null) {
                return null;
            }
        }
        try {
            deadlineCancels.drain(); // this thread takes the scheduler's lock anyway; see DeadlineCancels
            return d.schedule(onDeadline, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closedMeanwhile) {
            return null;
        } catch (Throwable t) {
            // Out of memory, most likely. The record is already in the ring: its future still completes
            // with Kafka's outcome (by delivery.timeout.ms), only not by this deadline. Say so.
            LOG.error("a send() deadline could not be scheduled; that future completes with Kafka's outcome", t);
            return null;
        }
    }

    private synchronized ScheduledThreadPoolExecutor startDeadlines() {
        ScheduledThreadPoolExecutor d = deadlines;
        if (d == null && !deadlinesClosed) {
            d = new ScheduledThreadPoolExecutor(1, this::deadlineThread);
            // An ack cancels its deadline on Kafka's I/O thread: without remove-on-cancel that is a CAS,
            // not the executor's queue lock. The deadline thread purges cancelled tasks.
            d.setRemoveOnCancelPolicy(false);
            d.scheduleWithFixedDelay(d::purge, 100, 100, TimeUnit.MILLISECONDS);
            deadlines = d;
        }
        return d;
    }

    /** The executor's thread factory: the thread made at build first, the user's factory if it ever needs another. */
    private Thread deadlineThread(Runnable worker) {
        if (deadlineTask.take(worker)) {
            return deadlineThread;
        }
        return threads.newThread(EngineThreads.Role.DEADLINES, worker);
    }

    private synchronized void stopDeadlines() {
        deadlinesClosed = true;
        ScheduledThreadPoolExecutor d = deadlines;
        if (d != null) {
            // Pending deadlines still fire; the periodic purge stops, and so does the thread.
            d.shutdown();
        }
    }

    /**
     * Waits until every record committed before this call has its outcome, or the timeout passes.
     *
     * @param timeoutNanos longest wait
     * @return true if all of them are delivered or failed; false on timeout, interrupt (status kept),
     *         a failed Kafka flush, or a close that abandoned them
     */
    public boolean flush(long timeoutNanos) {
        long start = clock.nanoTime();
        if (!ring.isClosed()) {
            long sequence = ring.claimWaiting(start, timeoutNanos, 0);
            if (sequence >= 0) {
                return awaitMarker(sequence, start, timeoutNanos);
            }
        }
        return ring.isClosed() && pending() == 0;
    }

    private boolean awaitMarker(long sequence, long start, long timeoutNanos) {
        accounting.nonRecords.increment();
        ring.slot(sequence).setFlushMarker();
        ring.commit(sequence);
        LockSupport.unpark(flusherThread);
        while (flusher.markerDone() < sequence) {
            if (flusher.isDone() || Thread.currentThread().isInterrupted()
                    || clock.nanoTime() - start >= timeoutNanos) {
                return false;
            }
            LockSupport.parkNanos(this, MARKER_POLL_NANOS);
        }
        return flusher.markerFlushed() >= sequence;
    }

    /** @return records offered and not yet delivered, discarded or failed */
    public long pending() {
        long delivered = accounting.delivered.sum();
        long failed = accounting.failed.sum();
        long withdrawn = accounting.withdrawn.sum();
        long nonRecords = accounting.nonRecords.sum();
        return ring.cursor() + 1 - nonRecords - delivered - failed - withdrawn;
    }

    /** One close, its "failed before" baseline captured before the ring closed, and its result. */
    private static final class CloseState {
        final long failedBefore;
        final CompletableFuture<Long> result = new CompletableFuture<>();

        CloseState(long failedBefore) {
            this.failedBefore = failedBefore;
        }
    }

    /**
     * Closes; see the class comment. An interrupt does not shorten it; the status is kept.
     *
     * @param timeoutNanos the deadline
     * @return records pending when close started (or committed during it) that were not delivered
     */
    public long close(long timeoutNanos) {
        long start = clock.nanoTime();
        CloseState mine = new CloseState(accounting.failed.sum());
        CloseState first = close.compareAndExchange(null, mine);
        if (first == null) {
            long result = doClose(mine, start, timeoutNanos);
            mine.result.complete(result);
            return result;
        }
        boolean interrupted = false;
        try {
            while (true) {
                long left = timeoutNanos - (clock.nanoTime() - start);
                try {
                    return first.result.get(Math.max(0, left), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (TimeoutException e) {
                    return notDelivered(first);
                } catch (ExecutionException e) {
                    throw new IllegalStateException("close failed", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private long doClose(CloseState state, long start, long timeoutNanos) {
        long reserve = Math.min(timeoutNanos / 5, MAX_CLOSE_RESERVE_NANOS);
        try {
            long closeSequence = ring.close();
            flusher.drain(closeSequence, start, timeoutNanos, reserve);
            LockSupport.unpark(flusherThread);
            boolean done = flusher.awaitDone(start, timeoutNanos - reserve);
            if (!done) {
                flusher.abandon(new java.util.concurrent.TimeoutException("RingProducer.close("
                        + Duration.ofNanos(timeoutNanos) + ") ran out of time before this record was sent"),
                        flusherThread);
                done = flusher.awaitDone(start, timeoutNanos);
            }
            if (!done) {
                LOG.error("the flusher thread {} did not finish within the close deadline; it fails what is left"
                        + " up to the close sequence when it gets there", flusherThread.getName());
            }
            // Callers that found the ring full when it closed leave within a park, counting nothing;
            // once they are gone, the last report sees every counter's final value.
            // Its parks would return at once while this thread's interrupt status is set: keep it aside.
            boolean interrupted = Thread.interrupted();
            try {
                ring.awaitWaitersGone(start, timeoutNanos);
                ring.awaitLateClaimsAborted(closeSequence, start, timeoutNanos);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            reporter.stop(Math.max(0, timeoutNanos - (clock.nanoTime() - start)));
        } finally {
            stopDeadlines();
        }
        long notDelivered = notDelivered(state);
        if (notDelivered > 0) {
            LOG.warn("RingProducer closed with {} record(s) not delivered; pending {}", notDelivered, pending());
        }
        return notDelivered;
    }

    private long notDelivered(CloseState state) {
        return accounting.failed.sum() - state.failedBefore + Math.max(0, pending());
    }

    /** The deadline thread's task: the executor's worker, handed over when the executor asks for its thread. */
    private static final class Handoff implements Runnable {
        private Runnable worker;

        synchronized boolean take(Runnable w) {
            if (worker != null) {
                return false;
            }
            worker = w;
            return true;
        }

        @Override
        public void run() {
            Runnable w;
            synchronized (this) {
                w = worker;
            }
            w.run();
        }
    }
}
