package io.kafkascenarios.jmh;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
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
 * Send-to-acknowledgement latency of a request that produces one record and waits for it:
 * {@code RingProducer.send(...).get()} against {@code KafkaProducer.send(record).get()}, same broker,
 * same settings ({@code linger.ms=0}: a request does not wait for a batch), 1 and 64 concurrent
 * requests. SampleTime gives the percentiles.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class RequestReplyBenchmark extends SideBySide {
    @Override
    protected void configure(Map<String, Object> config) {
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    }

    @Benchmark
    @Threads(1)
    public RecordMetadata ringSend1() throws ExecutionException, InterruptedException {
        return ring.send(ringTopic, key, value).get();
    }

    @Benchmark
    @Threads(1)
    public RecordMetadata rawSend1() throws ExecutionException, InterruptedException {
        return raw.send(new ProducerRecord<>(rawTopic, key, value)).get();
    }

    @Benchmark
    @Threads(64)
    public RecordMetadata ringSend64() throws ExecutionException, InterruptedException {
        return ring.send(ringTopic, key, value).get();
    }

    @Benchmark
    @Threads(64)
    public RecordMetadata rawSend64() throws ExecutionException, InterruptedException {
        return raw.send(new ProducerRecord<>(rawTopic, key, value)).get();
    }
}
