package io.kafkascenarios.internal;

import java.util.concurrent.locks.LockSupport;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.WaitStrategy;

/**
 * How the flusher waits for records: spin briefly (a burst's next record); then, if it recently sent a
 * record someone waits for ({@code send}, {@code sendAll}), yield for a while; otherwise park in steps
 * of 1 ms, doubling up to 10 ms while nothing arrives. Offers do not signal it (no lock, no syscall on an offer), with one exception
 * that bounds what a park costs a burst: a caller that finds the ring full wakes the flusher if it is
 * parked ({@link #wakeIfParked()}). Waking it earlier, at an eighth of the ring with half the ring
 * waiting, was measured: even without a single unpark, that check on one offer in 512 raised the
 * steady-rate p99.9 from 2.6-2.9 µs to 13.2-13.5 µs, so it is not done. {@code send}, {@code sendAll}, {@code flush} and
 * {@code close} unpark it.
 *
 * <p>Two regimes, because the two scenarios want opposite things. Telemetry ({@code offer} only) must
 * not take CPU from its application: measured on a 2-core VM with 100-byte records at about 9 k
 * records/s, a flusher that yielded for 1 ms after each record used 820-890 ms of CPU a second, one
 * that parks 1 ms uses about 30, taking the records in small batches; idle, 100 µs parks cost about
 * 160 ms a second, 1 ms parks about 25-30 (a timed wake-up costs some 15-25 µs of CPU there), parks
 * growing to 10 ms a few. An offered record then waits up to one park before the flusher sees it:
 * about 1 ms while records keep coming, up to 10 ms for the first one after a quiet spell, the order
 * of Kafka's own {@code linger.ms} (5 ms by default). A request ({@code send}) waits for its acknowledgement, and a
 * wake-up of a parked flusher adds tens of microseconds to it (p50 288 against 242 µs for the raw
 * producer): after such a record the flusher stays runnable, yielding to any other thread, for the
 * hot window, so that the next request is picked up in microseconds. That CPU is paid only by
 * producers that send requests.
 *
 * <p>Thread: the flusher only, {@link #requestSent()} included; {@link #wakeIfParked()} from any thread.
 */
public final class FlusherWaitStrategy implements WaitStrategy {
    private static final int SPINS = 100;
    private final long parkNanos;
    private final long maxParkNanos;
    private final long hotNanos;
    private boolean requestSent;
    private long hotUntil = System.nanoTime();
    /** The flusher while it parks, else null. */
    private volatile Thread parkedFlusher;

    /**
     * @param parkNanos the first park after the spins
     * @param maxParkNanos the longest park, reached by doubling while nothing arrives
     * @param hotNanos how long to keep yielding instead of parking after a request's record
     */
    public FlusherWaitStrategy(long parkNanos, long maxParkNanos, long hotNanos) {
        this.parkNanos = parkNanos;
        this.maxParkNanos = Math.max(parkNanos, maxParkNanos);
        this.hotNanos = hotNanos;
    }

    /** Flusher thread: a record someone waits for was just handed to Kafka. */
    public void requestSent() {
        requestSent = true;
    }

    /**
     * Any thread: unparks the flusher if it is parked; a volatile read otherwise. It can miss a
     * flusher that is just about to park (the ring's publish is a release store, not a full fence), which
     * then sleeps out one park: good enough for a full ring, not for a request, so {@code send},
     * {@code sendAll}, {@code flush} and {@code close} unpark unconditionally (a permit is never lost).
     */
    public void wakeIfParked() {
        Thread flusher = parkedFlusher;
        if (flusher != null) {
            LockSupport.unpark(flusher);
        }
    }

    @Override
    public long waitFor(long sequence, Sequence cursor, Sequence dependentSequence, SequenceBarrier barrier)
            throws AlertException {
        if (requestSent) {
            // Once per batch, and only after a request.
            requestSent = false;
            hotUntil = System.nanoTime() + hotNanos;
        }
        long available;
        int spins = 0;
        long park = parkNanos;
        while ((available = dependentSequence.get()) < sequence) {
            barrier.checkAlert();
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else if (System.nanoTime() - hotUntil < 0) {
                Thread.yield();
            } else {
                parkedFlusher = Thread.currentThread();
                if (dependentSequence.get() < sequence) { // a caller that published before the flag saw null
                    LockSupport.parkNanos(this, park);
                    park = Math.min(park * 2, maxParkNanos);
                }
                parkedFlusher = null;
            }
        }
        return available;
    }

    @Override
    public void signalAllWhenBlocking() {
        // Publishers never signal: that is the point.
    }
}
