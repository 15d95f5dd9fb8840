package io.kafkascenarios;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;

import io.kafkascenarios.internal.stream.Outputs;
import io.kafkascenarios.internal.stream.PollLoop;
import io.kafkascenarios.internal.stream.StreamCounters;
import io.kafkascenarios.internal.stream.StreamSettings;
import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.BatchHandler;
import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.Ordering;

/**
 * A poll loop over kafka-clients' {@code MockConsumer} and a {@link FakeSink} producer: the stream
 * processor's machinery without a broker. Commits are recorded (and kept after the consumer closed);
 * the settings are the builder's defaults made small and fast, changed through the fields before
 * {@link #start}.
 */
final class LoopFixture implements AutoCloseable {
    static final TopicPartition TP = new TopicPartition("in", 0);

    final FakeSink sink = new FakeSink();
    final RingProducer producer = RingProducer.builder(Map.of()).listener(new RecordingListener()).build(sink);
    final Map<TopicPartition, Long> commits = new ConcurrentHashMap<>();
    /** The timeouts the loop gave its synchronous commits. */
    final List<Duration> syncCommitTimeouts = new java.util.concurrent.CopyOnWriteArrayList<>();
    /**
     * When true, a synchronous commit takes its whole timeout and then fails, and an asynchronous one
     * never completes, as with the coordinator gone.
     */
    volatile boolean commitsHang;
    final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest") {
        @Override
        public synchronized void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
            if (commitsHang) {
                return; // never completes
            }
            offsets.values().forEach(o -> onCommit.accept(o.offset()));
            super.commitAsync(offsets, callback);
            offsets.forEach((tp, o) -> commits.merge(tp, o.offset(), Math::max));
        }

        @Override
        public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
            syncCommitTimeouts.add(timeout);
            if (commitsHang) {
                try {
                    Thread.sleep(timeout.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new org.apache.kafka.common.errors.TimeoutException("commit timed out (test)");
            }
            offsets.values().forEach(o -> onCommit.accept(o.offset()));
            super.commitSync(offsets, timeout);
            offsets.forEach((tp, o) -> commits.merge(tp, o.offset(), Math::max));
        }
    };
    final StreamCounters counters = new StreamCounters();

    FailurePolicy policy = FailurePolicy.STOP;
    int retries = 3;
    Backoff backoff = Backoff.fixed(Duration.ofMillis(5));
    Ordering ordering = Ordering.PARTITION;
    int maxConcurrency = 2;
    Executor executor;
    int maxBatch = 100;
    int maxQueued = 1000;
    Duration revokeTimeout = Duration.ofSeconds(2);
    /** The loop's thread factory. */
    java.util.concurrent.ThreadFactory threadFactory = r -> new Thread(r, "stream-test");
    /** Wraps the outputs the loop uses (to fail or watch them). */
    java.util.function.UnaryOperator<Outputs> outputsWrapper = o -> o;
    /** Told of every offset committed, before it is recorded. */
    volatile java.util.function.LongConsumer onCommit = o -> { };
    PollLoop loop;

    /** Starts the loop with one partition holding {@code records} records keyed {@code k(offset % keys)}. */
    LoopFixture start(BatchHandler handler, int records, int keys) {
        Outputs outputs = outputsWrapper.apply(Outputs.adapting(producer::sendAll));
        StreamSettings settings = new StreamSettings(Map.of(), outputs, List.of("in"), null, handler, retries, backoff,
                policy, "dlq", Set.of(SerializationException.class), ordering, maxConcurrency, executor, maxBatch,
                maxQueued, 10 * maxQueued, 4, Duration.ofMillis(20), Duration.ofMillis(5), revokeTimeout,
                Duration.ofSeconds(5), Duration.ofMillis(200), threadFactory, "test", null, null);
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(TP));
            consumer.updateBeginningOffsets(Map.of(TP, 0L));
            for (int i = 0; i < records; i++) {
                consumer.addRecord(record(i, keys));
            }
        });
        loop = new PollLoop(settings, counters, consumer);
        Thread t = new Thread(loop, "stream-test-poll");
        t.setDaemon(true);
        t.start();
        return this;
    }

    static ConsumerRecord<byte[], byte[]> record(long offset, int keys) {
        byte[] key = ("k" + offset % keys).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return new ConsumerRecord<>("in", 0, offset, key, Long.toString(offset).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    long committed() {
        return commits.getOrDefault(TP, -1L);
    }

    @Override
    public void close() {
        sink.failWith = null;
        if (loop != null) {
            loop.close(System.nanoTime());
            loop.termination().handle((v, e) -> null).join();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
