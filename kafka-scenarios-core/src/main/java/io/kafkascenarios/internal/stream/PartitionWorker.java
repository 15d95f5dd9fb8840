package io.kafkascenarios.internal.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

import io.kafkascenarios.stream.ProcessingException;

/**
 * One assigned partition on the worker pool: its queue of fetched records, its turns on the pool and
 * its lifecycle (follow a predecessor, revoke, lose). Runs as a task while it has work, so a partition
 * is never handled on two threads at once and an idle partition holds no thread. What a turn does with
 * a batch is the {@link Pipeline}'s (in flight) and the {@link Attempts}' (handle, retry, policy);
 * how far the partition is, is its {@link PartitionProgress}.
 *
 * <p>Threads: {@link #enqueue}, {@link #follow}, {@link #revoke}, {@link #lose} on the poll thread;
 * {@link #run} on a worker thread; the getters from any thread.
 */
public final class PartitionWorker implements Runnable, WorkerScope {
    private final TopicPartition partition;
    private final PollLoop loop;
    private final ThreadPoolExecutor executor;
    private final int maxBatch;
    private final PartitionProgress progress = new PartitionProgress();
    private final Pipeline pipeline;
    private final ConcurrentLinkedQueue<ConsumerRecord<byte[], byte[]>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private volatile boolean revoked;
    private volatile boolean lost;
    /** The thread running this worker's task; guarded by {@code this} so that lose() never interrupts its next task. */
    private Thread runner;
    /** Set before the first enqueue (poll thread), read by whoever schedules. */
    private volatile CompletableFuture<Void> predecessor;
    private volatile long followingSinceNanos;

    PartitionWorker(TopicPartition partition, StreamSettings settings, StreamCounters counters, PollLoop loop,
                    ThreadPoolExecutor executor) {
        this.partition = partition;
        this.loop = loop;
        this.executor = executor;
        this.maxBatch = settings.maxBatch();
        this.pipeline = new Pipeline(new Attempts(partition, settings, counters, progress, this), this,
                settings.maxInFlightBatches());
    }

    /** @return the partition */
    public TopicPartition partition() {
        return partition;
    }

    /** @return how far the partition is */
    public PartitionProgress progress() {
        return progress;
    }

    @Override
    public boolean abandoned() {
        return lost || loop.abandoning();
    }

    @Override
    public boolean winding() {
        return revoked || lost || loop.stopping();
    }

    @Override
    public void fail(ProcessingException e) {
        loop.fail(e);
    }

    /** @return records fetched and not yet handled */
    public int queued() {
        return queued.get();
    }

    /** Poll thread: hands fetched records over, in offset order. */
    void enqueue(List<ConsumerRecord<byte[], byte[]>> records) {
        progress.fetched(records.get(0).offset(), records.get(records.size() - 1).offset());
        queued.addAndGet(records.size()); // before the records are visible: a running task may take them at once
        queue.addAll(records);
        schedule();
    }

    private void schedule() {
        if (!revoked && !lost && predecessorDone() && scheduled.compareAndSet(false, true)) {
            submit();
        }
    }

    /** Queues this task (scheduled is already true). */
    private void submit() {
        try {
            executor.execute(this);
        } catch (RejectedExecutionException shutDown) {
            dropped();
        }
    }

    /** The pool shut down with this task queued and not started: nothing is in progress. Any thread. */
    void dropped() {
        scheduled.set(false);
        stopped.complete(null);
    }

    /**
     * Poll thread, before the first {@link #enqueue}: the worker this instance had for the same partition
     * before (revoked, then assigned back) and that may still be finishing; this one starts only after
     * it stopped, so a partition is never handled on two threads.
     */
    void follow(PartitionWorker previous) {
        followingSinceNanos = System.nanoTime();
        predecessor = previous.quiescent();
        predecessor.whenComplete((v, e) -> schedule());
    }

    /**
     * @param limitNanos how long a predecessor may take
     * @return true if this worker has waited longer than that for its predecessor's handler to return
     */
    boolean stuckBehindPredecessor(long limitNanos) {
        CompletableFuture<Void> p = predecessor;
        return p != null && !p.isDone() && System.nanoTime() - followingSinceNanos > limitNanos;
    }

    /**
     * @return completes once neither this worker nor any predecessor it follows runs: what a later
     *         worker for the partition must wait for (this one may be stopped without ever having run
     *         while its predecessor still does)
     */
    CompletableFuture<Void> quiescent() {
        CompletableFuture<Void> p = predecessor;
        return p == null ? stopped : CompletableFuture.allOf(stopped, p);
    }

    private boolean predecessorDone() {
        CompletableFuture<Void> p = predecessor;
        return p == null || p.isDone();
    }

    /** @return completes once no task of this worker runs or will run */
    CompletableFuture<Void> stopped() {
        return stopped;
    }

    /**
     * Poll thread: take no new batch; the batch in progress finishes (its outputs are awaited).
     *
     * @return completes when no batch is in progress any more
     */
    CompletableFuture<Void> revoke() {
        revoked = true;
        // Idle (not scheduled): claim it so no run starts, and report it stopped. Otherwise the
        // running task reports when it exits (it re-reads the flag after clearing scheduled).
        if (scheduled.compareAndSet(false, true)) {
            scheduled.set(false);
            stopped.complete(null);
        }
        synchronized (this) {
            LockSupport.unpark(runner);
        }
        return stopped;
    }

    /** Poll thread: the partition is gone (lost, or the revoke wait ran out): abandon what is in progress. */
    void lose() {
        lost = true;
        revoke();
        synchronized (this) {
            if (runner != null) {
                runner.interrupt();
            }
        }
    }

    @Override
    public void run() {
        synchronized (this) {
            runner = Thread.currentThread();
        }
        boolean yielded = false;
        try {
            boolean go = true;
            while (go && !winding()) {
                go = pipeline.settle(false);
                if (!go) {
                    break;
                }
                if (pipeline.full()) {
                    go = pipeline.settle(true);
                    continue;
                }
                List<ConsumerRecord<byte[], byte[]>> batch = take();
                if (batch.isEmpty()) {
                    break;
                }
                go = pipeline.dispatch(batch);
                if (go && !revoked && !loop.stopping() && !executor.getQueue().isEmpty()) {
                    // Other partitions wait for a thread: one batch per turn, so that more busy partitions
                    // than threads all progress. What is in flight stays in flight across turns.
                    yielded = true;
                    break;
                }
            }
            // Revoked, closing, or out of records: what is in flight is finished before the partition is
            // released (a lost partition or an abandoned close drops it instead).
            while (!yielded && go && !pipeline.isEmpty() && !abandoned()) {
                go = pipeline.settle(true);
            }
        } catch (Throwable t) {
            // A bug of ours, not the handler's (those are caught per attempt): stop loudly, never a zombie.
            yielded = false;
            if (!abandoned()) {
                loop.fail(new ProcessingException(partition, progress.completed(), 0, t));
            }
        } finally {
            synchronized (this) {
                runner = null;
                Thread.interrupted(); // a lose() just before this point must not hit this thread's next task
            }
            if (yielded && !lost) {
                // Still scheduled: back to the end of the pool's queue. A revoke or close meanwhile is
                // seen by that turn, which settles what is in flight before reporting stopped.
                submit();
            } else {
                pipeline.clear();
                scheduled.set(false);
                if (revoked || lost || loop.stopping()) {
                    stopped.complete(null);
                } else if (!queue.isEmpty()) {
                    schedule();
                }
            }
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> take() {
        List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>(Math.max(0, Math.min(queued.get(), maxBatch)));
        ConsumerRecord<byte[], byte[]> r;
        while (batch.size() < maxBatch && (r = queue.poll()) != null) {
            batch.add(r);
        }
        queued.addAndGet(-batch.size());
        return batch;
    }
}
