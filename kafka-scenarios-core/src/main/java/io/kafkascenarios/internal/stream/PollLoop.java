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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * The consumer loop: owns the {@code KafkaConsumer}, feeds each assigned partition's
 * {@link PartitionWorker}, pauses partitions whose queue is full and resumes them, commits the
 * workers' completed offsets, and handles rebalances and shutdown.
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
    private final ThreadPoolExecutor workers;
    private final Map<TopicPartition, PartitionWorker> partitions = new ConcurrentHashMap<>();
    /** Workers of partitions revoked or lost whose last task had not finished yet. Poll thread. */
    private final Map<TopicPartition, PartitionWorker> retired = new HashMap<>();
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
        this.workers = new ThreadPoolExecutor(settings.workerThreads(), settings.workerThreads(), 0,
                TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), settings.threadFactory());
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

    /** @return the assigned partitions' workers now (a live view; any thread may read) */
    public Collection<PartitionWorker> partitions() {
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
                    commitCompleted(false);
                    updateLag();
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
            PartitionWorker w = partitions.get(tp);
            if (w == null) {
                continue; // not ours any more; never happens with records from the same poll
            }
            w.enqueue(records.records(tp));
            if (!w.progress().paused() && w.queued() >= settings.maxQueued()) {
                consumer.pause(List.of(tp));
                w.progress().paused(true);
            }
        }
    }

    private void resumeDrained() {
        List<TopicPartition> resume = null;
        for (PartitionWorker w : partitions.values()) {
            if (w.progress().paused() && w.queued() <= settings.maxQueued() / 2) {
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
        for (PartitionWorker w : partitions.values()) {
            if (w.stuckBehindPredecessor(limit)) {
                fail(new IllegalStateException(w.partition() + ": a handler call abandoned at a revoke has not returned for "
                        + Duration.ofNanos(limit) + " (it ignores interrupts?); the partition cannot be handled meanwhile"));
                return;
            }
        }
    }

    private boolean anyPaused() {
        for (PartitionWorker w : partitions.values()) {
            if (w.progress().paused()) {
                return true;
            }
        }
        return false;
    }

    private void updateLag() {
        for (PartitionWorker w : partitions.values()) {
            OptionalLong lag = consumer.currentLag(w.partition());
            w.progress().updateLag(lag.isPresent() ? lag.getAsLong() : -1);
        }
    }

    /** Commits every completed offset not yet committed. Poll thread. */
    private void commitCompleted(boolean sync) {
        commit(partitions.values(), sync);
    }

    private void commit(Collection<PartitionWorker> ws, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, PartitionWorker> byPartition = new HashMap<>();
        for (PartitionWorker w : ws) {
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
            long deadline = System.nanoTime() + settings.revokeTimeout().toNanos();
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
    private void stopWorkers(Collection<PartitionWorker> ws, long deadlineNanos) {
        List<CompletableFuture<Void>> stopped = new ArrayList<>(ws.size());
        for (PartitionWorker w : ws) {
            stopped.add(w.revoke());
        }
        try {
            CompletableFuture.allOf(stopped.toArray(new CompletableFuture<?>[0]))
                    .get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{}: in-flight batches still running after the deadline; abandoning them, their offsets stay uncommitted",
                    settings.name());
            for (PartitionWorker w : ws) {
                w.lose();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (PartitionWorker w : ws) {
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
            commitCompleted(true);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            for (Runnable queuedTask : workers.shutdownNow()) {
                ((PartitionWorker) queuedTask).dropped();
            }
            try {
                // Abandoned tasks were interrupted: give them until the deadline to leave the handler.
                workers.awaitTermination(Math.max(0, closeDeadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            closingConsumer = true;
            try {
                consumer.close(Duration.ofNanos(Math.max(0, closeDeadlineNanos - System.nanoTime())));
            } catch (Throwable t) {
                LOG.warn("{}: closing the consumer: {}", settings.name(), t.toString());
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

    /** Rebalance callbacks: run on the poll thread inside {@code poll}. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            retired.values().removeIf(w -> w.quiescent().isDone());
            for (TopicPartition tp : assigned) {
                PartitionWorker w = new PartitionWorker(tp, settings, counters, PollLoop.this, workers);
                PartitionWorker previous = retired.remove(tp);
                if (previous != null) {
                    w.follow(previous); // back to this instance while its old task still runs: wait for it
                }
                partitions.put(tp, w);
            }
            if (!assigned.isEmpty()) {
                LOG.info("{}: assigned {}", settings.name(), assigned);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (closingConsumer) {
                return; // shutdown() already stopped the workers and committed
            }
            List<PartitionWorker> ws = remove(revoked);
            if (ws.isEmpty()) {
                return;
            }
            counters.revocations.increment();
            stopWorkers(ws, System.nanoTime() + settings.revokeTimeout().toNanos());
            commit(ws, true);
            retire(ws);
            LOG.info("{}: revoked {}", settings.name(), revoked);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            List<PartitionWorker> ws = remove(lost);
            if (ws.isEmpty()) {
                return;
            }
            counters.revocations.increment();
            for (PartitionWorker w : ws) {
                w.lose(); // another instance owns them now: no commit, in-flight work dropped
            }
            retire(ws);
            LOG.warn("{}: lost {} without a clean revoke; in-flight work dropped, nothing committed", settings.name(), lost);
        }

        private void retire(List<PartitionWorker> ws) {
            for (PartitionWorker w : ws) {
                if (!w.quiescent().isDone()) {
                    retired.put(w.partition(), w);
                }
            }
        }

        private List<PartitionWorker> remove(Collection<TopicPartition> tps) {
            List<PartitionWorker> ws = new ArrayList<>(tps.size());
            for (TopicPartition tp : tps) {
                PartitionWorker w = partitions.remove(tp);
                if (w != null) {
                    ws.add(w);
                }
            }
            return ws;
        }
    }
}
