package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.internal.stream.Outputs;
import io.kafkascenarios.internal.stream.PollLoop;
import io.kafkascenarios.internal.stream.StreamCounters;
import io.kafkascenarios.internal.stream.StreamSettings;
import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.ProcessingException;

/**
 * The stream processor's poll loop and partition workers against kafka-clients' {@code MockConsumer} and
 * a fake producer sink: how acknowledgement failures are classified, fast and without a broker. (The
 * real-broker behaviour is in the ITs.)
 */
class StreamWorkerTest {
    private static final TopicPartition TP = new TopicPartition("in", 0);
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final FakeSink sink = new FakeSink();
    private final RingProducer producer = RingProducer.builder(Map.of()).listener(new RecordingListener()).build(sink);
    /** Offsets committed, kept after the processor closed its consumer. */
    private final Map<TopicPartition, Long> commits = new java.util.concurrent.ConcurrentHashMap<>();
    private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest") {
        @Override
        public synchronized void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets,
                                             org.apache.kafka.clients.consumer.OffsetCommitCallback callback) {
            super.commitAsync(offsets, callback);
            offsets.forEach((tp, o) -> commits.merge(tp, o.offset(), Math::max));
        }

        @Override
        public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
            super.commitSync(offsets, timeout);
            offsets.forEach((tp, o) -> commits.merge(tp, o.offset(), Math::max));
        }
    };
    private final StreamCounters counters = new StreamCounters();
    private final AtomicInteger handled = new AtomicInteger();
    /** The offset whose output is larger than a slot (1 KiB by default), or -1. */
    private volatile long oversizedOutputAt = -1;
    private PollLoop loop;

    @AfterEach
    void tearDown() {
        sink.failWith = null;
        if (loop != null) {
            loop.close(System.nanoTime());
            loop.termination().handle((v, e) -> null).join();
        }
        producer.close(Duration.ofSeconds(5));
    }

    private void start(FailurePolicy policy, int retries, int records) {
        // What StreamProcessor's builder hands the loop: the producer with its refusals as outcomes.
        Outputs outputs = Outputs.adapting(producer::sendAll);
        StreamSettings settings = new StreamSettings(Map.of(), outputs, List.of("in"), null, batch -> {
            handled.addAndGet(batch.size());
            List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : batch) {
                out.add(new ProducerRecord<>("out", r.key(), r.offset() == oversizedOutputAt ? new byte[4096] : r.value()));
            }
            return out;
        }, retries, Backoff.fixed(Duration.ofMillis(5)), policy, "dlq", Set.of(SerializationException.class), 2, 100,
                1000, 4, Duration.ofMillis(20), Duration.ofMillis(5), Duration.ofSeconds(2), Duration.ofSeconds(5),
                r -> new Thread(r, "stream-test"), "test");
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(TP));
            consumer.updateBeginningOffsets(Map.of(TP, 0L));
            for (int i = 0; i < records; i++) {
                consumer.addRecord(new ConsumerRecord<>("in", 0, i, new byte[] {(byte) i}, new byte[] {(byte) i}));
            }
        });
        loop = new PollLoop(settings, counters, consumer);
        Thread t = new Thread(loop, "stream-test-poll");
        t.setDaemon(true);
        t.start();
    }

    private long committed() {
        return commits.getOrDefault(TP, -1L);
    }

    @Test
    void anOutageIsRetriedAsAWholeAndNeverSkipsARecord() {
        sink.failWith = new TimeoutException("Expiring 10 record(s): delivery timeout"); // Kafka's, retriable
        start(FailurePolicy.SKIP, 50, 10);
        await().atMost(WAIT).until(() -> counters.retries.sum() >= 3);
        assertThat(counters.skipped.sum()).isZero();
        assertThat(committed()).as("nothing acknowledged, nothing committed").isLessThanOrEqualTo(0);
        sink.failWith = null; // the broker is back
        await().atMost(WAIT).until(() -> counters.processed.sum() == 10);
        await().atMost(WAIT).until(() -> committed() == 10);
        assertThat(counters.skipped.sum()).isZero();
        assertThat(loop.termination()).isNotDone();
    }

    @Test
    void anOutageLongerThanTheRetriesStopsWithKafkasCauseWhateverThePolicy() throws Exception {
        sink.failWith = new TimeoutException("Expiring 10 record(s): delivery timeout");
        start(FailurePolicy.DEAD_LETTER, 2, 10);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> loop.termination().get(20, TimeUnit.SECONDS));
        assertThat(e.getCause()).isInstanceOf(ProcessingException.class);
        ProcessingException pe = (ProcessingException) e.getCause();
        assertThat(pe.getCause()).isInstanceOf(TimeoutException.class);
        assertThat(pe.offset()).isZero();
        assertThat(counters.deadLettered.sum() + counters.skipped.sum()).isZero();
        assertThat(committed()).isLessThanOrEqualTo(0);
        assertThat(counters.retries.sum()).isEqualTo(2);
    }

    @Test
    void anOutputTheProducerRefusesMeetsThePolicyWithoutRetries() {
        oversizedOutputAt = 3;
        start(FailurePolicy.SKIP, 3, 6);
        await().atMost(WAIT).until(() -> counters.processed.sum() == 6);
        assertThat(counters.skipped.sum()).isEqualTo(1);
        assertThat(counters.retries.sum()).as("the same output would be refused again").isZero();
        assertThat(counters.produced.sum()).isEqualTo(5);
        await().atMost(WAIT).until(() -> committed() == 6);
        assertThat(loop.termination()).isNotDone();
    }

    @Test
    void anAcknowledgementFailureTheRecordCausedMeetsThePolicy() {
        sink.failWith = new SerializationException("the record's bytes"); // listed as non-retryable
        start(FailurePolicy.SKIP, 3, 5);
        await().atMost(WAIT).until(() -> counters.skipped.sum() == 5);
        assertThat(counters.retries.sum()).isZero();
        await().atMost(WAIT).until(() -> committed() == 5);
    }
}
