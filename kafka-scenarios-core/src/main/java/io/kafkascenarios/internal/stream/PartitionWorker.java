package io.kafkascenarios.internal.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
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
public final class PartitionWorker implements PoolTask, WorkerScope, AssignedPartition {
    private final TopicPartition partition;
    private final PollLoop loop;
    private final Executor executor;
    /** Partition turns queued on the executor and not started yet, across the processor. */
    private final AtomicInteger turnsWaiting;
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
    private final Predecessor predecessor = new Predecessor();

    PartitionWorker(TopicPartition partition, StreamSettings settings, StreamCounters counters, PollLoop loop,
                    Executor executor, AtomicInteger turnsWaiting) {
        this.partition = partition;
        this.loop = loop;
        this.executor = executor;
        this.turnsWaiting = turnsWaiting;
        this.maxBatch = settings.maxBatch();
        this.pipeline = new Pipeline(new Attempts(partition, settings, counters, this), this, progress,
                settings.maxInFlightBatches());
    }

    @Override
    public TopicPartition partition() {
        return partition;
    }

    @Override
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

    @Override
    public void done(List<ConsumerRecord<byte[], byte[]>> records) {
        progress.done(records.get(records.size() - 1).offset() + 1); // in order: the last one moves the point
    }

    @Override
    public int queued() {
        return queued.get();
    }

    @Override
    public int backlog() {
        return queued.get(); // what is in flight is bounded apart, by maxInFlightBatches
    }

    @Override
    public void enqueue(List<ConsumerRecord<byte[], byte[]>> records) {
        progress.fetched(records.get(0).offset(), records.get(records.size() - 1).offset());
        queued.addAndGet(records.size()); // before the records are visible: a running task may take them at once
        queue.addAll(records);
        schedule();
    }

    private void schedule() {
        if (!revoked && !lost && predecessor.done() && scheduled.compareAndSet(false, true)) {
            submit();
        }
    }

    /** Queues this task (scheduled is already true). */
    private void submit() {
        turnsWaiting.incrementAndGet();
        try {
            executor.execute(this);
        } catch (RejectedExecutionException shutDown) {
            turnsWaiting.decrementAndGet();
            dropped();
        }
    }

    @Override
    public void dropped() {
        scheduled.set(false);
        stopped.complete(null);
    }

    @Override
    public void follow(AssignedPartition previous) {
        predecessor.follow(previous, this::schedule);
    }

    @Override
    public boolean stuckBehindPredecessor(long limitNanos) {
        return predecessor.stuck(limitNanos);
    }

    @Override
    public CompletableFuture<Void> quiescent() {
        return predecessor.and(stopped);
    }

    @Override
    public CompletableFuture<Void> revoke() {
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

    @Override
    public void lose() {
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
        turnsWaiting.decrementAndGet();
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
                if (go && !revoked && !loop.stopping() && turnsWaiting.get() > 0) {
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
