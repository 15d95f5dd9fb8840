package io.kafkascenarios.internal.stream;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * How far one assigned partition is: what is done (the worker moves it), what is committed, fetched,
 * lagging and paused (the poll thread moves those). Everything a health snapshot or a commit reads.
 *
 * <p>Threads: {@link #done} and {@link #awaiting} on the thread that handles the partition (done also
 * on the settler, for the concurrent orderings); the rest of the writers on the poll thread; the
 * getters from any thread. The commit point only moves forward, whoever moves it.
 */
public final class PartitionProgress {
    private static final AtomicLongFieldUpdater<PartitionProgress> COMPLETED =
            AtomicLongFieldUpdater.newUpdater(PartitionProgress.class, "completed");
    /** The next offset to commit: every record before it is done. -1 until the first batch is done. */
    private volatile long completed = -1;
    /**
     * Batches whose outputs were handed to the producer, oldest first, with the offset after each: the
     * poll thread moves the commit point over those acknowledged without waiting for the worker to come
     * back to them (it may be busy handling, or waiting for its next turn).
     */
    private final ConcurrentLinkedQueue<Awaiting> awaiting = new ConcurrentLinkedQueue<>();
    /** The last offset committed for this partition, -1 if none by this instance. */
    private volatile long committed = -1;
    /** Records after what is completed up to the partition's end, -1 if unknown. */
    private volatile long lag = -1;
    /** Whether fetching is paused for backpressure. */
    private volatile boolean paused;
    /** The first offset fetched, -1 before any. Poll thread. */
    private long firstFetched = -1;
    /** One past the last offset fetched, -1 before any. Poll thread. */
    private volatile long fetchedUpTo = -1;
    /** Since when the partition holds records and its commit point has not moved; 0 while it does not. */
    private volatile long stalledSinceNanos;
    /** The commit point when {@link #observe} last saw it. Poll thread. */
    private long observedCompleted = -1;

    /** @return the next offset to commit, or -1 if nothing is done yet */
    public long completed() {
        return completed;
    }

    /** @return last committed offset by this instance, or -1 */
    public long committed() {
        return committed;
    }

    /** @return records after what is completed up to the partition's end, or -1 if unknown */
    public long lag() {
        return lag;
    }

    /** @return whether fetching is paused for backpressure */
    public boolean paused() {
        return paused;
    }

    /** Every record up to {@code nextOffset} (exclusive) is done. */
    void done(long nextOffset) {
        COMPLETED.accumulateAndGet(this, nextOffset, Math::max);
    }

    /** A batch's outputs awaiting their acknowledgement, and the offset after the batch. */
    private record Awaiting(long nextOffset, CompletableFuture<Void> acked) {
    }

    /**
     * Worker thread, in offset order: a batch's outputs were handed over; once {@code acked} completes
     * normally every record before {@code nextOffset} is done, if every batch before it is.
     */
    void awaiting(long nextOffset, CompletableFuture<Void> acked) {
        awaiting.add(new Awaiting(nextOffset, acked));
    }

    /**
     * Poll thread, before a commit: moves the commit point over the oldest batches whose outputs are
     * acknowledged. Stops at the first one not acknowledged (or failed: the worker redoes it and moves
     * the point itself); drops those the point has passed.
     */
    void advanceAcknowledged() {
        Awaiting a;
        while ((a = awaiting.peek()) != null) {
            if (a.nextOffset() > completed) {
                CompletableFuture<Void> acked = a.acked();
                if (!acked.isDone() || acked.isCompletedExceptionally()) {
                    return;
                }
                done(a.nextOffset());
            }
            awaiting.poll();
        }
    }

    /** Poll thread: records from {@code first} to {@code last} were fetched. */
    void fetched(long first, long last) {
        if (firstFetched < 0) {
            firstFetched = first;
        }
        fetchedUpTo = last + 1;
    }

    /** Poll thread: {@code offset} is committed (only ever moves forward). */
    void committed(long offset) {
        committed = Math.max(committed, offset);
    }

    /** Poll thread. */
    void paused(boolean p) {
        paused = p;
    }

    /**
     * Poll thread, every commit interval: notes whether the commit point moved since the last look.
     *
     * @param nowNanos {@code System.nanoTime()}
     */
    void observe(long nowNanos) {
        long done = completed;
        long upTo = fetchedUpTo;
        boolean holding = upTo >= 0 && done < upTo;
        if (!holding) {
            stalledSinceNanos = 0;
        } else if (done != observedCompleted || stalledSinceNanos == 0) {
            stalledSinceNanos = nowNanos == 0 ? 1 : nowNanos;
        }
        observedCompleted = done;
    }

    /**
     * @param nowNanos {@code System.nanoTime()}
     * @return how long the partition has held fetched records without its commit point moving, to the
     *         commit interval's precision; 0 while it moves or holds nothing
     */
    public long stalledNanos(long nowNanos) {
        long since = stalledSinceNanos;
        return since == 0 ? 0 : Math.max(0, nowNanos - since);
    }

    /**
     * Poll thread: the lag is what was fetched and is not done yet, plus what is not fetched yet.
     *
     * @param fetchLag the consumer's lag (end offset minus fetch position), or -1 if unknown
     */
    void updateLag(long fetchLag) {
        if (fetchLag < 0) {
            lag = -1;
            return;
        }
        long done = completed;
        long backlog = fetchedUpTo < 0 ? 0 : fetchedUpTo - (done >= 0 ? done : firstFetched);
        lag = fetchLag + Math.max(0, backlog);
    }
}
