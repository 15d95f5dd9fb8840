package io.kafkascenarios.jmh;

import java.lang.management.ManagementFactory;

import com.sun.management.OperatingSystemMXBean;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * CPU time the whole benchmark JVM used per iteration (every thread: the callers, the ring's flusher,
 * Kafka's I/O thread, GC, JMH itself), reported as the JMH secondary results {@code processCpuNanos}
 * and {@code processCpuOps}. The broker runs in a child JVM and is not counted. A caller's time per
 * call says what the application thread pays; this says what the producer costs the machine, which on
 * a small machine is what limits everything else. Add it as a parameter of a single-threaded benchmark
 * method and count the records it handles with {@link #ops(long)}.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class ProcessCpu {
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long start;
    /** Nanoseconds of CPU the JVM used during the iteration. */
    public long processCpuNanos;
    /** Records handled during the iteration, to turn {@link #processCpuNanos} into CPU per record. */
    public long processCpuOps;

    /** Marks the start of an iteration, on the benchmark thread. */
    @Setup(Level.Iteration)
    public void begin() {
        processCpuNanos = 0;
        processCpuOps = 0;
        start = OS.getProcessCpuTime();
    }

    /**
     * Counts records handled (a thread-local addition).
     *
     * @param records how many
     */
    public void ops(long records) {
        processCpuOps += records;
    }

    /** Reads the JVM's CPU time at the end of the iteration. */
    @TearDown(Level.Iteration)
    public void end() {
        processCpuNanos = OS.getProcessCpuTime() - start;
    }
}
