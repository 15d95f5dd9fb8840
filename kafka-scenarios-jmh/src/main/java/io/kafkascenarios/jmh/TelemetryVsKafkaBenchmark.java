package io.kafkascenarios.jmh;

import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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
 * What the caller pays per record: {@code RingProducer.offer} (DISCARD) side by side with
 * {@code KafkaProducer.send} on the same broker, same producer settings, same JVM run. SampleTime
 * gives the mean and the percentiles (p99.9 is where {@code send}'s back-pressure shows).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class TelemetryVsKafkaBenchmark extends SideBySide {
    private static final Callback IGNORE = (metadata, exception) -> { };

    @Benchmark
    @Threads(1)
    public boolean ringOffer1Thread(CallerAllocation allocation) {
        return allocation.accepted(ring.offer(ringTopic, key, value));
    }

    @Benchmark
    @Threads(1)
    public Object rawSend1Thread(CallerAllocation allocation) {
        allocation.op();
        return raw.send(new ProducerRecord<>(rawTopic, key, value), IGNORE);
    }

    @Benchmark
    @Threads(4)
    public boolean ringOffer4Threads(CallerAllocation allocation) {
        return allocation.accepted(ring.offer(ringTopic, key, value));
    }

    @Benchmark
    @Threads(4)
    public Object rawSend4Threads(CallerAllocation allocation) {
        allocation.op();
        return raw.send(new ProducerRecord<>(rawTopic, key, value), IGNORE);
    }
}
