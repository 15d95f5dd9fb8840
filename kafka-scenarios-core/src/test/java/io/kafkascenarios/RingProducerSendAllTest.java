package io.kafkascenarios;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code sendAll}: one future for a group, complete only when every record is acknowledged. */
class RingProducerSendAllTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final FakeSink sink = new FakeSink();
    private RingProducer producer;

    private RingProducer.Builder builder() {
        return RingProducer.builder(Map.of()).listener(new RecordingListener());
    }

    @AfterEach
    void tearDown() {
        sink.unblock();
        Semaphore acks = sink.ackGate;
        if (acks != null) {
            acks.release(1_000_000);
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    private static List<ProducerRecord<byte[], byte[]>> records(int n) {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RecordHeaders headers = new RecordHeaders();
            headers.add("h", ("h" + i).getBytes(UTF_8));
            records.add(new ProducerRecord<>("out", i % 3, 1000L + i, ("k" + i).getBytes(UTF_8),
                    ("v" + i).getBytes(UTF_8), headers));
        }
        return records;
    }

    @Test
    void theGroupCompletesOnlyWhenItsLastRecordIsAcknowledged() {
        producer = builder().build(sink);
        sink.ackGate = new Semaphore(0);
        CompletableFuture<Void> group = producer.sendAll(records(5), Duration.ofSeconds(30));
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 5);
        sink.ackGate.release(4);
        await().atMost(WAIT).until(() -> producer.stats().delivered() == 4);
        assertThat(group).isNotDone();
        sink.ackGate.release(1);
        assertThat(group).succeedsWithin(WAIT);
        // In list order, every field carried over.
        List<ProducerRecord<byte[], byte[]>> sent = sink.sent();
        for (int i = 0; i < 5; i++) {
            ProducerRecord<byte[], byte[]> r = sent.get(i);
            assertThat(new String(r.value(), UTF_8)).isEqualTo("v" + i);
            assertThat(new String(r.key(), UTF_8)).isEqualTo("k" + i);
            assertThat(r.partition()).isEqualTo(i % 3);
            assertThat(r.timestamp()).isEqualTo(1000L + i);
            assertThat(new String(r.headers().lastHeader("h").value(), UTF_8)).isEqualTo("h" + i);
        }
    }

    @Test
    void oneFailedRecordFailsTheGroupWithKafkasCause() {
        producer = builder().build(sink);
        sink.failWith = new RecordTooLargeException("too large for the broker");
        CompletableFuture<Void> group = producer.sendAll(records(3), null);
        assertThat(group).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(RecordTooLargeException.class);
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().failed()).isEqualTo(3);
    }

    @Test
    void aMissingAcknowledgementTimesOutTheGroup() {
        producer = builder().build(sink);
        sink.ackGate = new Semaphore(0);
        CompletableFuture<Void> group = producer.sendAll(records(2), Duration.ofMillis(100));
        Throwable t = group.handle((v, e) -> e).join();
        assertThat(t).isInstanceOf(SendTimeoutException.class);
        assertThat(((SendTimeoutException) t).stage()).isEqualTo(SendTimeoutException.Stage.AWAITING_ACK);
        assertThat(producer.stats().pending()).isEqualTo(2);
    }

    @Test
    void aGroupThatFindsNoRoomFailsAndCountsTheRestDiscarded() {
        producer = builder().ringSize(4).build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1); // the flusher is stuck, as with a broker down
        CompletableFuture<Void> group = producer.sendAll(records(10), Duration.ofMillis(100));
        Throwable t = group.handle((v, e) -> e).join();
        assertThat(t).isInstanceOf(SendTimeoutException.class);
        assertThat(((SendTimeoutException) t).stage()).isEqualTo(SendTimeoutException.Stage.RING_SPACE);
        assertThat(((SendTimeoutException) t).mayBeWritten()).as("the enqueued part is withdrawn with the group").isFalse();
        RingStats stats = producer.stats();
        assertThat(stats.offered()).isEqualTo(11);
        assertThat(stats.discarded()).isEqualTo(6); // 4 slots: 4 of the group got in
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        stats = producer.stats();
        assertThat(stats.delivered()).as("only the offer").isEqualTo(1);
        assertThat(stats.withdrawn()).isEqualTo(4);
        assertThat(sink.sent()).noneMatch(r -> r.topic().equals("out"));
        assertThat(stats.offered()).isEqualTo(stats.delivered() + stats.discarded() + stats.failed() + stats.withdrawn() + stats.pending());
        assertThat(stats.pending()).isZero();
    }

    @Test
    void aGroupWhoseDeadlinePassesInTheRingIsWithdrawnWhole() {
        producer = builder().build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1); // the flusher is stuck, as with a broker down
        CompletableFuture<Void> group = producer.sendAll(records(5), Duration.ofMillis(100));
        Throwable t = group.handle((v, e) -> e).join();
        assertThat(t).isInstanceOf(SendTimeoutException.class);
        assertThat(((SendTimeoutException) t).stage()).isEqualTo(SendTimeoutException.Stage.IN_RING);
        assertThat(((SendTimeoutException) t).mayBeWritten()).isFalse();
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats stats = producer.stats();
        assertThat(stats.withdrawn()).isEqualTo(5);
        assertThat(stats.delivered()).isEqualTo(1);
        assertThat(sink.sent()).noneMatch(r -> r.topic().equals("out"));
    }

    @Test
    void aGroupPartlyHandedToKafkaIsNotWithdrawnAndSaysItMayBeWritten() {
        producer = builder().build(sink);
        sink.block(); // the group's first record blocks inside Kafka's send(); the rest wait in the ring
        CompletableFuture<Void> group = producer.sendAll(records(3), Duration.ofMillis(100));
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1);
        Throwable t = group.handle((v, e) -> e).join();
        assertThat(((SendTimeoutException) t).stage()).isEqualTo(SendTimeoutException.Stage.AWAITING_ACK);
        assertThat(((SendTimeoutException) t).mayBeWritten()).isTrue();
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).as("the group went on, whole").isEqualTo(3);
        assertThat(producer.stats().withdrawn()).isZero();
    }

    @Test
    void badInputSendsNothing() {
        producer = builder().slotCapacity(16).build(sink);
        List<ProducerRecord<byte[], byte[]>> group = new ArrayList<>(records(2));
        group.add(new ProducerRecord<>("out", new byte[20]));
        assertThatThrownBy(() -> producer.sendAll(group, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("20 bytes");
        List<ProducerRecord<byte[], byte[]>> withNull = new ArrayList<>(records(1));
        withNull.add(null);
        assertThatThrownBy(() -> producer.sendAll(withNull, null)).isInstanceOf(NullPointerException.class);
        assertThat(producer.stats().offered()).isZero();
        assertThat(producer.sendAll(List.of(), null)).isCompleted();
        producer.close(WAIT);
        assertThatThrownBy(() -> producer.sendAll(records(1), null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    /** A header read once: what it returns later cannot fail the group half-way (found in review). */
    @Test
    void aHeaderIsReadOnceSoItCannotFailTheGroupHalfWay() {
        producer = builder().slotCapacity(64).build(sink);
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        RecordHeaders headers = headerWhoseValue(() -> {
            if (reads.incrementAndGet() > 1) {
                throw new IllegalStateException("read twice");
            }
            return new byte[1];
        });
        List<ProducerRecord<byte[], byte[]>> group = List.of(new ProducerRecord<>("out", null, new byte[1]),
                new ProducerRecord<>("out", null, null, null, new byte[1], headers));
        assertThat(producer.sendAll(group, WAIT)).succeedsWithin(WAIT);
        assertThat(sink.sent()).hasSize(2);
        assertThat(reads.get()).isEqualTo(1);
    }

    /** A header that throws fails the call before any record of the group is in the ring. */
    @Test
    void aHeaderThatThrowsSendsNothing() {
        producer = builder().build(sink);
        RecordHeaders headers = headerWhoseValue(() -> {
            throw new IllegalStateException("broken header");
        });
        List<ProducerRecord<byte[], byte[]>> group = List.of(new ProducerRecord<>("out", null, new byte[1]),
                new ProducerRecord<>("out", null, null, null, new byte[1], headers));
        assertThatThrownBy(() -> producer.sendAll(group, WAIT)).hasMessage("broken header");
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(sink.sent()).isEmpty();
        assertThat(producer.stats().offered()).isZero();
    }

    /** The list is read once: a list that changes under the call cannot slip in an unchecked record (found in review). */
    @Test
    void theListIsReadOnceSoAnUncheckedRecordCannotSlipIn() {
        producer = builder().slotCapacity(64).build(sink);
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        List<ProducerRecord<byte[], byte[]>> changing = new java.util.AbstractList<>() {
            @Override
            public ProducerRecord<byte[], byte[]> get(int index) {
                // The first read of each element is a small record; any later read an oversized one.
                return reads.incrementAndGet() <= 2 ? new ProducerRecord<>("out", new byte[1])
                        : new ProducerRecord<>("out", new byte[4096]);
            }

            @Override
            public int size() {
                return 2;
            }
        };
        assertThat(producer.sendAll(changing, WAIT)).succeedsWithin(WAIT);
        assertThat(sink.sent()).hasSize(2).allSatisfy(r -> assertThat(r.value()).hasSize(1));
        assertThat(reads.get()).isEqualTo(2);
    }

    /** Headers holding one header "h" whose {@code value()} is computed on every read. */
    private static RecordHeaders headerWhoseValue(java.util.function.Supplier<byte[]> value) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(new org.apache.kafka.common.header.Header() {
            @Override
            public String key() {
                return "h";
            }

            @Override
            public byte[] value() {
                return value.get();
            }
        });
        return headers;
    }
}
