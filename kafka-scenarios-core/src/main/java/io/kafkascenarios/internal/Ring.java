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
    // A waiting caller parks for doubling times (after a brief spin when one slot will do), so that on
    // a small machine it does not take the CPU that the flusher, Kafka's I/O thread or the broker need
    // to free slots.
    private static final int SPINS = 20;
    private static final long MIN_PARK_NANOS = 20_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private final RingBuffer<Slot> buffer;
    private final Accounting accounting;
    private final boolean blockWhenFull;
    private final long blockTimeoutNanos;
    /** Free slots a parked BLOCK caller waits for before it claims again: an eighth of the ring. */
    private final int resumeAt;
    private final FlusherWaitStrategy flusherWait;
    private volatile boolean closed;

    /**
     * @param buffer the pre-allocated ring
     * @param accounting counters for discards and waits
     * @param blockWhenFull wait for a slot (true) or discard (false) when full
     * @param blockTimeoutNanos longest wait when blocking; {@code Long.MAX_VALUE} for no limit
     * @param flusherWait the flusher's wait strategy, to wake it when the ring is full
     */
    public Ring(RingBuffer<Slot> buffer, Accounting accounting, boolean blockWhenFull, long blockTimeoutNanos,
                FlusherWaitStrategy flusherWait) {
        this.buffer = buffer;
        this.flusherWait = flusherWait;
        this.accounting = accounting;
        this.blockWhenFull = blockWhenFull;
        this.blockTimeoutNanos = blockTimeoutNanos;
        this.resumeAt = Math.max(1, buffer.getBufferSize() / 8);
    }

    /** @return the underlying ring */
    public RingBuffer<Slot> buffer() {
        return buffer;
    }

    /** @return true once {@link #close} was called */
    public boolean isClosed() {
        return closed;
    }

    /** Refuses new records from now on; callers waiting for a slot give up at the end of their next park. */
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
            // A stack-less singleton: the full path allocates nothing either. A burst after an idle
            // moment can fill the ring while the flusher sleeps out a park: the first caller to find
            // it full wakes it (a volatile read when it is not parked).
            flusherWait.wakeIfParked();
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
        long sequence = claimWaiting(start, blockTimeoutNanos, true, resumeAt);
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
        return claimWaiting(startNanos, timeoutNanos, stopOnClose, 1);
    }

    /**
     * As {@link #claimWaiting(long, long, boolean)}, but once the first attempts failed, tries again
     * only when {@code resumeAt} slots are free (or the timeout expired): a blocked telemetry caller
     * then refills the ring in bursts instead of waking for every slot the flusher frees, which costs
     * a park and a wake-up per record on exactly the CPU the flusher needs. Once its parks reach their
     * longest (after about 1.3 ms), one free slot will do again, so that other threads taking slots
     * one at a time cannot starve it.
     */
    private long claimWaiting(long startNanos, long timeoutNanos, boolean stopOnClose, int resumeAt) {
        int spins = 0;
        long parkNanos = MIN_PARK_NANOS;
        boolean free = true;
        boolean woke = false;
        while (true) {
            boolean expired = System.nanoTime() - startNanos >= timeoutNanos;
            if (free || expired) {
                try {
                    long sequence = buffer.tryNext();
                    if (stopOnClose && closed) {
                        abort(sequence);
                        return NO_SLOT;
                    }
                    return sequence;
                } catch (InsufficientCapacityException full) {
                    // stack-less singleton; wait below
                }
            }
            if (expired || Thread.currentThread().isInterrupted() || (stopOnClose && closed)) {
                return NO_SLOT;
            }
            if (!woke) {
                woke = true;
                flusherWait.wakeIfParked();
            }
            // Spinning pays only for a single slot, which the flusher frees within microseconds.
            if (resumeAt == 1 && ++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                long left = timeoutNanos - (System.nanoTime() - startNanos);
                LockSupport.parkNanos(this, Math.max(1, Math.min(parkNanos, left)));
                parkNanos = Math.min(parkNanos * 2, MAX_PARK_NANOS);
            }
            free = buffer.hasAvailableCapacity(parkNanos >= MAX_PARK_NANOS ? 1 : resumeAt);
        }
    }
}
