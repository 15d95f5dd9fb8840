package io.kafkascenarios.internal;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.WaitStrategy;

/**
 * The ring of pre-allocated slots and its one door: {@link #claim} (or {@link #claimWaiting}) a
 * sequence, write its {@link #slot}, then {@link #commit} it, or {@link #abort} it if the write threw.
 * The flusher reads published slots ({@link #isPublished}) and {@link #release}s each one once its
 * bytes are copied out. The on-full policy lives here too, with its counters.
 *
 * <h2>Close</h2>
 * {@link #close()} sets the closed flag and returns the <em>close sequence</em>: the cursor read after
 * the flag, behind a full fence. Every claim re-reads the flag after its CAS on the cursor, so a
 * sequence above the close sequence was claimed after the flag was visible and is aborted by its own
 * claimer: only sequences up to the close sequence can carry a record, and the flusher's work at
 * close is exactly those (see {@code Flusher}). A caller that claimed before close keeps its slot and
 * commits it whenever it gets there; nobody else touches that slot.
 *
 * <p>A caller that finds the ring full and will wait for a slot ({@code BLOCK}, {@code send},
 * {@code sendAll}, {@code flush}) registers in a counter first, then reads the flag: it either sees
 * the ring closed and leaves counting nothing, or close sees it and {@linkplain #awaitWaitersGone
 * waits} for it to leave, so that its counters do not move after close has taken its last counts. A
 * discarding caller reads the flag but does not register (see {@link #claim}).
 *
 * <p>Threads: {@code claim*}, {@code commit}, {@code abort} on any caller thread (multi-producer; one
 * CAS on the cursor when a slot is free, no lock); {@link #isPublished}, {@link #release} on the
 * flusher only; {@link #close} on the closing thread. The ring never signals anyone on commit: a
 * caller that finds the ring full wakes a parked flusher ({@link FlusherIdle#wakeIfParked}).
 */
public final class Ring {
    /** Returned instead of a sequence when no slot was claimed: the record was discarded and counted. */
    public static final long NO_SLOT = -1;
    /** Returned instead of a sequence when the ring was closed: nothing was counted. */
    public static final long CLOSED = -2;
    /** {@link #tryClaim}'s answer for a full ring. */
    private static final long FULL = -3;
    // A waiting caller parks for doubling times (after a brief spin when one slot will do), so that on
    // a small machine it does not take the CPU that the flusher, Kafka's I/O thread or the broker need
    // to free slots.
    private static final int SPINS = 20;
    private static final long MIN_PARK_NANOS = 20_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private final RingBuffer<Slot> buffer;
    /** The flusher's position: slots up to it are free again. Gates the claims. */
    private final Sequence released = new Sequence(-1);
    private final Accounting accounting;
    private final boolean blockWhenFull;
    private final long blockTimeoutNanos;
    /** Free slots a parked BLOCK caller waits for before it claims again: an eighth of the ring. */
    private final int resumeAt;
    private final FlusherIdle flusherIdle;
    private final NanoClock clock;
    private volatile boolean closed;
    /**
     * Callers waiting on a full ring for a slot. Only waits pay for this counter: a claim on a free ring
     * is covered by the close sequence instead, and a discard reads the closed flag only.
     */
    private final AtomicInteger waiters = new AtomicInteger();

    /**
     * @param size slots, a power of two
     * @param slotCapacity bytes of key, value and headers per slot
     * @param accounting counters for discards and waits
     * @param blockWhenFull wait for a slot (true) or discard (false) when full
     * @param blockTimeoutNanos longest wait when blocking; {@code Long.MAX_VALUE} for no limit
     * @param flusherIdle the flusher's idle strategy, to wake it when the ring is full
     * @param clock time for the waits
     */
    public Ring(int size, int slotCapacity, Accounting accounting, boolean blockWhenFull, long blockTimeoutNanos,
                FlusherIdle flusherIdle, NanoClock clock) {
        this.buffer = RingBuffer.createMultiProducer(() -> new Slot(slotCapacity), size, NoSignal.INSTANCE);
        this.buffer.addGatingSequences(released);
        this.flusherIdle = flusherIdle;
        this.clock = clock;
        this.accounting = accounting;
        this.blockWhenFull = blockWhenFull;
        this.blockTimeoutNanos = blockTimeoutNanos;
        this.resumeAt = Math.max(1, size / 8);
    }

    /** @return the slot of a claimed or published sequence */
    public Slot slot(long sequence) {
        return buffer.get(sequence);
    }

    /** @return slots in the ring */
    public int size() {
        return buffer.getBufferSize();
    }

    /** @return free slots now */
    public long remaining() {
        return buffer.remainingCapacity();
    }

    /** @return the highest claimed sequence (claims, not publications), -1 if none */
    public long cursor() {
        return buffer.getCursor();
    }

    /** @return true once {@link #close} was called */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Refuses records from now on: later claims abort their slot and return {@link #CLOSED}; callers
     * waiting for a slot return {@link #CLOSED} at the end of their next park, counting nothing (see
     * {@link #awaitWaitersGone}).
     *
     * @return the close sequence: no sequence above it carries a record
     */
    public long close() {
        closed = true;
        // Store/Load: the flag must be visible before the cursor is read. A claimer's CAS on the cursor
        // comes before its read of the flag, so whichever claim this read misses sees the flag.
        VarHandle.fullFence();
        return buffer.getCursor();
    }

    /**
     * Claims a slot for one record under the on-full policy. On {@link #NO_SLOT} the record was
     * discarded and counted.
     *
     * @return the claimed sequence, which the caller must {@link #commit} or {@link #abort},
     *         {@link #NO_SLOT} (discarded), or {@link #CLOSED} (nothing counted)
     */
    public long claim() {
        long sequence = tryClaim();
        return sequence == FULL ? claimWhenFull() : sequence;
    }

    /**
     * One attempt: a sequence, {@link #CLOSED} (the flag, re-read after the CAS on the cursor, says
     * closed: the slot is aborted; see the class comment), or {@link #FULL}. Counts nothing.
     */
    private long tryClaim() {
        long sequence;
        try {
            sequence = buffer.tryNext();
        } catch (InsufficientCapacityException full) {
            return FULL; // a stack-less singleton: the full path allocates nothing either
        }
        if (closed) {
            abort(sequence);
            return CLOSED;
        }
        return sequence;
    }

    /**
     * Caller thread: in discard mode, with no free slot at this moment, counts one discard (as a
     * claim that found the ring full does) and returns true; otherwise counts nothing and returns false.
     */
    public boolean discardIfFull() {
        if (blockWhenFull || closed || buffer.hasAvailableCapacity(1)) {
            return false;
        }
        flusherIdle.wakeIfParked();
        accounting.discarded.increment();
        return true;
    }

    private long claimWhenFull() {
        if (closed) {
            return CLOSED;
        }
        // A burst after an idle moment can fill the ring while the flusher sleeps out a park: the
        // first caller to find it full wakes it (a volatile read when it is not parked).
        flusherIdle.wakeIfParked();
        if (!blockWhenFull) {
            // No registration here: two atomic updates of one shared counter per discard cost 4
            // threads on a saturated ring 75 -> 215 ns per offer (RingOfferBenchmark). The price: a
            // discard that read the flag just before close may be counted just after close returned,
            // by an offer still running then (it returns false), as a record claimed before close is.
            accounting.discarded.increment();
            return NO_SLOT;
        }
        waiters.getAndIncrement();
        try {
            // After the increment: either close sees this caller and waits for it, or this sees close.
            return closed ? CLOSED : claimBlocking();
        } finally {
            waiters.getAndDecrement();
        }
    }

    private long claimBlocking() {
        accounting.blockStarted.increment();
        long start = clock.nanoTime();
        long sequence = awaitSlot(start, blockTimeoutNanos, resumeAt);
        long waited = clock.nanoTime() - start;
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
     * Makes a written slot visible to the flusher (a release store).
     *
     * @param sequence a sequence this thread claimed
     */
    public void commit(long sequence) {
        buffer.publish(sequence);
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
     * Claims a slot, waiting for one until the timeout or an interrupt (the interrupt status is kept).
     * Wakes a parked flusher at the first full ring, even when the timeout is zero.
     *
     * @param startNanos when the wait started, on this ring's clock
     * @param timeoutNanos longest wait; {@code Long.MAX_VALUE} for no limit
     * @param discardsOnGiveUp records counted as discarded if no slot is claimed (0 for a flush marker)
     * @return the claimed sequence; {@link #NO_SLOT} (timeout or interrupt, {@code discardsOnGiveUp}
     *         counted); or {@link #CLOSED} if the ring is or got closed (nothing counted)
     */
    public long claimWaiting(long startNanos, long timeoutNanos, long discardsOnGiveUp) {
        long first = tryClaim();
        if (first != FULL) {
            return first;
        }
        waiters.getAndIncrement();
        try {
            if (closed) {
                return CLOSED;
            }
            long sequence = awaitSlot(startNanos, timeoutNanos, 1);
            if (sequence == NO_SLOT) {
                accounting.discarded.add(discardsOnGiveUp);
            }
            return sequence;
        } finally {
            waiters.getAndDecrement();
        }
    }

    /**
     * Closing thread: waits until no caller is waiting on a full ring for a slot, or the timeout
     * passes. Such callers see the closed flag within a park (at most a millisecond) and leave without
     * counting a discard; after this returns true, no counter of theirs moves again.
     *
     * @param startNanos when the budget started
     * @param timeoutNanos the budget
     * @return true if none is left
     */
    public boolean awaitWaitersGone(long startNanos, long timeoutNanos) {
        while (waiters.get() > 0) {
            if (clock.nanoTime() - startNanos >= timeoutNanos) {
                return false;
            }
            LockSupport.parkNanos(this, MIN_PARK_NANOS);
        }
        return true;
    }

    /**
     * Closing thread, after the flusher drained to the close sequence: waits (to the deadline) until
     * every slot claimed past it is published. Such a claim saw the ring closed and aborts at once,
     * counting a non-record; until it has, the cursor counts it as offered and {@code pending()} as
     * pending, and close would report it as not delivered. The ring past the close sequence is never
     * released, so at most one lap of such claims exists.
     *
     * @param closeSequence the last sequence the flusher drains
     * @param startNanos when close started, on this ring's clock
     * @param timeoutNanos close's whole budget
     * @return true if every late claim is aborted
     */
    public boolean awaitLateClaimsAborted(long closeSequence, long startNanos, long timeoutNanos) {
        long next = closeSequence + 1;
        while (true) {
            long cursor = buffer.getCursor();
            while (next <= cursor && buffer.isAvailable(next)) {
                next++;
            }
            if (next > cursor) {
                return true;
            }
            if (clock.nanoTime() - startNanos >= timeoutNanos) {
                return false;
            }
            LockSupport.parkNanos(this, MIN_PARK_NANOS);
        }
    }

    /** @return callers in a full ring's slow path now (tests) */
    int waiters() {
        return waiters.get();
    }

    /**
     * The wait of a caller registered in {@link #waiters}. Once the first attempts failed, tries again
     * only when {@code resumeAt} slots are free (or the timeout expired): a blocked telemetry caller
     * then refills the ring in bursts instead of waking for every slot the flusher frees, which costs
     * a park and a wake-up per record on exactly the CPU the flusher needs. Once its parks reach their
     * longest (after about 1.3 ms), one free slot will do again, so that other threads taking slots
     * one at a time cannot starve it.
     *
     * @return a sequence, {@link #NO_SLOT} (timeout or interrupt) or {@link #CLOSED}; counts nothing
     */
    private long awaitSlot(long startNanos, long timeoutNanos, int resumeAt) {
        int spins = 0;
        long parkNanos = MIN_PARK_NANOS;
        boolean free = true;
        boolean woke = false;
        while (true) {
            boolean expired = clock.nanoTime() - startNanos >= timeoutNanos;
            if (free || expired) {
                long sequence = tryClaim();
                if (sequence != FULL) {
                    return sequence;
                }
            }
            if (!woke) {
                // Before any way out: a fail-fast caller must not leave the flusher asleep on a full ring.
                woke = true;
                flusherIdle.wakeIfParked();
            }
            if (closed) {
                return CLOSED;
            }
            if (expired || Thread.currentThread().isInterrupted()) {
                return NO_SLOT;
            }
            // Spinning pays only for a single slot, which the flusher frees within microseconds.
            if (resumeAt == 1 && ++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                long left = timeoutNanos - (clock.nanoTime() - startNanos);
                LockSupport.parkNanos(this, Math.max(1, Math.min(parkNanos, left)));
                parkNanos = Math.min(parkNanos * 2, MAX_PARK_NANOS);
            }
            free = buffer.hasAvailableCapacity(parkNanos >= MAX_PARK_NANOS ? 1 : resumeAt);
        }
    }

    /**
     * Flusher thread: whether a sequence was committed or aborted (an acquire read: the slot's contents
     * are visible after a true answer). A claimed but unpublished sequence answers false, whatever the
     * cursor says, and so does one not claimed yet: the slot's availability flag names the lap of the
     * last publication, so it matches only this lap's publication.
     *
     * <p>The cursor is not read here: every claim CASes it, and a flusher reading it per slot pulled
     * its cache line away from the callers on every record (RingOfferBenchmark, 1 thread, saturated
     * ring: about 3x fewer offers a second).
     *
     * @param sequence a sequence after the flusher's position, less than a lap ahead of it
     * @return true if its claimer has published it
     */
    public boolean isPublished(long sequence) {
        return buffer.isAvailable(sequence);
    }

    /**
     * Flusher thread: the slot's bytes are copied out; callers may claim it again.
     *
     * @param sequence the sequence just handled
     */
    public void release(long sequence) {
        released.set(sequence);
    }

    /** @return the last sequence the flusher released, -1 if none */
    public long released() {
        return released.get();
    }

    /** Publishers never signal: the flusher parks and is woken explicitly, so a publish costs no syscall. */
    private static final class NoSignal implements WaitStrategy {
        static final NoSignal INSTANCE = new NoSignal();

        @Override
        public long waitFor(long sequence, Sequence cursor, Sequence dependentSequence,
                            com.lmax.disruptor.SequenceBarrier barrier) {
            throw new UnsupportedOperationException("the flusher does not wait through a barrier");
        }

        @Override
        public void signalAllWhenBlocking() {
        }
    }
}
