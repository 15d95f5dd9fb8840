package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The promises at the edges: interrupts, close racing a slow caller, a replaced producer, a full ring,
 * thread factories. Each test is named after the defect it pins (issue 11, A to G and the three found
 * by reading); each failed on the engine before it. Synchronisation by latches, thread states and
 * Awaitility conditions, never by sleeping.
 */
class RingProducerEdgesTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final FakeSink sink = new FakeSink();
    private final RecordingListener listener = new RecordingListener();
    /** Threads in the order the producer asked for them: reporter, flusher, deadlines, then closers. */
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final List<String> tasks = new CopyOnWriteArrayList<>();
    private RingProducer producer;

    private RingProducer.Builder builder() {
        return RingProducer.builder(Map.of()).listener(listener).reportInterval(Duration.ofMillis(20))
                .threadFactory(r -> {
                    Thread t = new Thread(r, "edge-" + threads.size());
                    t.setDaemon(true);
                    threads.add(t);
                    tasks.add(r.toString());
                    return t;
                });
    }

    private Thread flusher() {
        return threads.get(1);
    }

    @AfterEach
    void tearDown() {
        sink.unblock();
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** A: an interrupt that reaches close while it drains does not cut the drain short. */
    @Test
    void a_anInterruptDuringCloseDoesNotShortenTheDrain() throws Exception {
        producer = builder().build(sink);
        sink.block(); // a slow broker: the flusher waits in send
        for (int i = 0; i < 100; i++) {
            assertThat(producer.offer("t", null, new byte[1])).isTrue();
        }
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1);
        AtomicLong result = new AtomicLong(-1);
        AtomicReference<Boolean> interruptedAfter = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            result.set(producer.close(Duration.ofSeconds(30)));
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        });
        closer.start();
        assertRefusesRecords();
        closer.interrupt();
        // The closer has taken the interrupt (its flag reads clear) before the broker recovers.
        await().atMost(WAIT).until(() -> !closer.isInterrupted());
        sink.unblock();
        closer.join();
        assertThat(result.get()).isZero();
        assertThat(interruptedAfter.get()).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(100);
    }

    /** Waits until close has begun: the ring refuses records. */
    private void assertRefusesRecords() {
        await().atMost(WAIT).until(producer::isClosing);
    }

    /**
     * B: a record claimed before close and committed after close returned is failed and reported, not
     * lost: the flusher keeps going until the close sequence.
     */
    @Test
    void b_aRecordCommittedAfterCloseReturnedIsFailedAndReported() throws Exception {
        producer = builder().build(sink);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> offered = offerHeldBetweenClaimAndCommit(release);

        long notDelivered = producer.close(Duration.ofMillis(200));
        assertThat(notDelivered).isEqualTo(1);
        assertThat(producer.stats().pending()).isEqualTo(1); // in the writer's hands

        release.countDown();
        assertThat(offered.get()).isTrue();
        await().atMost(WAIT).until(() -> producer.stats().pending() == 0);
        RingStats stats = producer.stats();
        assertThat(stats.failed()).isEqualTo(1);
        assertThat(stats.offered()).isEqualTo(1);
        await().atMost(WAIT).until(() -> listener.failedCount() == 1);
        assertThat(listener.failures.get(0).records().get(0).topic()).isEqualTo("slow");
        assertThat(sink.sent()).isEmpty();
    }

    /** B, for send: the future of a record committed after close returned completes. */
    @Test
    void b_aSendCommittedAfterCloseReturnedCompletesItsFuture() throws Exception {
        producer = builder().build(sink);
        CountDownLatch claimed = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Header slow = new SlowHeader(claimed, release);
        CompletableFuture<CompletableFuture<RecordMetadata>> sent = CompletableFuture.supplyAsync(
                () -> producer.send("slow", RingProducer.ANY_PARTITION, RingProducer.NO_TIMESTAMP, null,
                        new byte[1], new Header[] {slow}, Duration.ofSeconds(1)), r -> new Thread(r, "slow-sender").start());
        claimed.await();
        assertThat(producer.close(Duration.ofMillis(200))).isEqualTo(1);
        release.countDown();
        CompletableFuture<RecordMetadata> future = sent.get();
        assertThat(future).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(java.util.concurrent.TimeoutException.class);
        await().atMost(WAIT).until(() -> producer.stats().pending() == 0 && producer.stats().failed() == 1);
    }

    /** B, within the deadline: a record committed while close drains is delivered, not failed. */
    @Test
    void b_aRecordCommittedWhileCloseDrainsIsDelivered() throws Exception {
        producer = builder().build(sink);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> offered = offerHeldBetweenClaimAndCommit(release);
        CompletableFuture<Long> close = CompletableFuture.supplyAsync(() -> producer.close(WAIT),
                r -> new Thread(r, "closer").start());
        assertRefusesRecords();
        release.countDown();
        assertThat(offered.get()).isTrue();
        assertThat(close.get()).isZero();
        assertThat(producer.stats().delivered()).isEqualTo(1);
        assertThat(sink.sent()).hasSize(1);
    }

    /** C: a stray interrupt of the idle flusher is cleared; it parks again instead of spinning. */
    @Test
    void c_aStrayInterruptOfTheIdleFlusherIsClearedAndItParksAgain() {
        producer = builder().build(sink);
        assertThat(producer.offer("t", null, new byte[1])).isTrue();
        await().atMost(WAIT).until(() -> producer.stats().delivered() == 1 && parkedIdle(flusher()));
        flusher().interrupt();
        await().atMost(WAIT).until(() -> !flusher().isInterrupted() && parkedIdle(flusher()));
        assertThat(producer.offer("t", null, new byte[1])).isTrue();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(2);
    }

    /**
     * D: flush() true means every earlier record has its outcome, including records still held by a
     * producer that was replaced after a fatal error and is being closed.
     */
    @Test
    void d_flushWaitsForTheRecordsOfAReplacedProducer() {
        FakeSink first = new FakeSink();
        first.ackGate = new java.util.concurrent.Semaphore(0); // its acks never come
        CountDownLatch closeOld = new CountDownLatch(1);
        first.closeGate = closeOld; // its close takes as long as the test says
        java.util.Iterator<FakeSink> next = List.of(first, sink).iterator();
        producer = builder().build(next::next);
        for (int i = 0; i < 10; i++) {
            assertThat(producer.offer("t", null, new byte[1])).isTrue();
        }
        await().atMost(WAIT).until(() -> first.sendCalls.get() == 10);
        first.throwOnSend = new ProducerFencedException("fenced");
        assertThat(producer.offer("t", null, new byte[1])).isTrue(); // fails, condemns the first producer
        assertThat(producer.offer("t", null, new byte[1])).isTrue(); // replaces it, goes to the second
        await().atMost(WAIT).until(() -> sink.sent().size() == 1);
        await().atMost(WAIT).until(() -> first.closeEntered.getCount() == 0);

        assertThat(producer.flush(Duration.ofMillis(200))).isFalse();
        assertThat(producer.stats().pending()).isEqualTo(10);
        closeOld.countDown();
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats stats = producer.stats();
        assertThat(stats.pending()).isZero();
        assertThat(stats.failed()).isEqualTo(11);
        assertThat(stats.delivered()).isEqualTo(1);
    }

    /** E: a fail-fast send that finds the ring full wakes the parked flusher, as an offer does. */
    @Test
    void e_aFailFastSendOnAFullRingWakesTheParkedFlusher() {
        producer = builder().ringSize(4).sendWaitsForSpace(false).flusherPark(Duration.ofSeconds(60)).build(sink);
        assertThat(producer.offer("t", null, new byte[1])).isTrue();
        // The flusher may already be in its first 60 s park: flush() wakes it (an offer would not).
        assertThat(producer.flush(WAIT)).isTrue();
        await().atMost(WAIT).until(() -> sink.sent().size() == 1 && parkedIdle(flusher()));
        for (int i = 0; i < 4; i++) {
            assertThat(producer.offer("t", null, new byte[1])).isTrue();
        }
        CompletableFuture<RecordMetadata> refused = producer.send("t", null, new byte[1]);
        assertThat(refused).isCompletedExceptionally();
        await().atMost(WAIT).until(() -> sink.sent().size() == 5);
    }

    /** F: while a caller holds a claimed slot, the flusher parks instead of spinning on the cursor. */
    @Test
    void f_theFlusherParksWhileAClaimedSlotIsUnpublished() throws Exception {
        producer = builder().build(sink);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> offered = offerHeldBetweenClaimAndCommit(release);
        await().atMost(WAIT).until(() -> parkedIdle(flusher()));
        release.countDown();
        assertThat(offered.get()).isTrue();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(1);
    }

    /** G: a thread factory that returns null for the deadline thread is refused when building. */
    @Test
    void g_aFactoryWithoutADeadlineThreadIsRefusedWhenBuilding() {
        List<Runnable> asked = new ArrayList<>();
        RingProducer.Builder b = RingProducer.builder(Map.of()).listener(listener).threadFactory(r -> {
            asked.add(r);
            if (asked.size() == 3) {
                return null;
            }
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        assertThatThrownBy(() -> b.build(sink)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("deadlines");
        assertThat(sink.closed).isTrue();
    }

    /** G: the thread that closes a replaced producer comes from the user's factory, its role named. */
    @Test
    void g_theProducerCloserComesFromTheUsersFactory() {
        List<FakeSink> made = new CopyOnWriteArrayList<>();
        producer = builder().build(() -> {
            FakeSink s = new FakeSink();
            made.add(s);
            return s;
        });
        assertThat(tasks).containsExactly("kafka-scenarios-reporter", "kafka-scenarios-flusher",
                "kafka-scenarios-deadlines");
        made.get(0).throwOnSend = new ProducerFencedException("fenced");
        assertThat(producer.offer("t", null, new byte[1])).isTrue();
        assertThat(producer.offer("t", null, new byte[1])).isTrue();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(made).hasSize(2);
        assertThat(made.get(0).closed).isTrue();
        assertThat(tasks).contains("kafka-scenarios-producer-closer");
    }

    /** G: with a factory that makes no closer thread, the flusher closes the replaced producer itself. */
    @Test
    void g_withoutACloserThreadTheFlusherClosesTheReplacedProducer() {
        List<FakeSink> made = new CopyOnWriteArrayList<>();
        producer = RingProducer.builder(Map.of()).listener(listener).threadFactory(r -> {
            if (r.toString().endsWith("producer-closer")) {
                return null;
            }
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        }).build(() -> {
            FakeSink s = new FakeSink();
            made.add(s);
            return s;
        });
        made.get(0).throwOnSend = new ProducerFencedException("fenced");
        producer.offer("t", null, new byte[1]);
        producer.offer("t", null, new byte[1]);
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(made.get(0).closed).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(1);
    }

    /** Read: a copy-out that fails is reported with the record's own topic (covered in FlusherTest). */

    /**
     * Read: stats are final once close returns with nothing pending. Acks never come: Kafka's close gets
     * the deadline less the reserve (a fifth of it), aborts the records and calls them back within it.
     */
    @Test
    void statsAreFinalWhenCloseReturnsWithNothingPending() {
        producer = builder().build(sink);
        sink.ackGate = new java.util.concurrent.Semaphore(0); // nothing is ever acknowledged
        for (int i = 0; i < 10; i++) {
            producer.offer("t", null, new byte[1]);
        }
        long notDelivered = producer.close(Duration.ofMillis(500));
        RingStats after = producer.stats();
        assertThat(after.pending()).isZero();
        assertThat(notDelivered).isEqualTo(10);
        assertThat(after.failed()).isEqualTo(10);
        assertThat(producer.flush(Duration.ZERO)).isTrue();
        assertThat(producer.stats().toString()).isEqualTo(after.toString());
    }

    /** Read: concurrent closes agree; failures from before close are not counted as undelivered by it. */
    @Test
    void concurrentClosesReturnTheSameCount() throws Exception {
        for (int round = 0; round < 50; round++) {
            FakeSink s = new FakeSink();
            RingProducer p = RingProducer.builder(Map.of()).listener(listener).build(s);
            s.failWith = new org.apache.kafka.common.errors.NetworkException("down");
            for (int i = 0; i < 5; i++) {
                p.offer("t", null, new byte[1]);
            }
            assertThat(p.flush(WAIT)).isTrue();
            CountDownLatch go = new CountDownLatch(1);
            CompletableFuture<Long> one = CompletableFuture.supplyAsync(() -> {
                awaitUninterruptibly(go);
                return p.close(WAIT);
            }, r -> new Thread(r).start());
            CompletableFuture<Long> two = CompletableFuture.supplyAsync(() -> {
                awaitUninterruptibly(go);
                return p.close(WAIT);
            }, r -> new Thread(r).start());
            go.countDown();
            assertThat(one.get()).isZero();
            assertThat(two.get()).isZero();
        }
    }

    /** Interrupts, per call: a send waiting for ring space gives up, fails with InterruptException, keeps the status. */
    @Test
    void anInterruptedSendWaitingForSpaceFailsAndKeepsItsInterrupt() throws Exception {
        producer = builder().ringSize(2).build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1); // the flusher holds it, blocked in send
        while (producer.stats().ringRemaining() > 0) {
            producer.offer("t", null, new byte[1]);
        }
        AtomicReference<CompletableFuture<RecordMetadata>> future = new AtomicReference<>();
        AtomicReference<Boolean> interruptedAfter = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            future.set(producer.send("t", null, new byte[1], Duration.ofMinutes(5)));
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        });
        caller.start();
        await().atMost(WAIT).until(() -> caller.getState() == Thread.State.TIMED_WAITING);
        caller.interrupt();
        caller.join();
        assertThat(interruptedAfter.get()).isTrue();
        assertThat(future.get()).failsWithin(WAIT).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(InterruptException.class);
        assertThat(producer.stats().discarded()).isEqualTo(1);
    }

    /** Interrupts, per call: flush returns false at once and keeps the status. */
    @Test
    void anInterruptedFlushReturnsFalseAndKeepsItsInterrupt() {
        producer = builder().build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        Thread.currentThread().interrupt();
        try {
            assertThat(producer.flush(Duration.ofMinutes(5))).isFalse();
        } finally {
            assertThat(Thread.interrupted()).isTrue();
        }
    }

    /**
     * Offers a record from another thread whose writer holds the claimed slot until {@code release};
     * returns once the slot is claimed.
     */
    private CompletableFuture<Boolean> offerHeldBetweenClaimAndCommit(CountDownLatch release) throws InterruptedException {
        CountDownLatch claimed = new CountDownLatch(1);
        CompletableFuture<Boolean> offered = CompletableFuture.supplyAsync(() -> producer.offerWith("slow", (arg, buf) -> {
            claimed.countDown();
            awaitUninterruptibly(release);
            buf.put(new byte[] {7}, 0, 1);
        }, null), r -> new Thread(r, "slow-writer").start());
        claimed.await();
        return offered;
    }

    /** @return whether the thread is a flusher parked in its idle wait */
    static boolean parkedIdle(Thread thread) {
        return thread.getState() == Thread.State.TIMED_WAITING
                && java.util.Arrays.stream(thread.getStackTrace()).anyMatch(f -> f.getClassName().endsWith("FlusherIdle")
                        || f.getClassName().endsWith("FlusherWaitStrategy"));
    }

    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** A header whose value the producer reads twice (size check, copy): the second read waits. */
    private static final class SlowHeader implements Header {
        private final CountDownLatch claimed;
        private final CountDownLatch release;
        private int reads;

        SlowHeader(CountDownLatch claimed, CountDownLatch release) {
            this.claimed = claimed;
            this.release = release;
        }

        @Override
        public String key() {
            return "h";
        }

        @Override
        public byte[] value() {
            if (++reads == 2) {
                claimed.countDown();
                awaitUninterruptibly(release);
            }
            return new byte[] {1};
        }
    }
}
