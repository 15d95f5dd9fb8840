package io.kafkascenarios;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RingProducerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final RecordWriter<CharSequence> UTF8 = (text, value) -> value.putUtf8(text);

    private final FakeSink sink = new FakeSink();
    private final RecordingListener listener = new RecordingListener();
    private RingProducer producer;

    private RingProducer.Builder builder() {
        return RingProducer.builder(Map.of()).listener(listener).reportInterval(Duration.ofMillis(20));
    }

    @AfterEach
    void tearDown() {
        sink.unblock();
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void recordsArriveIntactAndInOrder() {
        producer = builder().ringSize(64).onFull(OnFull.BLOCK).build(sink);
        Header[] headers = {new RecordHeader("trace", "abc".getBytes(UTF_8)), new RecordHeader("ünï", null)};
        for (int i = 0; i < 1000; i++) {
            assertThat(producer.offer("t", i % 3, 1000 + i, ("k" + i).getBytes(UTF_8), ("v" + i).getBytes(UTF_8), headers)).isTrue();
        }
        assertThat(producer.offer("t", null, null)).isTrue();

        assertThat(producer.flush(WAIT)).isTrue();

        List<ProducerRecord<byte[], byte[]>> sent = sink.sent();
        assertThat(sent).hasSize(1001);
        for (int i = 0; i < 1000; i++) {
            ProducerRecord<byte[], byte[]> r = sent.get(i);
            assertThat(r.topic()).isEqualTo("t");
            assertThat(r.partition()).isEqualTo(i % 3);
            assertThat(r.timestamp()).isEqualTo(1000L + i);
            assertThat(new String(r.key(), UTF_8)).isEqualTo("k" + i);
            assertThat(new String(r.value(), UTF_8)).isEqualTo("v" + i);
            assertThat(r.headers().toArray()).containsExactly(headers);
        }
        ProducerRecord<byte[], byte[]> tombstone = sent.get(1000);
        assertThat(tombstone.key()).isNull();
        assertThat(tombstone.value()).isNull();
        assertThat(tombstone.partition()).isNull();
        assertThat(tombstone.timestamp()).isNull();
        assertThat(tombstone.headers().toArray()).isEmpty();

        RingStats stats = producer.stats();
        assertThat(stats.offered()).isEqualTo(1001);
        assertThat(stats.delivered()).isEqualTo(1001);
        assertThat(stats.pending()).isZero();
        assertThat(stats.ringCapacity()).isEqualTo(64);
    }

    @Test
    void writerEncodesUtf8IntoTheSlot() {
        producer = builder().build(sink);
        String text = "plain, ünïcödé, 日本語, emoji \uD83D\uDE00, lone \uD800 surrogate";
        assertThat(producer.offerWith("t", UTF8, text)).isTrue();
        assertThat(producer.offerWith("t", 2, 5L, "key".getBytes(UTF_8), (Long n, ValueBuffer v) -> v.putLong(n).putInt(7).put(1), 42L)).isTrue();
        assertThat(producer.flush(WAIT)).isTrue();

        List<ProducerRecord<byte[], byte[]>> sent = sink.sent();
        assertThat(sent.get(0).value()).isEqualTo(text.getBytes(UTF_8));
        assertThat(sent.get(0).key()).isNull();
        assertThat(sent.get(1).key()).isEqualTo("key".getBytes(UTF_8));
        assertThat(sent.get(1).value()).containsExactly(0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 7, 1);
    }

    @Test
    void oversizedRecordIsRefusedWithBothSizesAndNothingIsEnqueued() {
        producer = builder().slotCapacity(100).build(sink);
        assertThatThrownBy(() -> producer.offer("t", new byte[10], new byte[91]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("101 bytes").hasMessageContaining("slot capacity of 100 bytes");
        assertThatThrownBy(() -> producer.offerWith("t", UTF8, "x".repeat(101)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slot capacity is 100 bytes");

        // The ring and the flusher are unharmed: the next record goes through, the aborted slot is skipped.
        assertThat(producer.offer("t", new byte[10], new byte[90])).isTrue();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(sink.sent()).hasSize(1);
        assertThat(producer.stats().offered()).isEqualTo(1);
        assertThat(producer.stats().delivered()).isEqualTo(1);
    }

    @Test
    void badArgumentsNameTheProblem() {
        producer = builder().build(sink);
        assertThatThrownBy(() -> producer.offer(null, null, new byte[1]))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("topic");
        assertThatThrownBy(() -> producer.offer("", null, new byte[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topic");
        assertThatThrownBy(() -> producer.offer("t", -2, RingProducer.NO_TIMESTAMP, null, new byte[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("partition");
        assertThatThrownBy(() -> producer.offer("t", 0, -5, null, new byte[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timestamp");
        assertThatThrownBy(() -> producer.offer("t", 0, 0, null, new byte[1], new Header[] {null}))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("header");
        assertThatThrownBy(() -> RingProducer.builder(Map.of()).ringSize(1000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("power of two");
        assertThatThrownBy(() -> RingProducer.builder(Map.of("bootstrap.servers", "localhost:1",
                        "value.serializer", StringSerializer.class)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("value.serializer")
                .hasMessageContaining("StringSerializer");
        assertThat(producer.stats().offered()).isZero();
    }

    @Test
    void offerAfterCloseThrows() {
        producer = builder().build(sink);
        producer.offer("t", null, new byte[1]);
        assertThat(producer.close(WAIT)).isZero();
        assertThatThrownBy(() -> producer.offer("t", null, new byte[1]))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThat(producer.stats().delivered()).isEqualTo(1);
        assertThat(producer.close(WAIT)).isZero();
    }

    @Test
    void discardOnFullNeverWaitsAndReportsCoalesced() {
        producer = builder().ringSize(16).build(sink);
        sink.block();
        int accepted = countAccepted(10_000);
        // At most the ring plus the one record the blocked flusher holds.
        assertThat(accepted).isBetween(16, 17);
        RingStats stats = producer.stats();
        assertThat(stats.discarded()).isEqualTo(10_000 - accepted);
        assertThat(stats.offered()).isEqualTo(10_000);
        await().atMost(WAIT).until(() -> listener.discarded.get() == 10_000 - accepted);
        // Coalesced: a handful of reports, not one per discard, and never on the caller's thread.
        assertThat(listener.discardCalls.get()).isLessThan(100);
        assertThat(listener.threads).allMatch(name -> name.startsWith("kafka-scenarios-reporter"));

        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(accepted);
        assertThat(producer.stats().pending()).isZero();
    }

    @Test
    void discardIfFullCountsADiscardOnlyWhenTheRingIsFull() {
        producer = builder().ringSize(16).build(sink);
        assertThat(producer.discardIfFull()).as("room in the ring: nothing counted, offer as usual").isFalse();
        assertThat(producer.stats().offered()).isZero();
        sink.block();
        int accepted = countAccepted(100);
        assertThat(producer.discardIfFull()).isTrue();
        assertThat(producer.discardIfFull()).isTrue();
        RingStats stats = producer.stats();
        assertThat(stats.discarded()).isEqualTo(100 - accepted + 2);
        assertThat(stats.offered()).as("a record the caller skipped is an offered one, discarded").isEqualTo(102);
        await().atMost(WAIT).until(() -> listener.discarded.get() == 100 - accepted + 2);
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.discardIfFull()).isFalse();
        stats = producer.stats();
        assertThat(stats.delivered() + stats.discarded()).isEqualTo(stats.offered());
    }

    @Test
    void discardIfFullIsAlwaysFalseWhenBlockingOrClosed() {
        producer = builder().ringSize(4).onFull(OnFull.BLOCK).blockTimeout(Duration.ofMillis(1)).build(sink);
        sink.block();
        countAccepted(10);
        assertThat(producer.discardIfFull()).isFalse();
        sink.unblock();
        producer.close(WAIT);
        assertThat(producer.discardIfFull()).isFalse();
    }

    private int countAccepted(int offers) {
        int accepted = 0;
        for (int i = 0; i < offers; i++) {
            if (producer.offer("t", null, new byte[8])) {
                accepted++;
            }
        }
        return accepted;
    }

    @Test
    void blockOnFullWaitsThenDelivers() throws Exception {
        producer = builder().ringSize(4).onFull(OnFull.BLOCK).build(sink);
        Semaphore gate = sink.block();
        CompletableFuture<Integer> caller = offerNumbered(100);
        await().atMost(WAIT).until(() -> !listener.blocking.isEmpty() && listener.blocking.get(0).waitingNow() == 1);
        assertThat(caller).isNotDone();
        gate.release(1000);
        assertThat(caller.get()).isEqualTo(100);
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats stats = producer.stats();
        assertThat(stats.delivered()).isEqualTo(100);
        assertThat(stats.discarded()).isZero();
        assertThat(stats.blockedCalls()).isPositive();
        assertThat(stats.blockedTime()).isPositive();
        assertThat(sink.sent()).extracting(r -> r.value()[0]).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 100).mapToObj(i -> (byte) i).toList());
        await().atMost(WAIT).until(() -> listener.blocking.stream().mapToLong(BlockingReport::stopped).sum() == stats.blockedCalls());
    }

    /**
     * A blocked caller resumes only once an eighth of the ring is free, so a flusher that frees one slot
     * at a time does not wake it per slot: a blocked call is followed by 7 that do not block. Slack of 20:
     * a wait that outlasts its longest park (about 1.3 ms, if this thread is descheduled) takes a single
     * slot, so that it cannot be starved. Resuming per slot would block about 570 times.
     */
    @Test
    void blockedCallerRefillsTheRingInBurstsNotSlotBySlot() throws Exception {
        producer = builder().ringSize(64).onFull(OnFull.BLOCK).build(sink);
        Semaphore gate = sink.block();
        int records = 640;
        CompletableFuture<Integer> caller = offerNumbered(records);
        while (!caller.isDone()) {
            gate.release(); // one send, so one more slot, at a time
            java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }
        gate.release(records);
        assertThat(caller.get()).isEqualTo(records);
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats stats = producer.stats();
        assertThat(stats.delivered()).isEqualTo(records);
        assertThat(stats.blockedCalls()).isPositive().isLessThanOrEqualTo(records / 8 + 20);
    }

    /**
     * Offers do not signal the flusher, except the first one that finds the ring full: a burst that
     * fills the ring while the flusher is parked wakes it, instead of discarding until the park ends.
     * The park is made 60 s long here, so the records arriving at all means the flusher was woken.
     */
    @Test
    void aCallerThatFindsTheRingFullWakesTheParkedFlusher() {
        List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        producer = builder().ringSize(64).flusherPark(Duration.ofSeconds(60)).threadFactory(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            threads.add(t);
            return t;
        }).build(sink);
        assertThat(producer.offer("t", null, new byte[1])).isTrue();
        // The flusher may already be in its first 60 s park: flush() wakes it (an offer would not).
        assertThat(producer.flush(WAIT)).isTrue();
        await().atMost(WAIT).until(() -> sink.sent().size() == 1 && threads.stream().anyMatch(RingProducerTest::parkedIdle));
        for (int i = 0; i < 64; i++) {
            assertThat(producer.offer("t", null, new byte[1])).isTrue();
        }
        assertThat(producer.offer("t", null, new byte[1])).isFalse(); // full: discarded, and wakes it
        await().atMost(WAIT).until(() -> sink.sent().size() == 65);
        assertThat(producer.stats().discarded()).isEqualTo(1);
    }

    /** Offers records whose one-byte values number them, on another thread; completes with how many were accepted. */
    private CompletableFuture<Integer> offerNumbered(int records) {
        return CompletableFuture.supplyAsync(() -> {
            int accepted = 0;
            for (int i = 0; i < records; i++) {
                if (producer.offer("t", null, new byte[] {(byte) i})) {
                    accepted++;
                }
            }
            return accepted;
        });
    }

    /** @return whether the thread is a flusher parked in its idle wait */
    private static boolean parkedIdle(Thread thread) {
        return thread.getState() == Thread.State.TIMED_WAITING
                && java.util.Arrays.stream(thread.getStackTrace()).anyMatch(f -> f.getClassName().endsWith("FlusherIdle"));
    }

    /** Ring sizes for the BLOCK exits: 2 waits for any slot (spin, then park), 64 for an eighth of the ring. */
    @ParameterizedTest(name = "ring {0}")
    @ValueSource(ints = {2, 64})
    void blockWithDeadlineDiscardsWhenItPasses(int ringSize) {
        producer = builder().ringSize(ringSize).onFull(OnFull.BLOCK).blockTimeout(Duration.ofMillis(20)).build(sink);
        sink.block();
        while (producer.offer("t", null, new byte[1])) {
            // fill the ring
        }
        RingStats stats = producer.stats();
        assertThat(stats.discarded()).isEqualTo(1);
        assertThat(stats.blockedCalls()).isPositive();
        await().atMost(WAIT).until(() -> listener.blocking.stream().mapToLong(BlockingReport::gaveUp).sum() == 1);
    }

    @ParameterizedTest(name = "ring {0}")
    @ValueSource(ints = {2, 64})
    void interruptedBlockedCallerGivesUpKeepsItsInterruptAndIsCounted(int ringSize) throws Exception {
        producer = builder().ringSize(ringSize).onFull(OnFull.BLOCK).build(sink);
        sink.block();
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        CompletableFuture<Boolean> lastOffer = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            boolean accepted = true;
            while (accepted) {
                accepted = producer.offer("t", null, new byte[1]);
            }
            interruptedAfter.set(Thread.currentThread().isInterrupted());
            lastOffer.complete(accepted);
        });
        caller.start();
        await().atMost(WAIT).until(() -> producer.stats().ringRemaining() == 0 && caller.getState() == Thread.State.TIMED_WAITING);
        caller.interrupt();
        assertThat(lastOffer.get()).isFalse();
        assertThat(interruptedAfter).isTrue();
        assertThat(producer.stats().discarded()).isEqualTo(1);
    }

    @Test
    void failuresAreCountedAndReportedOncePerDistinctErrorWithTheirRecords() {
        producer = builder().build(sink);
        sink.failWith = new NetworkException("broker went away");
        for (int i = 0; i < 500; i++) {
            producer.offer("t", 1, RingProducer.NO_TIMESTAMP, ("k" + i).getBytes(UTF_8), ("v" + i).getBytes(UTF_8));
        }
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().failed()).isEqualTo(500);
        await().atMost(WAIT).until(() -> listener.failedCount() == 500);
        assertThat(listener.failures.size()).isLessThan(50);
        FailureReport first = listener.failures.get(0);
        assertThat(first.cause()).isInstanceOf(NetworkException.class).hasMessage("broker went away");
        FailedRecord record = first.records().get(0);
        assertThat(record.topic()).isEqualTo("t");
        assertThat(record.partition()).isEqualTo(1);
        assertThat(record.key()).isEqualTo("k0".getBytes(UTF_8));
        assertThat(record.value()).isEqualTo("v0".getBytes(UTF_8));
        assertThat(listener.threads).allMatch(name -> name.startsWith("kafka-scenarios-reporter"));
    }

    @Test
    void aSendThatThrowsFailsThatRecordAndTheFlusherCarriesOn() {
        producer = builder().build(sink);
        sink.throwOnSend = new IllegalStateException("boom");
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> producer.stats().failed() == 1);
        sink.throwOnSend = null;
        producer.offer("t", null, new byte[1]);
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(1);
        await().atMost(WAIT).until(() -> listener.failedCount() == 1);
        assertThat(listener.failures.get(0).cause()).hasMessage("boom");
    }

    @Test
    void aThrowingListenerBreaksNothing() {
        RingProducerListener throwing = new RingProducerListener() {
            @Override
            public void onDiscarded(long n, long total) {
                throw new IllegalStateException("listener bug");
            }
        };
        producer = RingProducer.builder(Map.of()).listener(throwing).ringSize(2)
                .reportInterval(Duration.ofMillis(10)).build(sink);
        sink.block();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 10; i++) {
                producer.offer("t", null, new byte[1]);
            }
            int r = round;
            await().atMost(WAIT).until(() -> producer.stats().listenerErrors() > r);
        }
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats stats = producer.stats();
        assertThat(stats.delivered() + stats.discarded()).isEqualTo(30);
    }

    @Test
    void closeWithTheBrokerDownReturnsTheExactUndeliveredCount() {
        producer = builder().ringSize(64).build(sink);
        sink.block();
        for (int i = 0; i < 50; i++) {
            assertThat(producer.offer("t", null, new byte[1])).isTrue();
        }
        long undelivered = producer.close(Duration.ofMillis(300));
        assertThat(undelivered).isEqualTo(50);
        RingStats stats = producer.stats();
        assertThat(stats.failed()).isEqualTo(50);
        assertThat(stats.pending()).isZero();
        await().atMost(WAIT).until(() -> listener.failedCount() == 50);
        assertThat(listener.failures).allSatisfy(f -> assertThat(f.cause()).isInstanceOfAny(TimeoutException.class,
                org.apache.kafka.common.errors.InterruptException.class));
    }

    @ParameterizedTest(name = "ring {0}")
    @ValueSource(ints = {2, 64})
    void closeWakesBlockedCallers(int ringSize) throws Exception {
        producer = builder().ringSize(ringSize).onFull(OnFull.BLOCK).build(sink);
        sink.block();
        CompletableFuture<Boolean> caller = CompletableFuture.supplyAsync(() -> {
            boolean accepted = true;
            while (accepted) {
                accepted = producer.offer("t", null, new byte[1]);
            }
            return accepted;
        });
        await().atMost(WAIT).until(() -> !listener.blocking.isEmpty()
                && listener.blocking.get(listener.blocking.size() - 1).waitingNow() == 1);
        producer.close(Duration.ofMillis(200));
        // The blocked caller's record is refused (as after close), not counted as a discard.
        assertThatThrownBy(caller::get).hasCauseInstanceOf(IllegalStateException.class);
        RingStats stats = producer.stats();
        assertThat(stats.offered()).isEqualTo(stats.delivered() + stats.discarded() + stats.failed());
        assertThat(stats.discarded()).isZero();
        assertThat(stats.pending()).isZero();
    }
}
