package io.kafkascenarios.internal.stream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

import io.kafkascenarios.stream.ProcessingException;

/**
 * One assigned partition handled concurrently: by key (a key's records in offset order, one call at a
 * time per key, different keys at once) or unordered. Fetched records wait here; each handler call
 * takes a unit of them and a {@link HandlerSlots slot}; its outputs go to the producer and the slot is
 * free again while Kafka acknowledges them. Records are done when acknowledged (or dead-lettered or
 * skipped) in any order; the commit point is the contiguous prefix of done records
 * ({@link OffsetWindow}).
 *
 * <p>A unit's first attempt is pipelined (handle, send, release the slot). If it fails, the same task
 * goes on synchronously through {@link Attempts#process} (retries, split, policy) holding its slot; if
 * its outputs fail later, the unit is queued to be redone first, its key still held, so a key's
 * outputs stay in order.
 *
 * <p>Threads: the poll thread enqueues, revokes and loses; handler tasks run on the handler executor;
 * acknowledgements are settled on the processor's settler thread, never on Kafka's I/O thread (which
 * only queues them there). The queues, the window and the counts are guarded by {@code this}, held
 * only for bookkeeping, never while a handler runs or anything blocks.
 */
public final class ConcurrentPartition implements AssignedPartition, WorkerScope {
    private static final Object NO_KEY = new Object();

    private final TopicPartition partition;
    private final StreamSettings settings;
    private final StreamCounters counters;
    private final PollLoop loop;
    private final HandlerSlots slots;
    private final Executor handlers;
    private final Executor settler;
    private final boolean byKey;
    private final PartitionProgress progress = new PartitionProgress();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final AtomicBoolean waitingForSlot = new AtomicBoolean();

    // Guarded by this.
    private final OffsetWindow window = new OffsetWindow();
    /** KEY: each key with records waiting or a call in progress. */
    private final Map<Object, KeyQueue> keys = new HashMap<>();
    /** KEY: keys with records waiting and no call in progress, oldest first. */
    private final ArrayDeque<KeyQueue> readyKeys = new ArrayDeque<>();
    /** UNORDERED: records waiting, in offset order. */
    private final ArrayDeque<ConsumerRecord<byte[], byte[]>> readyRecords = new ArrayDeque<>();
    /** Units whose outputs failed after their call: redone before anything new. */
    private final ArrayDeque<Unit> redo = new ArrayDeque<>();
    /** Threads inside a unit's task now: lose() interrupts them. */
    private final Set<Thread> runners = new HashSet<>();
    /** Units handed to the executor whose task has not ended (queued there included). */
    private int running;
    /** Units whose outputs await acknowledgement. */
    private int awaitingAck;
    private int waitingRecords;

    private volatile int queuedNow;
    private volatile int backlogNow;
    private volatile boolean revoked;
    private volatile boolean lost;
    private final Predecessor predecessor = new Predecessor();

    ConcurrentPartition(TopicPartition partition, StreamSettings settings, StreamCounters counters, PollLoop loop,
                        HandlerSlots slots, Executor handlers, Executor settler, boolean byKey) {
        this.partition = partition;
        this.settings = settings;
        this.counters = counters;
        this.loop = loop;
        this.slots = slots;
        this.handlers = handlers;
        this.settler = settler;
        this.byKey = byKey;
    }

    /** A key's records waiting, and whether one of its calls is in progress. Guarded by the partition. */
    private static final class KeyQueue {
        final Object key;
        final ArrayDeque<ConsumerRecord<byte[], byte[]>> records = new ArrayDeque<>();
        boolean busy;

        KeyQueue(Object key) {
            this.key = key;
        }
    }

    /**
     * Records of one handler call: one key's in offset order (KEY), or any (UNORDERED).
     *
     * @param records offsets ascending
     * @param key the key's queue, null when unordered
     * @param redoAfter how the outputs of the call before failed, or null for a first attempt
     */
    private record Unit(List<ConsumerRecord<byte[], byte[]>> records, KeyQueue key, Throwable redoAfter) {
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
    public int queued() {
        return queuedNow;
    }

    @Override
    public int backlog() {
        return backlogNow;
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
        synchronized (this) {
            boolean moved = false;
            for (ConsumerRecord<byte[], byte[]> r : records) {
                moved |= window.markDone(r.offset());
            }
            if (moved) {
                progress.done(window.committable());
                backlogNow = window.size();
            }
        }
    }

    @Override
    public void enqueue(List<ConsumerRecord<byte[], byte[]>> records) {
        progress.fetched(records.get(0).offset(), records.get(records.size() - 1).offset());
        synchronized (this) {
            for (ConsumerRecord<byte[], byte[]> r : records) {
                window.add(r.offset());
                if (byKey) {
                    Object k = r.key() == null ? NO_KEY : new Bytes(r.key());
                    KeyQueue q = keys.computeIfAbsent(k, KeyQueue::new);
                    if (!q.busy && q.records.isEmpty()) {
                        readyKeys.add(q);
                    }
                    q.records.add(r);
                } else {
                    readyRecords.add(r);
                }
            }
            waitingRecords += records.size();
            queuedNow = waitingRecords;
            backlogNow = window.size();
        }
        pump();
    }

    /** A slot freed while this partition waited for one. Any thread. */
    void slotFreed() {
        waitingForSlot.set(false);
        pump();
    }

    /** Starts calls while there are records to hand over and slots to take. Any of the processor's threads. */
    private void pump() {
        List<Unit> start = null;
        synchronized (this) {
            while (!winding() && predecessor.done() && (!redo.isEmpty() || hasReady())) {
                if (!slots.tryAcquire()) {
                    if (waitingForSlot.compareAndSet(false, true)) {
                        slots.await(this);
                    }
                    if (!slots.tryAcquire()) {
                        break; // queued: the next release pumps this partition
                    }
                }
                Unit u = redo.isEmpty() ? take() : redo.poll();
                running++;
                if (start == null) {
                    start = new ArrayList<>();
                }
                start.add(u);
            }
            queuedNow = waitingRecords;
        }
        if (start != null) {
            for (Unit u : start) {
                execute(u);
            }
        }
    }

    private boolean hasReady() {
        return byKey ? !readyKeys.isEmpty() : !readyRecords.isEmpty();
    }

    /** The next unit of waiting records. Guarded by this. */
    private Unit take() {
        if (byKey) {
            KeyQueue q = readyKeys.poll();
            List<ConsumerRecord<byte[], byte[]>> records = drain(q.records, settings.maxBatch());
            q.busy = true;
            return new Unit(records, q, null);
        }
        // Small units while records are few, so that every slot is busy; bigger ones under load.
        int size = Math.max(1, Math.min(settings.maxBatch(), waitingRecords / settings.maxConcurrency()));
        return new Unit(drain(readyRecords, size), null, null);
    }

    private List<ConsumerRecord<byte[], byte[]>> drain(ArrayDeque<ConsumerRecord<byte[], byte[]>> from, int max) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(Math.min(max, from.size()));
        ConsumerRecord<byte[], byte[]> r;
        while (records.size() < max && (r = from.poll()) != null) {
            records.add(r);
        }
        waitingRecords -= records.size();
        return records;
    }

    private void execute(Unit u) {
        try {
            handlers.execute(new Call(u));
        } catch (RuntimeException e) { // RejectedExecutionException, or whatever a user's executor throws
            ended(u, false, true);
            if (!winding()) {
                loop.fail(new IllegalStateException(partition + ": the handler executor refused a call; the processor cannot go on", e));
            }
        }
    }

    /** One handler call's task on the handler executor. */
    private final class Call implements PoolTask {
        private final Unit unit;

        Call(Unit unit) {
            this.unit = unit;
        }

        @Override
        public void dropped() {
            ended(unit, false, true);
        }

        @Override
        public void run() {
            Thread me = Thread.currentThread();
            synchronized (ConcurrentPartition.this) {
                if (winding()) {
                    me = null; // revoked, lost or closing before it began: no new work, its records stay uncommitted
                } else {
                    runners.add(me);
                }
            }
            if (me == null) {
                ended(unit, false, true);
                return;
            }
            boolean slotHeld = true;
            boolean keyDone = false;
            try {
                Attempts attempts = new Attempts(partition, settings, counters, ConcurrentPartition.this);
                if (unit.redoAfter() != null) {
                    keyDone = attempts.process(unit.records(), 1, unit.redoAfter());
                    return;
                }
                Attempts.InFlight handled;
                try {
                    handled = attempts.handleAndSend(unit.records());
                } catch (Throwable t) {
                    Throwable failure = attempts.abandonedOr(t);
                    if (failure == Attempts.ABANDONED) {
                        return;
                    }
                    if (failure instanceof Error) {
                        attempts.stop(unit.records().get(0), 1, failure);
                        return;
                    }
                    keyDone = attempts.process(unit.records(), 1, failure); // outputRejected is already set
                    return;
                }
                synchronized (ConcurrentPartition.this) {
                    awaitingAck++; // before running drops: a revoke never sees both at zero in between
                }
                slotHeld = false;
                slots.release(); // another call may start while Kafka acknowledges this one's outputs
                handled.acked().whenCompleteAsync((v, e) -> settle(unit, attempts, handled, e), settler);
            } catch (Throwable bug) {
                // A bug of ours, not the handler's (those are caught per attempt): stop loudly.
                if (!abandoned()) {
                    loop.fail(new ProcessingException(partition, unit.records().get(0).offset(), 0, bug));
                }
            } finally {
                synchronized (ConcurrentPartition.this) {
                    runners.remove(me);
                    Thread.interrupted(); // a lose() just before this point must not hit the thread's next task
                }
                ended(unit, keyDone, slotHeld);
            }
        }
    }

    /**
     * A unit's task ended. Any thread.
     *
     * @param keyDone its records are all done: its key may go on
     * @param slotHeld it still holds its slot
     */
    private void ended(Unit u, boolean keyDone, boolean slotHeld) {
        synchronized (this) {
            running--;
            if (keyDone) {
                release(u.key());
            }
        }
        if (slotHeld) {
            slots.release();
        }
        settled();
    }

    /** Settler thread: {@link #acknowledged}, loudly: a failure here would otherwise vanish in the future. */
    private void settle(Unit u, Attempts attempts, Attempts.InFlight handled, Throwable failure) {
        try {
            acknowledged(u, attempts, handled, failure);
        } catch (Throwable bug) {
            loop.fail(new ProcessingException(partition, u.records().get(0).offset(), 0, bug));
        }
    }

    /** Settler thread: the outputs of a unit's first attempt were acknowledged, or failed. */
    private void acknowledged(Unit u, Attempts attempts, Attempts.InFlight handled, Throwable failure) {
        if (failure instanceof CompletionException && failure.getCause() != null) {
            failure = failure.getCause();
        }
        if (failure == null) {
            attempts.acknowledged(handled);
        }
        synchronized (this) {
            awaitingAck--;
            if (failure == null) {
                release(u.key());
            } else if (!abandoned()) {
                redo.add(new Unit(u.records(), u.key(), new Attempts.OutputFailed(failure)));
            }
        }
        settled();
    }

    /** The key's call is over: its next records may go. Guarded by this. */
    private void release(KeyQueue q) {
        if (q == null) {
            return;
        }
        q.busy = false;
        if (!q.records.isEmpty()) {
            readyKeys.add(q);
        } else {
            keys.remove(q.key);
        }
    }

    /** Something in progress ended: report stopped if that was the last, else start what may start. */
    private void settled() {
        boolean over;
        synchronized (this) {
            over = (revoked || lost) && running == 0 && (awaitingAck == 0 || abandoned());
        }
        if (over) {
            stopped.complete(null); // outside the lock: a successor's pump runs on as a dependent
            return;
        }
        pump();
    }

    @Override
    public void follow(AssignedPartition previous) {
        predecessor.follow(previous, this::pump);
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
        synchronized (this) {
            for (Thread t : runners) {
                LockSupport.unpark(t); // a call parked in a retry backoff sees the revoke now, not after it
            }
        }
        settled();
        return stopped;
    }

    @Override
    public void lose() {
        lost = true;
        revoked = true;
        synchronized (this) {
            for (Thread t : runners) {
                t.interrupt();
            }
        }
        settled();
    }

    /** A key's bytes as a map key. */
    private record Bytes(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Bytes b && Arrays.equals(bytes, b.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Bytes[" + bytes.length + "]";
        }
    }
}
