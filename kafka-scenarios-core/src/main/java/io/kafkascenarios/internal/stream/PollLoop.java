package io.kafkascenarios.internal.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kafkascenarios.stream.Ordering;

/**
 * The consumer loop: owns the {@code KafkaConsumer}, feeds each {@link AssignedPartition} (a
 * {@link PartitionWorker} in offset order, or a {@link ConcurrentPartition} by key or unordered),
 * pauses partitions that hold too much and resumes them, commits their completed offsets, and handles
 * rebalances and shutdown. It owns the processor's pools: the worker pool (unless the user gave an
 * executor) and, for the concurrent orderings, the settler thread.
 *
 * <p>Threads: {@link #run} is the poll thread, the only thread that touches the consumer (rebalance
 * callbacks run inside its {@code poll}). {@link #fail} is called by worker threads, {@link #close} by
 * any thread; both only set flags and {@code wakeup()} the consumer, which is the one consumer method
 * that is safe from another thread.
 */
public final class PollLoop implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(PollLoop.class);
    private static final Duration PAUSED_POLL_TIMEOUT = Duration.ofMillis(5);

    private final StreamSettings settings;
    private final StreamCounters counters;
    private final Consumer<byte[], byte[]> consumer;
    /** The processor's own pool, or null when the user gave an executor. */
    private final ThreadPoolExecutor pool;
    /** Where handler calls (or partition turns) run: the user's executor or {@link #pool}. */
    private final Executor workers;
    /** Settles acknowledgements of the concurrent orderings off Kafka's I/O thread; null for PARTITION. */
    private final ThreadPoolExecutor settler;
    private final HandlerSlots slots;
    private final AtomicInteger turnsWaiting = new AtomicInteger();
    private final Map<TopicPartition, AssignedPartition> partitions = new ConcurrentHashMap<>();
    /** Partitions revoked or lost whose handling had not finished yet. Poll thread. */
    private final Map<TopicPartition, AssignedPartition> retired = new HashMap<>();
    /** Set before the consumer is closed: its own revoke callback then has nothing left to do. Poll thread. */
    private boolean closingConsumer;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CompletableFuture<Void> termination = new CompletableFuture<>();
    private volatile boolean stopping;
    private volatile boolean abandoning;
    private volatile long closeDeadlineNanos;
    private long nextCommitNanos;

    /**
     * @param settings the processor's settings
     * @param counters its counters
     * @param consumer the consumer, created on the caller's thread, used only by {@link #run} from now on
     */
    public PollLoop(StreamSettings settings, StreamCounters counters, Consumer<byte[], byte[]> consumer) {
        this.settings = settings;
        this.counters = counters;
        this.consumer = consumer;
        this.pool = settings.executor() != null ? null : new ThreadPoolExecutor(settings.maxConcurrency(),
                settings.maxConcurrency(), 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), settings.threadFactory());
        this.workers = pool != null ? pool : settings.executor();
        boolean concurrent = settings.ordering() != Ordering.PARTITION;
        this.settler = !concurrent ? null : new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = settings.threadFactory().newThread(r);
                    t.setName(settings.name() + "-settler");
                    return t;
                });
        if (settler != null) {
            // Now, on the caller's thread: started lazily, its thread would be made by whoever hands it
            // the first acknowledgement, Kafka's I/O thread.
            settler.prestartCoreThread();
        }
        this.slots = concurrent ? new HandlerSlots(settings.maxConcurrency()) : null;
    }

    private AssignedPartition newPartition(TopicPartition tp) {
        return switch (settings.ordering()) {
            case PARTITION -> new PartitionWorker(tp, settings, counters, this, workers, turnsWaiting);
            case KEY -> new ConcurrentPartition(tp, settings, counters, this, slots, workers, settler, true);
            case UNORDERED -> new ConcurrentPartition(tp, settings, counters, this, slots, workers, settler, false);
        };
    }

    /** @return completes normally after a close, exceptionally with the reason the processor stopped */
    public CompletableFuture<Void> termination() {
        return termination;
    }

    /** @return the first failure that stopped the processor, or null */
    public Throwable failure() {
        return failure.get();
    }

    /** @return true once close or a failure started the shutdown */
    public boolean stopping() {
        return stopping;
    }

    /** @return true once shutdown gave up waiting for in-flight batches: workers drop them */
    boolean abandoning() {
        return abandoning;
    }

    /** @return the assigned partitions now (a live view; any thread may read) */
    public Collection<AssignedPartition> partitions() {
        return partitions.values();
    }

    /**
     * Stops the processor with a failure. Worker threads; the first failure wins.
     *
     * @param cause why
     */
    void fail(Throwable cause) {
        if (failure.compareAndSet(null, cause)) {
            LOG.error("{}: stopping: {}", settings.name(), cause.toString(), cause);
        }
        requestStop(System.nanoTime() + settings.revokeTimeout().toNanos());
    }

    /**
     * Starts an orderly shutdown. Any thread.
     *
     * @param deadlineNanos {@code System.nanoTime()} by which the loop stops waiting for in-flight batches
     */
    public void close(long deadlineNanos) {
        requestStop(deadlineNanos);
    }

    private synchronized void requestStop(long deadlineNanos) {
        if (!stopping) {
            closeDeadlineNanos = deadlineNanos;
            stopping = true;
            consumer.wakeup(); // once: each wakeup can also break a commit the poll thread is making
        }
    }

    @Override
    public void run() {
        try {
            subscribe();
            nextCommitNanos = System.nanoTime() + settings.commitInterval().toNanos();
            while (!stopping) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    // A paused partition is resumed only between polls: poll briefly while one is, or its
                    // worker would drain its queue and then idle for the rest of a long poll.
                    records = consumer.poll(anyPaused() ? PAUSED_POLL_TIMEOUT : settings.pollTimeout());
                } catch (WakeupException wakeup) {
                    continue; // close() or fail(): the loop condition decides
                }
                dispatch(records);
                resumeDrained();
                long now = System.nanoTime();
                if (now - nextCommitNanos >= 0) {
                    commitCompleted();
                    updateLag();
                    for (AssignedPartition w : partitions.values()) {
                        w.progress().observe(now);
                    }
                    failIfStuck();
                    nextCommitNanos = now + settings.commitInterval().toNanos();
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            LOG.error("{}: the poll loop failed: {}", settings.name(), t.toString(), t);
            stopping = true;
            closeDeadlineNanos = System.nanoTime() + settings.revokeTimeout().toNanos();
        }
        shutdown();
    }

    private void subscribe() {
        ConsumerRebalanceListener listener = new Rebalance();
        if (settings.pattern() != null) {
            consumer.subscribe(settings.pattern(), listener);
        } else {
            consumer.subscribe(settings.topics(), listener);
        }
    }

    private void dispatch(ConsumerRecords<byte[], byte[]> records) {
        for (TopicPartition tp : records.partitions()) {
            AssignedPartition w = partitions.get(tp);
            if (w == null) {
                continue; // not ours any more; never happens with records from the same poll
            }
            w.enqueue(records.records(tp));
        }
        // Per partition, and across the processor: past its limit every partition that holds records pauses.
        boolean overTotal = totalBacklog() >= settings.maxQueuedTotal();
        List<TopicPartition> pause = null;
        for (AssignedPartition w : partitions.values()) {
            int backlog = w.backlog();
            if (!w.progress().paused() && (backlog >= settings.maxQueued() || overTotal && backlog > 0)) {
                if (pause == null) {
                    pause = new ArrayList<>();
                }
                pause.add(w.partition());
                w.progress().paused(true);
            }
        }
        if (pause != null) {
            consumer.pause(pause);
        }
    }

    private long totalBacklog() {
        long total = 0;
        for (AssignedPartition w : partitions.values()) {
            total += w.backlog();
        }
        return total;
    }

    private void resumeDrained() {
        List<TopicPartition> resume = null;
        boolean totalDrained = totalBacklog() <= settings.maxQueuedTotal() / 2;
        for (AssignedPartition w : partitions.values()) {
            if (w.progress().paused() && totalDrained && w.backlog() <= settings.maxQueued() / 2) {
                if (resume == null) {
                    resume = new ArrayList<>();
                }
                resume.add(w.partition());
                w.progress().paused(false);
            }
        }
        if (resume != null) {
            consumer.resume(resume);
        }
    }

    /**
     * A partition assigned back to this instance waits for its old task, which was abandoned on revoke;
     * a handler that never returns (blocked, ignoring interrupts) would leave the partition paused
     * forever while the processor looked healthy. Fail loudly instead. Poll thread.
     */
    private void failIfStuck() {
        long limit = 2 * settings.revokeTimeout().toNanos();
        for (AssignedPartition w : partitions.values()) {
            if (w.stuckBehindPredecessor(limit)) {
                fail(new IllegalStateException(w.partition() + ": a handler call abandoned at a revoke has not returned for "
                        + Duration.ofNanos(limit) + " (it ignores interrupts?); the partition cannot be handled meanwhile"));
                return;
            }
        }
    }

    private boolean anyPaused() {
        for (AssignedPartition w : partitions.values()) {
            if (w.progress().paused()) {
                return true;
            }
        }
        return false;
    }

    private void updateLag() {
        for (AssignedPartition w : partitions.values()) {
            OptionalLong lag = consumer.currentLag(w.partition());
            w.progress().updateLag(lag.isPresent() ? lag.getAsLong() : -1);
        }
    }

    /** Commits every completed offset not yet committed, asynchronously. Poll thread. */
    private void commitCompleted() {
        commit(partitions.values(), false, 0);
    }

    /**
     * @param sync wait for the commit
     * @param deadlineNanos for a synchronous commit, when to stop waiting for it
     */
    private void commit(Collection<AssignedPartition> ws, boolean sync, long deadlineNanos) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, AssignedPartition> byPartition = new HashMap<>();
        for (AssignedPartition w : ws) {
            w.progress().advanceAcknowledged();
            long completed = w.progress().completed();
            if (completed > w.progress().committed()) {
                offsets.put(w.partition(), new OffsetAndMetadata(completed));
                byPartition.put(w.partition(), w);
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            long deadline = deadlineNanos;
            for (int tries = 1; ; tries++) {
                try {
                    consumer.commitSync(offsets, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                    offsets.forEach((tp, o) -> byPartition.get(tp).progress().committed(o.offset()));
                    return;
                } catch (WakeupException e) {
                    // close() or a failure woke the consumer up for the poll loop, not to drop this commit.
                    if (tries == 2 || deadline - System.nanoTime() <= 0) {
                        LOG.warn("{}: commit of {} interrupted twice by wakeups; the next owner redoes them", settings.name(), offsets);
                        return;
                    }
                } catch (RuntimeException e) {
                    // Not committed: the next owner reprocesses from the last commit (duplicates, no loss).
                    LOG.warn("{}: commit of {} failed: {}", settings.name(), offsets, e.toString());
                    return;
                }
            }
        } else {
            consumer.commitAsync(offsets, (committed, e) -> {
                if (e == null) {
                    committed.forEach((tp, o) -> byPartition.get(tp).progress().committed(o.offset()));
                } else {
                    LOG.debug("{}: async commit failed, retried at the next interval: {}", settings.name(), e.toString());
                }
            });
        }
    }

    /** Waits for the workers' in-flight batches up to the deadline; abandons them after it. Poll thread. */
    private void stopWorkers(Collection<AssignedPartition> ws, long deadlineNanos) {
        List<CompletableFuture<Void>> stopped = new ArrayList<>(ws.size());
        for (AssignedPartition w : ws) {
            stopped.add(w.revoke());
        }
        try {
            CompletableFuture.allOf(stopped.toArray(new CompletableFuture<?>[0]))
                    .get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{}: in-flight batches still running after the deadline; abandoning them, their offsets stay uncommitted",
                    settings.name());
            for (AssignedPartition w : ws) {
                w.lose();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (AssignedPartition w : ws) {
                w.lose();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void shutdown() {
        try {
            // Never longer than a revoke may take: the group would expel this member meanwhile.
            long wait = Math.min(closeDeadlineNanos - System.nanoTime(), settings.revokeTimeout().toNanos());
            stopWorkers(partitions.values(), System.nanoTime() + Math.max(0, wait));
            abandoning = true;
            Thread.interrupted(); // a wakeup or interrupt must not fail the final commit
            // Within close's deadline: the poll thread must not stay in the group long after close returned.
            commit(partitions.values(), true, Math.min(closeDeadlineNanos,
                    System.nanoTime() + settings.revokeTimeout().toNanos()));
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            stopPools();
            closingConsumer = true;
            try {
                consumer.close(Duration.ofNanos(Math.max(0, closeDeadlineNanos - System.nanoTime())));
            } catch (Throwable t) {
                LOG.warn("{}: closing the consumer: {}", settings.name(), t.toString());
            }
            if (settings.clientListener() != null) {
                tellUser("the KafkaClientListener", () -> settings.clientListener().consumerClosed(consumer));
            }
            partitions.clear();
            Throwable f = failure.get();
            if (f == null) {
                termination.complete(null);
            } else {
                termination.completeExceptionally(f);
            }
        }
    }

    /**
     * Shuts the processor's own pools down (never the user's executor): tasks not started are dropped,
     * abandoned ones (interrupted) get until the close deadline to leave the handler. Poll thread.
     */
    private void stopPools() {
        if (pool != null) {
            for (Runnable queuedTask : pool.shutdownNow()) {
                ((PoolTask) queuedTask).dropped();
            }
        }
        List<CompletableFuture<Void>> quiet = new ArrayList<>();
        for (AssignedPartition w : partitions.values()) {
            quiet.add(w.quiescent());
        }
        try {
            long left = Math.max(0, closeDeadlineNanos - System.nanoTime());
            if (pool != null) {
                pool.awaitTermination(left, TimeUnit.NANOSECONDS);
            } else {
                CompletableFuture.allOf(quiet.toArray(new CompletableFuture<?>[0])).get(left, TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            LOG.warn("{}: handler calls still running at the close deadline: {}", settings.name(), e.toString());
        }
        if (settler != null) {
            settler.shutdown();
        }
    }

    /** Runs a user's callback on the poll thread; what it throws is logged, never the loop's end. */
    private void tellUser(String who, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("{}: {} threw; ignored: {}", settings.name(), who, e.toString(), e);
        }
    }

    /** Rebalance callbacks: run on the poll thread inside {@code poll}. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            retired.values().removeIf(w -> w.quiescent().isDone());
            for (TopicPartition tp : assigned) {
                AssignedPartition w = newPartition(tp);
                AssignedPartition previous = retired.remove(tp);
                if (previous != null) {
                    w.follow(previous); // back to this instance while its old task still runs: wait for it
                }
                partitions.put(tp, w);
            }
            if (!assigned.isEmpty()) {
                LOG.info("{}: assigned {}", settings.name(), assigned);
            }
            ConsumerRebalanceListener user = settings.rebalanceListener();
            if (user != null) {
                tellUser("the rebalance listener", () -> user.onPartitionsAssigned(assigned));
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (closingConsumer) {
                return; // shutdown() already stopped the workers and committed
            }
            List<AssignedPartition> ws = remove(revoked);
            if (ws.isEmpty()) {
                return;
            }
            ConsumerRebalanceListener user = settings.rebalanceListener();
            if (user != null) {
                tellUser("the rebalance listener", () -> user.onPartitionsRevoked(revoked));
            }
            counters.revocations.increment();
            stopWorkers(ws, System.nanoTime() + settings.revokeTimeout().toNanos());
            commit(ws, true, System.nanoTime() + settings.revokeTimeout().toNanos());
            retire(ws);
            LOG.info("{}: revoked {}", settings.name(), revoked);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            List<AssignedPartition> ws = remove(lost);
            if (ws.isEmpty()) {
                return;
            }
            ConsumerRebalanceListener user = settings.rebalanceListener();
            if (user != null) {
                tellUser("the rebalance listener", () -> user.onPartitionsLost(lost));
            }
            counters.revocations.increment();
            for (AssignedPartition w : ws) {
                w.lose(); // another instance owns them now: no commit, in-flight work dropped
            }
            retire(ws);
            LOG.warn("{}: lost {} without a clean revoke; in-flight work dropped, nothing committed", settings.name(), lost);
        }

        private void retire(List<AssignedPartition> ws) {
            for (AssignedPartition w : ws) {
                if (!w.quiescent().isDone()) {
                    retired.put(w.partition(), w);
                }
            }
        }

        private List<AssignedPartition> remove(Collection<TopicPartition> tps) {
            List<AssignedPartition> ws = new ArrayList<>(tps.size());
            for (TopicPartition tp : tps) {
                AssignedPartition w = partitions.remove(tp);
                if (w != null) {
                    ws.add(w);
                }
            }
            return ws;
        }
    }
}
