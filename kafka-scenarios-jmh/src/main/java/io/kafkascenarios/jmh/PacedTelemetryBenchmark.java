package io.kafkascenarios.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import io.kafkascenarios.RingProducer;

/**
 * What the caller pays per record at a steady rate the pipeline keeps up with, as telemetry usually
 * runs: {@code RingProducer.offer} against {@code KafkaProducer.send}, each call preceded (outside the
 * measured time) by a park of {@link Pace#INTERVAL_NANOS}. Unlike {@link TelemetryVsKafkaBenchmark},
 * whose flat-out loop keeps the ring full so that most offers take the discard path, here the ring
 * accepts the offers: this prices the accepted path against Kafka's own.
 *
 * <p>No allocation row comes from here: in SampleTime mode JMH's own sample buffer allocates on the
 * benchmark thread, about 2 B per call, which would be counted against {@code offer}. The flat-out
 * benchmark and the unit tests measure the caller's allocation.
 *
 * <p>{@link ProcessCpu} adds what each side costs the machine per record at this rate: the caller's
 * call plus the flusher's and Kafka's threads waking up for it (both sides pay the same parks between
 * calls).
 *
 * <p>Parking rather than spinning between calls leaves the machine's cores to the flusher, Kafka's
 * I/O thread and the broker, as a real application's idle time would.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class PacedTelemetryBenchmark extends SideBySide {
    private static final Callback IGNORE = (metadata, exception) -> { };

    /** The pause before each call, outside the measured time. */
    @State(Scope.Thread)
    public static class Pace {
        /** 20 us asked; Linux's timer slack makes it about 60-80 us, some 15 k calls a second. */
        static final long INTERVAL_NANOS = 20_000;

        /** Runs before each call; JMH excludes it from the sample. */
        @Setup(Level.Invocation)
        public void pause() {
            LockSupport.parkNanos(INTERVAL_NANOS);
        }
    }

    /** {@code -Dks.bench.ringSize=N} (in {@code -jvmArgsAppend}) tries another ring size; the default 4096 otherwise. */
    @Override
    protected RingProducer.Builder ring(RingProducer.Builder builder) {
        Integer size = Integer.getInteger("ks.bench.ringSize");
        return size == null ? builder : builder.ringSize(size);
    }

    @Benchmark
    @Threads(1)
    public boolean ringOfferPaced(Pace pace, CallerAllocation allocation, ProcessCpu cpu) {
        cpu.ops(1);
        return allocation.accepted(ring.offer(ringTopic, key, value));
    }

    @Benchmark
    @Threads(1)
    public Object rawSendPaced(Pace pace, CallerAllocation allocation, ProcessCpu cpu) {
        allocation.op();
        cpu.ops(1);
        return raw.send(new ProducerRecord<>(rawTopic, key, value), IGNORE);
    }
}
