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
import java.util.concurrent.Semaphore;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code send}: one future per record, completed exactly once, by its deadline at the latest. */
class RingProducerSendTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final FakeSink sink = new FakeSink();
    private RingProducer producer;

    private final RecordingListener listener = new RecordingListener();

    private RingProducer.Builder builder() {
        return RingProducer.builder(Map.of()).listener(listener).reportInterval(Duration.ofMillis(20));
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

    @Test
    void theFutureCompletesWithTheBrokersAnswer() {
        producer = builder().build(sink);
        CompletableFuture<RecordMetadata> f = producer.send("orders", 2, RingProducer.NO_TIMESTAMP,
                "k".getBytes(UTF_8), "v".getBytes(UTF_8), null, Duration.ofSeconds(5));
        RecordMetadata md = f.join();
        assertThat(md.topic()).isEqualTo("orders");
        assertThat(md.partition()).isEqualTo(2);
        assertThat(sink.sent()).singleElement().satisfies(r -> assertThat(r.value()).isEqualTo("v".getBytes(UTF_8)));
        // The future completes just before the record is counted (so that a counted record's future is done).
        await().atMost(Duration.ofSeconds(20)).until(() -> producer.stats().delivered() == 1);
    }

    @Test
    void aKafkaFailureFailsTheFutureWithKafkasException() {
        producer = builder().build(sink);
        sink.failWith = new RecordTooLargeException("too large for the broker");
        CompletableFuture<RecordMetadata> f = producer.send("orders", null, new byte[1]);
        assertThat(f).failsWithin(WAIT).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .withCauseInstanceOf(RecordTooLargeException.class);
        await().atMost(WAIT).until(() -> producer.stats().failed() == 1);
    }

    @Test
    void aMissingAcknowledgementTimesOutSayingSo() {
        producer = builder().build(sink);
        sink.ackGate = new Semaphore(0);
        CompletableFuture<RecordMetadata> f = producer.send("orders", null, new byte[1], Duration.ofMillis(100));
        SendTimeoutException e = timeoutOf(f);
        assertThat(e.stage()).isEqualTo(SendTimeoutException.Stage.AWAITING_ACK);
        assertThat(e).hasMessageContaining("acknowledgement").hasMessageContaining("orders");
        // The record is still accounted: delivered when the broker answers late.
        assertThat(producer.stats().pending()).isEqualTo(1);
        // Counted by the deadline thread just after it failed the future.
        await().atMost(WAIT).until(() -> producer.stats().sendTimeoutsAwaitingAck() == 1);
        assertThat(producer.stats().sendTimeoutsInRing() + producer.stats().sendTimeoutsRingSpace()).isZero();
        sink.ackGate.release(1);
        await().atMost(WAIT).until(() -> producer.stats().delivered() == 1);
        assertThat(timeoutOf(f)).isSameAs(e);
    }

    @Test
    void aRecordTimedOutInTheRingIsWithdrawnAndNeverSent() {
        producer = builder().build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]); // holds the flusher in send, as a broker that is down does
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1);
        CompletableFuture<RecordMetadata> f = producer.send("orders", null, new byte[] {42}, Duration.ofMillis(100));
        SendTimeoutException e = timeoutOf(f);
        assertThat(e.stage()).isEqualTo(SendTimeoutException.Stage.IN_RING);
        assertThat(e.mayBeWritten()).isFalse();
        assertThat(e).hasMessageContaining("withdrawn");
        await().atMost(WAIT).until(() -> producer.stats().sendTimeoutsInRing() == 1);
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats s = producer.stats();
        assertThat(s.delivered()).as("only the offer: the withdrawn record never reached Kafka").isEqualTo(1);
        assertThat(s.withdrawn()).isEqualTo(1);
        assertThat(s.pending()).isZero();
        assertThat(s.offered()).isEqualTo(s.delivered() + s.discarded() + s.failed() + s.withdrawn());
        assertThat(sink.sent()).noneMatch(r -> r.topic().equals("orders"));
        assertThat(listener.failures).as("the caller was told; nothing is reported as failed").isEmpty();
    }

    @Test
    void theRecordInsideKafkasSendIsNotWithdrawnAndMayStillBeWritten() {
        producer = builder().build(sink);
        sink.block(); // the flusher's send() of this very record blocks, as a wait for metadata does
        CompletableFuture<RecordMetadata> f = producer.send("orders", null, new byte[1], Duration.ofMillis(100));
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1);
        SendTimeoutException e = timeoutOf(f);
        assertThat(e.stage()).isEqualTo(SendTimeoutException.Stage.AWAITING_ACK);
        assertThat(e.mayBeWritten()).isTrue();
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).as("it was written after all, as the exception warned").isEqualTo(1);
        assertThat(producer.stats().withdrawn()).isZero();
    }

    @Test
    void aFullRingWaitsUpToTheDeadlineOrFailsFast() {
        producer = builder().ringSize(4).build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1); // the flusher holds one, blocked
        while (producer.offer("t", null, new byte[1])) {
            // fill the ring
        }
        long discarded = producer.stats().discarded();
        CompletableFuture<RecordMetadata> waited = producer.send("orders", null, new byte[1], Duration.ofMillis(50));
        assertThat(timeoutOf(waited).stage()).isEqualTo(SendTimeoutException.Stage.RING_SPACE);
        assertThat(timeoutOf(waited).elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(50));
        assertThat(producer.stats().discarded()).isEqualTo(discarded + 1);
        assertThat(producer.stats().sendTimeoutsRingSpace()).isEqualTo(1);
        producer.close(Duration.ofMillis(100));

        FakeSink other = new FakeSink();
        producer = builder().ringSize(4).sendWaitsForSpace(false).build(other);
        other.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> other.sendCalls.get() == 1);
        while (producer.offer("t", null, new byte[1])) {
            // fill the ring
        }
        CompletableFuture<RecordMetadata> fast = producer.send("orders", null, new byte[1], Duration.ofSeconds(30));
        assertThat(fast).isCompletedExceptionally();
        assertThat(timeoutOf(fast).stage()).isEqualTo(SendTimeoutException.Stage.RING_SPACE);
        other.unblock();
    }

    @Test
    void closeFailsWhatItCouldNotDeliverAndRefusesLaterSends() {
        producer = builder().build(sink);
        sink.block();
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            futures.add(producer.send("orders", null, new byte[1], Duration.ofMinutes(5)));
        }
        assertThat(producer.close(Duration.ofMillis(200))).isEqualTo(10);
        assertThat(futures).allSatisfy(f -> assertThat(f).isCompletedExceptionally());
        assertThatThrownBy(() -> producer.send("orders", null, new byte[1]))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void sendsRacingCloseEitherThrowOrGetAFutureThatCompletes() throws Exception {
        producer = builder().ringSize(64).build(sink);
        sink.keepRecords = false;
        List<CompletableFuture<RecordMetadata>> futures = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();
        List<CompletableFuture<Void>> callers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            callers.add(CompletableFuture.runAsync(() -> {
                while (true) {
                    try {
                        futures.add(producer.send("orders", null, new byte[8], Duration.ofSeconds(30)));
                    } catch (IllegalStateException closed) {
                        refused.incrementAndGet();
                        return;
                    }
                }
            }, r -> new Thread(r).start()));
        }
        await().atMost(WAIT).until(() -> futures.size() > 1_000);
        producer.close(Duration.ofSeconds(5));
        CompletableFuture.allOf(callers.toArray(new CompletableFuture[0])).get();

        assertThat(refused.get()).isEqualTo(4);
        // No future is left hanging: each is delivered, or failed by close.
        assertThat(futures).allSatisfy(f -> assertThat(f.handle((md, e) -> md != null)).succeedsWithin(WAIT));
        RingStats stats = producer.stats();
        assertThat(stats.pending()).isZero();
        assertThat(stats.offered()).isEqualTo(futures.size());
        assertThat(stats.delivered() + stats.failed()).isEqualTo(futures.size());
        assertThat(futures.stream().filter(f -> !f.isCompletedExceptionally()).count()).isEqualTo(stats.delivered());
    }

    @Test
    void argumentErrorsThrowAtOnce() {
        producer = builder().slotCapacity(16).build(sink);
        assertThatThrownBy(() -> producer.send(null, null, new byte[1])).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> producer.send("t", null, new byte[17]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("17 bytes");
        assertThatThrownBy(() -> producer.send("t", null, new byte[1], Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        assertThat(producer.stats().offered()).isZero();
    }

    @Test
    void manyConcurrentSendsEachCompleteOnce() throws Exception {
        producer = builder().ringSize(64).build(sink);
        sink.keepRecords = false;
        List<CompletableFuture<List<CompletableFuture<RecordMetadata>>>> callers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            callers.add(CompletableFuture.supplyAsync(() -> {
                List<CompletableFuture<RecordMetadata>> mine = new ArrayList<>();
                for (int i = 0; i < 5_000; i++) {
                    mine.add(producer.send("orders", null, new byte[8], Duration.ofSeconds(30)));
                }
                return mine;
            }, r -> new Thread(r).start()));
        }
        long done = 0;
        for (CompletableFuture<List<CompletableFuture<RecordMetadata>>> c : callers) {
            for (CompletableFuture<RecordMetadata> f : c.get()) {
                assertThat(f.get().topic()).isEqualTo("orders");
                done++;
            }
        }
        assertThat(done).isEqualTo(20_000);
        assertThat(producer.stats().delivered()).isEqualTo(20_000);
    }

    private static SendTimeoutException timeoutOf(CompletableFuture<RecordMetadata> f) {
        Throwable t = f.handle((md, e) -> e).join();
        assertThat(t).isInstanceOf(SendTimeoutException.class);
        return (SendTimeoutException) t;
    }
}
