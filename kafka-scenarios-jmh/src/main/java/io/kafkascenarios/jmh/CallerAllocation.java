package io.kafkascenarios.jmh;

import java.lang.management.ManagementFactory;

import com.sun.management.ThreadMXBean;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Bytes allocated by the benchmark's own threads (the callers) per iteration, reported as the JMH
 * secondary result {@code callerBytes}. {@code -prof gc} counts every thread of the JVM, including the
 * flusher's copies of each record it hands to Kafka; this counts only the thread that calls
 * {@code offer}. Add it as a parameter of a benchmark method to measure that method.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class CallerAllocation {
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    private long start;
    /** Bytes the caller thread allocated during the iteration; 0 is the target. */
    public long callerBytes;
    /** Calls measured during the iteration ({@link #op()}), to turn {@link #callerBytes} into bytes per call. */
    public long callerOps;
    /** Of those, offers the ring accepted ({@link #accepted(boolean)}); the rest were discarded. */
    public long callerAccepted;

    /** Marks the start of an iteration, on the benchmark thread. */
    @Setup(Level.Iteration)
    public void begin() {
        callerBytes = 0;
        callerOps = 0;
        callerAccepted = 0;
        start = THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Counts one measured call; call it from the benchmark method (a thread-local increment). */
    public void op() {
        callerOps++;
    }

    /**
     * Counts one measured offer and whether the ring took it.
     *
     * @param accepted what {@code offer} returned
     * @return {@code accepted}
     */
    boolean accepted(boolean accepted) {
        callerOps++;
        if (accepted) {
            callerAccepted++;
        }
        return accepted;
    }

    /** Reads the caller thread's allocation at the end of the iteration. */
    @TearDown(Level.Iteration)
    public void end() {
        callerBytes = THREADS.getCurrentThreadAllocatedBytes() - start;
    }
}
