package io.kafkascenarios.internal;

import java.util.concurrent.locks.LockSupport;

import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;

/**
 * Claims ring slots under the on-full policy, and counts what the policy did.
 *
 * <p>Threads: {@link #claim} and {@link #claimWaiting} on any caller thread (the ring is
 * multi-producer); {@link #close} from the closing thread. Lock-free on the path where a slot is
 * free: one CAS on the ring's cursor.
 */
public final class Ring {
    /** Returned instead of a sequence when no slot was claimed: the record was discarded and counted. */
    public static final long NO_SLOT = -1;
    /** Returned instead of a sequence when the ring was closed: nothing was counted. */
    public static final long CLOSED = -2;
    // A blocked caller waits for the flusher, which frees slots in batches: spin briefly, then yield,
    // then park for doubling times, so that on a small machine the waiting caller does not take the
    // CPU that the flusher, Kafka's I/O thread or the broker need to free slots.
    private static final int SPINS = 20;
    private static final int YIELDS = 10;
    private static final long MIN_PARK_NANOS = 20_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private final RingBuffer<Slot> buffer;
    private final Accounting accounting;
    private final boolean blockWhenFull;
    private final long blockTimeoutNanos;
    private volatile boolean closed;

    /**
     * @param buffer the pre-allocated ring
     * @param accounting counters for discards and waits
     * @param blockWhenFull wait for a slot (true) or discard (false) when full
     * @param blockTimeoutNanos longest wait when blocking; {@code Long.MAX_VALUE} for no limit
     */
    public Ring(RingBuffer<Slot> buffer, Accounting accounting, boolean blockWhenFull, long blockTimeoutNanos) {
        this.buffer = buffer;
        this.accounting = accounting;
        this.blockWhenFull = blockWhenFull;
        this.blockTimeoutNanos = blockTimeoutNanos;
    }

    /** @return the underlying ring */
    public RingBuffer<Slot> buffer() {
        return buffer;
    }

    /** @return true once {@link #close} was called */
    public boolean isClosed() {
        return closed;
    }

    /** Refuses new records from now on and wakes callers waiting for a slot (they give up). */
    public void close() {
        closed = true;
    }

    /**
     * Claims a slot for one record under the on-full policy. On {@link #NO_SLOT} the record was
     * discarded and counted.
     *
     * @return the claimed sequence, which the caller must publish, {@link #NO_SLOT} (discarded), or
     *         {@link #CLOSED}
     */
    public long claim() {
        try {
            long sequence = buffer.tryNext();
            // Re-checked after the claim: if close() set the flag after this caller's first check, either
            // this read sees it, or the claim came first and close() will find the slot in the ring.
            if (closed) {
                abort(sequence);
                return CLOSED;
            }
            return sequence;
        } catch (InsufficientCapacityException full) {
            // A stack-less singleton: the full path allocates nothing either.
            if (!blockWhenFull) {
                accounting.discarded.increment();
                return NO_SLOT;
            }
            return claimBlocking();
        }
    }

    private long claimBlocking() {
        accounting.blockStarted.increment();
        long start = System.nanoTime();
        long sequence = claimWaiting(start, blockTimeoutNanos, true);
        long waited = System.nanoTime() - start;
        accounting.blockNanos.add(waited);
        accounting.blockMaxNanos.accumulate(waited);
        if (sequence == NO_SLOT) {
            accounting.blockGaveUp.increment();
            accounting.discarded.increment();
        }
        accounting.blockStopped.increment();
        return sequence;
    }

    /**
     * Publishes a claimed slot that carries no record; the flusher skips it.
     *
     * @param sequence a sequence this thread claimed
     */
    public void abort(long sequence) {
        buffer.get(sequence).setAborted();
        accounting.nonRecords.increment();
        buffer.publish(sequence);
    }

    /**
     * Waits for a slot until the timeout, an interrupt (the interrupt status is kept) or, if
     * {@code stopOnClose}, until the ring is closed (a slot won after close is aborted).
     *
     * @param startNanos when the wait started ({@link System#nanoTime()})
     * @param timeoutNanos longest wait; {@code Long.MAX_VALUE} for no limit
     * @param stopOnClose give up when the ring is closed
     * @return the claimed sequence, or {@link #NO_SLOT}
     */
    public long claimWaiting(long startNanos, long timeoutNanos, boolean stopOnClose) {
        int spins = 0;
        long parkNanos = MIN_PARK_NANOS;
        while (true) {
            try {
                long sequence = buffer.tryNext();
                if (stopOnClose && closed) {
                    abort(sequence);
                    return NO_SLOT;
                }
                return sequence;
            } catch (InsufficientCapacityException full) {
                if (Thread.currentThread().isInterrupted() || (stopOnClose && closed)
                        || System.nanoTime() - startNanos >= timeoutNanos) {
                    return NO_SLOT;
                }
                spins++;
                if (spins < SPINS) {
                    Thread.onSpinWait();
                } else if (spins < SPINS + YIELDS) {
                    Thread.yield();
                } else {
                    LockSupport.parkNanos(this, parkNanos);
                    parkNanos = Math.min(parkNanos * 2, MAX_PARK_NANOS);
                }
            }
        }
    }
}
