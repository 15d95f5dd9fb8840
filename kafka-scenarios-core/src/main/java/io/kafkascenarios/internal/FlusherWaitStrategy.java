package io.kafkascenarios.internal;

import java.util.concurrent.locks.LockSupport;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.WaitStrategy;

/**
 * How the flusher waits for records: spin briefly, then yield for a while, then park in short steps.
 * Publishers never signal it (no lock, no syscall on {@code offer}); {@code send} unparks it.
 *
 * <p>The yield window is the trade: a record that arrives within it is picked up in microseconds
 * instead of after a thread wake-up (tens of microseconds on a VM), at the cost of the flusher
 * staying runnable, yielding to any other thread, for that long after its last record.
 *
 * <p>Thread: the flusher only.
 */
public final class FlusherWaitStrategy implements WaitStrategy {
    private static final int SPINS = 100;
    private final long yieldNanos;
    private final long parkNanos;

    /**
     * @param yieldNanos how long to keep yielding after the spins before parking
     * @param parkNanos how long each park lasts
     */
    public FlusherWaitStrategy(long yieldNanos, long parkNanos) {
        this.yieldNanos = yieldNanos;
        this.parkNanos = parkNanos;
    }

    @Override
    public long waitFor(long sequence, Sequence cursor, Sequence dependentSequence, SequenceBarrier barrier)
            throws AlertException {
        long available;
        int spins = 0;
        long yieldStart = 0;
        while ((available = dependentSequence.get()) < sequence) {
            barrier.checkAlert();
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                long now = System.nanoTime();
                if (yieldStart == 0) {
                    yieldStart = now;
                }
                if (now - yieldStart < yieldNanos) {
                    Thread.yield();
                } else {
                    LockSupport.parkNanos(this, parkNanos);
                }
            }
        }
        return available;
    }

    @Override
    public void signalAllWhenBlocking() {
        // Publishers never signal: that is the point.
    }
}
