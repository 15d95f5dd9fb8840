package io.kafkascenarios.jmh;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.kafkascenarios.OnFull;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingStats;

/**
 * Records acknowledged by the broker per second: the ring producer (BLOCK, so nothing is discarded)
 * against the raw KafkaProducer with the same settings. Each invocation offers/sends a batch and
 * flushes it, so the score counts only delivered records. {@link ProcessCpu} adds the client JVM's CPU
 * time per record: on a machine whose cores are all busy (here, with the broker on the same two
 * cores), CPU per record is what sets the throughput.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class DeliveredThroughputBenchmark extends SideBySide {
    @Override
    protected RingProducer.Builder ring(RingProducer.Builder builder) {
        return builder.onFull(OnFull.BLOCK);
    }

    @Override
    protected void check(RingStats stats) {
        if (stats.discarded() + stats.failed() > 0) {
            throw new IllegalStateException("the ring lost records during a throughput run: " + stats);
        }
    }

    private static final int BATCH = 50_000;
    private static final Callback IGNORE = (metadata, exception) -> { };

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void ringDelivered(ProcessCpu cpu) {
        for (int i = 0; i < BATCH; i++) {
            ring.offer(ringTopic, key, value);
        }
        if (!ring.flush(Duration.ofSeconds(60))) {
            throw new IllegalStateException("flush timed out: " + ring.stats());
        }
        cpu.ops(BATCH);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void rawDelivered(ProcessCpu cpu) {
        for (int i = 0; i < BATCH; i++) {
            raw.send(new ProducerRecord<>(rawTopic, key, value), IGNORE);
        }
        raw.flush();
        cpu.ops(BATCH);
    }
}
