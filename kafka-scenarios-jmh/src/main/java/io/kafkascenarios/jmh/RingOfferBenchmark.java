package io.kafkascenarios.jmh;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;

/**
 * The cost of {@code offer()} on the caller thread with the ring alone: the flusher hands records to a
 * sink that drops them, so no Kafka cost is measured. Run with {@code -prof gc} to see 0 B/op.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RingOfferBenchmark {
    private RingProducer producer;
    private final byte[] key = "key-000001".getBytes();
    private final byte[] value = new byte[100];

    /**
     * Drops every record and completes it at once, keeping no history: the ring and flusher alone. Made
     * through the public {@code producerFactory} seam, as a user would wrap their own producer.
     */
    static final class NoOpProducer extends MockProducer<byte[], byte[]> {
        private static final RecordMetadata METADATA = new RecordMetadata(new TopicPartition("telemetry", 0), 0, 0, 0, 0, 0);
        private static final Future<RecordMetadata> DONE = CompletableFuture.completedFuture(METADATA);

        NoOpProducer() {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            callback.onCompletion(METADATA, null);
            return DONE;
        }

        @Override
        public void flush() {
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        producer = RingProducer.builder(Map.of()).ringSize(16384)
                .listener(new RingProducerListener() { }).producerFactory(NoOpProducer::new).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        producer.close(Duration.ofSeconds(5));
    }

    @Benchmark
    @Threads(1)
    public boolean offer1Thread(CallerAllocation allocation) {
        return allocation.accepted(producer.offer("telemetry", key, value));
    }

    @Benchmark
    @Threads(4)
    public boolean offer4Threads(CallerAllocation allocation) {
        return allocation.accepted(producer.offer("telemetry", key, value));
    }
}
