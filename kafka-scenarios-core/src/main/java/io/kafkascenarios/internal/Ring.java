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
    /** Returned instead of a sequence when no slot was claimed. */
    public static final long NO_SLOT = -1;
    private static final int SPINS_BEFORE_PARKING = 100;
    private static final long PARK_NANOS = 50_000;

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
     * @return the claimed sequence, which the caller must publish, or {@link #NO_SLOT}
     */
    public long claim() {
        try {
            return buffer.tryNext();
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
     * Waits for a slot until the timeout, an interrupt (the interrupt status is kept) or, if
     * {@code stopOnClose}, until the ring is closed.
     *
     * @param startNanos when the wait started ({@link System#nanoTime()})
     * @param timeoutNanos longest wait; {@code Long.MAX_VALUE} for no limit
     * @param stopOnClose give up when the ring is closed
     * @return the claimed sequence, or {@link #NO_SLOT}
     */
    public long claimWaiting(long startNanos, long timeoutNanos, boolean stopOnClose) {
        int spins = 0;
        while (true) {
            try {
                return buffer.tryNext();
            } catch (InsufficientCapacityException full) {
                if (Thread.currentThread().isInterrupted() || (stopOnClose && closed)
                        || System.nanoTime() - startNanos >= timeoutNanos) {
                    return NO_SLOT;
                }
                if (++spins < SPINS_BEFORE_PARKING) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, PARK_NANOS);
                }
            }
        }
    }
}
