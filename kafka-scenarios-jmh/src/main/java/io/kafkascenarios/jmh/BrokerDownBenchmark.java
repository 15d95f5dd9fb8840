package io.kafkascenarios.jmh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;

/**
 * What a caller pays per record when there is no broker at all: {@code RingProducer.offer} (DISCARD)
 * against {@code KafkaProducer.send} with its default {@code max.block.ms} (60 s), which blocks the
 * caller until metadata arrives or the timeout passes. The raw side is one call, measured once.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseParallelGC"})
public class BrokerDownBenchmark {
    private static final Callback IGNORE = (metadata, exception) -> { };

    private RingProducer ring;
    private KafkaProducer<byte[], byte[]> raw;
    private final byte[] key = "key-000001".getBytes();
    private final byte[] value = new byte[100];

    @Setup(Level.Trial)
    public void setUp() {
        String nowhere = "127.0.0.1:" + freePort();
        Map<String, Object> config = BenchCluster.producerConfig(nowhere);
        ring = RingProducer.builder(config).ringSize(1024).listener(new RingProducerListener() { }).build();
        raw = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ring.close(Duration.ofSeconds(1));
        raw.close(Duration.ZERO);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 2, time = 1)
    @Measurement(iterations = 3, time = 1)
    public boolean ringOfferBrokerDown() {
        return ring.offer("nowhere", key, value);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1, batchSize = 1)
    public Object rawSendBrokerDown() {
        return raw.send(new ProducerRecord<>("nowhere", key, value), IGNORE);
    }
}
