package io.kafkascenarios.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * What the flusher does when the next slot is not published yet: spin briefly (a burst's next record
 * is nanoseconds away); then, if it recently sent a record someone waits for ({@code send},
 * {@code sendAll}), yield for a while; otherwise park for 1 ms, doubling up to 10 ms while nothing
 * arrives. "Not published" covers both an empty ring and a slot a caller has claimed but not yet
 * committed: the flusher waits on publication, not on the cursor, so a slow writer costs it parks,
 * not a spinning core.
 *
 * <p>Offers do not signal it (no lock, no syscall on an offer), with one exception that bounds what a
 * park costs a burst: a caller that finds the ring full wakes the flusher if it is parked
 * ({@link #wakeIfParked()}). Waking it earlier, at an eighth of the ring with half the ring waiting,
 * was measured: even without a single unpark, that check on one offer in 512 raised the steady-rate
 * p99.9 from 2.6-2.9 µs to 13.2-13.5 µs, so it is not done. {@code send}, {@code sendAll},
 * {@code flush} and {@code close} unpark it unconditionally (a permit is never lost).
 *
 * <p>Two regimes, because the two scenarios want opposite things. Telemetry ({@code offer} only) must
 * not take CPU from its application: measured on a 2-core VM with 100-byte records at about 9 k
 * records/s, a flusher that yielded for 1 ms after each record used 820-890 ms of CPU a second, one
 * that parks 1 ms uses about 30; idle, parks growing to 10 ms cost about 7 ms a second. An offered
 * record then waits up to one park before the flusher sees it: about 1 ms while records keep coming,
 * up to 10 ms for the first one after a quiet spell, the order of Kafka's own {@code linger.ms}. A
 * request ({@code send}) waits for its acknowledgement, and a wake-up of a parked flusher adds tens of
 * microseconds to it: after such a record the flusher stays runnable, yielding, for the hot window.
 *
 * <p>Interrupts: the flusher is never stopped by one (close uses flags and an explicit handshake), so
 * a stray interrupt is cleared before each park; left set, {@code parkNanos} would return at once and
 * the idle flusher would spin at 100 % of a core.
 *
 * <p>Thread: the flusher only, but for {@link #wakeIfParked()}, which any thread may call.
 */
public final class FlusherIdle {
    /** Idle steps that only spin before the first yield or park. */
    public static final int SPINS = 100;
    private final long parkNanos;
    private final long maxParkNanos;
    private final long hotNanos;
    private final NanoClock clock;
    private final Parker parker;
    private boolean requestSent;
    private long hotUntil;
    private int spins;
    private long park;
    /** The flusher while it parks, else null. */
    private volatile Thread parkedFlusher;

    /** How the flusher parks: {@link LockSupport#parkNanos(Object, long)}, or a recorder in tests. */
    @FunctionalInterface
    public interface Parker {
        /**
         * @param blocker what the thread waits on, for thread dumps
         * @param nanos longest park
         */
        void parkNanos(Object blocker, long nanos);
    }

    /**
     * @param parkNanos the first park after the spins
     * @param maxParkNanos the longest park, reached by doubling while nothing arrives
     * @param hotNanos how long to keep yielding instead of parking after a request's record
     * @param clock time for the hot window
     * @param parker how to park
     */
    public FlusherIdle(long parkNanos, long maxParkNanos, long hotNanos, NanoClock clock, Parker parker) {
        this.parkNanos = parkNanos;
        this.maxParkNanos = Math.max(parkNanos, maxParkNanos);
        this.hotNanos = hotNanos;
        this.clock = clock;
        this.parker = parker;
        this.park = parkNanos;
        this.hotUntil = clock.nanoTime();
    }

    /** Flusher thread: a record someone waits for was just handed to Kafka. */
    public void requestSent() {
        requestSent = true;
    }

    /** Flusher thread: work was done; the next idle period starts from the spins again. */
    public void workDone() {
        spins = 0;
        park = parkNanos;
        if (requestSent) {
            requestSent = false;
            hotUntil = clock.nanoTime() + hotNanos;
        }
    }

    /**
     * Flusher thread: one step of waiting for {@code next} to be published. Returns after a spin, a
     * yield or a park; the caller checks again (and checks close) in between.
     *
     * @param ring the ring
     * @param next the sequence the flusher waits for
     */
    public void idle(Ring ring, long next) {
        if (spins < SPINS) {
            spins++;
            Thread.onSpinWait();
            return;
        }
        if (clock.nanoTime() - hotUntil < 0) {
            Thread.yield();
            return;
        }
        Thread.interrupted(); // see the class comment: a stray interrupt must not turn parks into spins
        parkedFlusher = Thread.currentThread();
        if (!ring.isPublished(next)) { // a caller that published before the flag was set saw null
            parker.parkNanos(this, park);
            park = Math.min(park * 2, maxParkNanos);
        }
        parkedFlusher = null;
    }

    /**
     * Any thread: unparks the flusher if it is parked; a volatile read otherwise. It can miss a flusher
     * that is just about to park (the ring's publish is a release store, not a full fence), which then
     * sleeps out one park: good enough for a full ring, not for a request, which unparks unconditionally.
     */
    public void wakeIfParked() {
        Thread flusher = parkedFlusher;
        // One caller per park wakes it: several callers on a full ring all unparking the same thread
        // queue on its parker's lock and each pays a syscall (4 threads, p99.9 ~1 -> ~10 us). The
        // price: a winner preempted before its unpark leaves the flusher to its park (10 ms at most).
        if (flusher != null && PARKED.compareAndSet(this, flusher, null)) {
            LockSupport.unpark(flusher);
        }
    }

    private static final VarHandle PARKED;

    static {
        try {
            PARKED = MethodHandles.lookup().findVarHandle(FlusherIdle.class, "parkedFlusher", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
