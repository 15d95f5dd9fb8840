package io.kafkascenarios.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import io.kafkascenarios.RingProducer;

/**
 * What a producer that has nothing to send costs the machine: the client JVM's CPU time
 * ({@link ProcessCpu}) per millisecond while the benchmark thread only sleeps, with a started
 * {@link RingProducer} (its flusher and reporter threads waiting) against a started
 * {@code KafkaProducer}. The JVM's own background threads (JIT, GC, JMH) count on both sides. A
 * telemetry producer lives in every service instance, mostly idle: this is its rent.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 4)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class IdleProducerBenchmark extends SideBySide {
    private static final long SLEEP_MILLIS = 100;

    /** One record through each side first, so that both are connected and have metadata, as after use. */
    @Override
    protected void prepareTrial() {
        if (ring != null) {
            ring.offer(ringTopic, key, value);
            if (!ring.flush(java.time.Duration.ofSeconds(30))) {
                throw new IllegalStateException("the ring did not deliver its first record: " + ring.stats());
            }
        } else {
            raw.send(new org.apache.kafka.clients.producer.ProducerRecord<>(rawTopic, key, value));
            raw.flush();
        }
    }

    @Benchmark
    @Threads(1)
    public void ringIdle(ProcessCpu cpu) {
        sleep(cpu);
    }

    @Benchmark
    @Threads(1)
    public void rawIdle(ProcessCpu cpu) {
        sleep(cpu);
    }

    private static void sleep(ProcessCpu cpu) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(SLEEP_MILLIS));
        cpu.ops(SLEEP_MILLIS);
    }
}
