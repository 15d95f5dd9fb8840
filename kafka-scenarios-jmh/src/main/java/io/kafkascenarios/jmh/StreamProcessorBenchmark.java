package io.kafkascenarios.jmh;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.kafkascenarios.RingStats;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;

/**
 * Consume, handle (identity), produce, commit: input records per second through a
 * {@link StreamProcessor} ({@code stream*}) against the hand-written single-thread loop a user would
 * otherwise write ({@code raw*}: poll, send each record, {@code flush()}, {@code commitSync()}), with
 * the same producer settings ({@link BenchCluster#producerConfig}) and consumer settings
 * ({@link BenchCluster#consumerConfig}), on 1 and 6 partitions.
 *
 * <p>Each fork pre-fills its own input topic with {@link #RECORDS} records (10-byte keys, 100-byte
 * values, spread evenly over the partitions); every invocation then reads all of them under a fresh
 * consumer group, produces each one unchanged to the side's output topic (same partition count, the
 * key picks the partition), commits and leaves the group. The measured time therefore includes joining
 * the group, the final commit and leaving (about 0.1 s together with {@code fetch.max.wait.ms=10}; see
 * {@link BenchCluster#consumerConfig} for why not Kafka's 500 ms), the same fixed cost on both sides:
 * it lowers both scores and pulls the ratio towards 1. Outside the measured time each invocation
 * checks, with an Admin client, that the group committed the end of every input partition and that
 * the output topic grew by exactly {@link #RECORDS}: a side that skipped its commits or lost or
 * duplicated outputs fails the benchmark instead of scoring.
 *
 * <p>Threads: JMH's benchmark thread runs the raw loop and starts, watches and closes the processor;
 * the processor runs its own poll thread and worker pool (default settings: 8 workers, batches of up
 * to 500).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// An invocation takes 0.5-5 s: in quick mode an iteration is one invocation, which keeps the step (four
// forks of 2 + 3 iterations) around a minute; --full's 2-3 s iterations average several.
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class StreamProcessorBenchmark extends SideBySide {
    /** Input records per invocation: the whole input topic. */
    static final int RECORDS = 100_000;
    /** An invocation that takes longer than this is stuck: the slowest side needs a few seconds. */
    private static final Duration STUCK = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(100);

    /** Input (and output) partitions: the processor handles partitions in parallel, the loop does not. */
    @Param({"1", "6"})
    public int partitions;

    private String inputTopic;
    private Admin admin;
    private String group;
    private long outputBefore;
    private int groups;
    /** The raw loop's first send failure since its last flush; Kafka's I/O thread writes it. */
    private final AtomicReference<Exception> sendFailure = new AtomicReference<>();
    private final Callback recordFailure = (metadata, exception) -> {
        if (exception != null) {
            sendFailure.compareAndSet(null, exception);
        }
    };

    @Override
    protected void check(RingStats stats) {
        if (stats.discarded() + stats.failed() > 0) {
            throw new IllegalStateException("the ring lost outputs during the run: " + stats);
        }
    }

    @Override
    protected int partitions() {
        return partitions;
    }

    @Override
    protected void prepareTrial() {
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
        inputTopic = "streamprocessorbenchmark-in-" + System.nanoTime();
        cluster.createTopic(inputTopic, partitions, BenchCluster.TOPIC_CONFIG);
        // A plain producer, closed before the measurement: the fork keeps only the side it measures.
        try (KafkaProducer<byte[], byte[]> filler = new KafkaProducer<>(
                BenchCluster.producerConfig(cluster.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                byte[] k = String.format("key-%06d", i).getBytes(StandardCharsets.US_ASCII);
                filler.send(new ProducerRecord<>(inputTopic, i % partitions, k, value), recordFailure);
            }
            filler.flush();
        }
        throwIfSendFailed("pre-filling " + inputTopic);
        long filled = sum(endOffsets(inputTopic));
        if (filled != RECORDS) {
            throw new IllegalStateException("pre-filled " + filled + " records into " + inputTopic + ", expected " + RECORDS);
        }
    }

    @Override
    protected void finishTrial() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(10));
        }
    }

    /** A fresh group per invocation, so that each one reads the input topic from the beginning. */
    @Setup(Level.Invocation)
    public void freshGroup() {
        group = "streamprocessorbenchmark-" + System.nanoTime() + "-" + groups++;
        outputBefore = sum(endOffsets(outputTopic()));
    }

    /**
     * Outside the measured time: the invocation really committed every input offset and produced every
     * output once; then the group is deleted so that hundreds of them do not pile up on the broker.
     */
    @TearDown(Level.Invocation)
    public void verifyInvocation() {
        Map<TopicPartition, Long> end = endOffsets(inputTopic);
        Map<TopicPartition, Long> committed = new HashMap<>();
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            offsets.forEach((tp, o) -> committed.put(tp, o == null ? null : o.offset()));
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the committed offsets of group " + group, e);
        }
        if (!committed.equals(end)) {
            throw new IllegalStateException("group " + group + " committed " + committed + ", the input ends at " + end);
        }
        long produced = sum(endOffsets(outputTopic())) - outputBefore;
        if (produced != RECORDS) {
            throw new IllegalStateException("the invocation produced " + produced + " records, expected " + RECORDS);
        }
        try {
            admin.deleteConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException ignored) {
            // Housekeeping only: an empty group that stays behind costs the broker a few bytes.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The library: a processor started, run until every input record is done, closed. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long streamIdentity() throws InterruptedException {
        String output = ringTopic;
        StreamProcessor processor = StreamProcessor.builder(BenchCluster.consumerConfig(cluster.bootstrapServers(), group), ring)
                .topics(inputTopic)
                .name("bench-stream")
                .recordHandler(r -> List.of(new ProducerRecord<>(output, r.key(), r.value())))
                .start();
        long processed;
        try {
            processed = awaitProcessed(processor);
        } catch (RuntimeException | InterruptedException e) {
            processor.close(Duration.ofSeconds(30)); // the failure to report is e, not how the close went
            throw e;
        }
        // close() commits what is done and leaves the group: the commit is part of what is measured.
        if (!processor.close(Duration.ofSeconds(30))) {
            throw new IllegalStateException("the processor did not close within 30 s: " + processor.health());
        }
        ProcessorHealth health = processor.health();
        if (health.state() != ProcessorHealth.State.CLOSED) {
            throw new IllegalStateException("the processor ended " + health.state() + ": " + health.failure().orElse(null),
                    health.failure().orElse(null));
        }
        return processed;
    }

    /**
     * Waits on the benchmark thread for the processor to have handled every input record. Polls health
     * every millisecond: a spinning watcher would take a core from the processor on a 2-core machine,
     * and a millisecond is under 1% of an invocation.
     */
    private long awaitProcessed(StreamProcessor processor) throws InterruptedException {
        long deadline = System.nanoTime() + STUCK.toNanos();
        while (true) {
            ProcessorHealth health = processor.health();
            if (health.processed() >= RECORDS) {
                return health.processed();
            }
            if (health.state() == ProcessorHealth.State.FAILED || health.state() == ProcessorHealth.State.CLOSED) {
                throw new IllegalStateException("the processor stopped after " + health.processed() + " records: "
                        + health.failure().orElse(null), health.failure().orElse(null));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the processor handled " + health.processed() + " of " + RECORDS
                        + " records in " + STUCK + ": " + health);
            }
            Thread.sleep(1);
        }
    }

    /** The hand-written loop: poll, send each record, flush, commitSync, until every input record is done. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long rawIdentity() {
        long consumed = 0;
        long deadline = System.nanoTime() + STUCK.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                BenchCluster.consumerConfig(cluster.bootstrapServers(), group),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(inputTopic));
            while (consumed < RECORDS) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                if (!records.isEmpty()) {
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        raw.send(new ProducerRecord<>(rawTopic, r.key(), r.value()), recordFailure);
                    }
                    // Commit only what is acknowledged: the same guarantee the processor gives.
                    raw.flush();
                    throwIfSendFailed("producing to " + rawTopic);
                    consumer.commitSync();
                    consumed += records.count();
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("the raw loop consumed " + consumed + " of " + RECORDS + " records in " + STUCK);
                }
            }
        }
        return consumed;
    }

    private void throwIfSendFailed(String what) {
        Exception failure = sendFailure.getAndSet(null);
        if (failure != null) {
            throw new IllegalStateException(what + " failed: " + failure, failure);
        }
    }

    private String outputTopic() {
        return ring != null ? ringTopic : rawTopic;
    }

    private Map<TopicPartition, Long> endOffsets(String topic) {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            request.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<TopicPartition, Long> end = new HashMap<>();
        try {
            admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the end offsets of " + topic, e);
        }
        return end;
    }

    private static long sum(Map<TopicPartition, Long> offsets) {
        long sum = 0;
        for (long o : offsets.values()) {
            sum += o;
        }
        return sum;
    }
}
