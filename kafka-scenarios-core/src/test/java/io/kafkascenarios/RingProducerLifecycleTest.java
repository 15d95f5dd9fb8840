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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Close racing offers and flushes, interrupts, misbehaving input: nothing may be left pending or lost. */
class RingProducerLifecycleTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final FakeSink sink = new FakeSink();
    private final RecordingListener listener = new RecordingListener();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private RingProducer producer;

    private RingProducer.Builder builder() {
        return RingProducer.builder(Map.of()).listener(listener).reportInterval(Duration.ofMillis(20))
                .threadFactory(r -> {
                    Thread t = new Thread(r, "lifecycle-" + threads.size());
                    t.setDaemon(true);
                    threads.add(t);
                    return t;
                });
    }

    @AfterEach
    void tearDown() {
        sink.unblock();
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void closeRacingOffersLeavesNothingPending() throws Exception {
        producer = builder().ringSize(128).build(sink);
        AtomicLong accepted = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong rejected = new AtomicLong();
        CountDownLatch running = new CountDownLatch(4);
        List<CompletableFuture<Void>> callers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            callers.add(CompletableFuture.runAsync(() -> {
                running.countDown();
                while (true) {
                    try {
                        if (producer.offer("t", null, new byte[4])) {
                            accepted.incrementAndGet();
                        } else {
                            refused.incrementAndGet();
                        }
                    } catch (IllegalStateException closed) {
                        rejected.incrementAndGet();
                        return;
                    }
                }
            }, r -> new Thread(r).start()));
        }
        running.await();
        Thread.sleep(50);
        long notDelivered = producer.close(WAIT);
        CompletableFuture.allOf(callers.toArray(new CompletableFuture[0])).get();

        RingStats stats = producer.stats();
        assertThat(rejected.get()).isEqualTo(4);
        assertThat(stats.pending()).isZero();
        assertThat(stats.offered()).isEqualTo(accepted.get() + refused.get());
        assertThat(stats.delivered() + stats.failed()).isEqualTo(accepted.get());
        assertThat(stats.discarded()).isEqualTo(refused.get());
        assertThat(notDelivered).isEqualTo(stats.failed());
    }

    @Test
    void aFlushRacingCloseReturns() throws Exception {
        producer = builder().ringSize(16).build(sink);
        sink.block();
        for (int i = 0; i < 16; i++) {
            producer.offer("t", null, new byte[1]);
        }
        CompletableFuture<Boolean> flush = CompletableFuture.supplyAsync(() -> producer.flush(Duration.ofDays(1)),
                r -> new Thread(r).start());
        producer.close(Duration.ofMillis(300));
        assertThat(flush.get()).isFalse();
        assertThat(producer.stats().pending()).isZero();
        assertThat(producer.flush(Duration.ofDays(1))).isTrue();
    }

    @Test
    void anInterruptedCloserStillDrainsAndKeepsItsInterrupt() {
        producer = builder().build(sink);
        for (int i = 0; i < 1000; i++) {
            producer.offer("t", null, new byte[1]);
        }
        Thread.currentThread().interrupt();
        long notDelivered;
        try {
            notDelivered = producer.close(WAIT);
        } finally {
            assertThat(Thread.interrupted()).isTrue();
        }
        assertThat(notDelivered).isZero();
        assertThat(producer.stats().delivered()).isEqualTo(1000);
    }

    /**
     * A stray interrupt of the flusher while Kafka blocks in send (its metadata wait) is not a failure:
     * Kafka throws before appending, and the flusher sends the record again.
     */
    @Test
    void aStrayInterruptOfTheFlusherBlockedInSendChangesNothing() {
        producer = builder().build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1);
        threads.get(1).interrupt(); // the flusher, blocked in send as in KafkaProducer's metadata wait
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 2); // sent again, blocked again
        sink.unblock();
        for (int i = 0; i < 100; i++) {
            producer.offer("t", null, new byte[1]);
        }
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(101);
        assertThat(producer.stats().failed()).isZero();
        assertThat(sink.sent()).hasSize(101);
        assertThat(threads.get(1).isInterrupted()).isFalse();
    }

    /** A stray interrupt of the flusher in Kafka's flush at a marker: flushed again, and flush() is true. */
    @Test
    void aStrayInterruptOfTheFlusherInKafkaFlushDoesNotFailTheFlush() throws Exception {
        producer = builder().build(sink);
        sink.ackGate = new java.util.concurrent.Semaphore(0); // the record stays incomplete: Kafka's flush waits
        producer.offer("t", null, new byte[1]);
        CompletableFuture<Boolean> flush = CompletableFuture.supplyAsync(() -> producer.flush(WAIT),
                r -> new Thread(r).start());
        await().atMost(WAIT).until(() -> threads.get(1).getState() == Thread.State.RUNNABLE
                && sink.sendCalls.get() == 1 && isInKafkaFlush(threads.get(1)));
        threads.get(1).interrupt();
        await().atMost(WAIT).until(() -> !threads.get(1).isInterrupted() && isInKafkaFlush(threads.get(1)));
        sink.ackGate.release(1);
        assertThat(flush.get()).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(1);
    }

    private static boolean isInKafkaFlush(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().endsWith("FakeSink") && e.getMethodName().equals("flush")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void headersThatChangeBetweenSizingAndCopyingDoNotWedgeTheRing() {
        producer = builder().slotCapacity(64).build(sink);
        AtomicInteger calls = new AtomicInteger();
        Header growing = new Header() {
            @Override
            public String key() {
                return "h";
            }

            @Override
            public byte[] value() {
                return new byte[calls.incrementAndGet() == 1 ? 1 : 1000];
            }
        };
        assertThatThrownBy(() -> producer.offer("t", 0, 0, null, new byte[1], new Header[] {growing}))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(producer.offer("t", null, new byte[1])).isTrue();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(1);
        assertThat(producer.stats().offered()).isEqualTo(1);
    }

    @Test
    void failedRecordsHeldForTheListenerAreBoundedButAllAreCounted() {
        producer = builder().maxReportedFailures(10).build(sink);
        sink.failWith = new NetworkException("down");
        sink.block(); // let the failures pile up before the reporter drains them
        for (int i = 0; i < 100; i++) {
            producer.offer("t", null, new byte[] {(byte) i});
        }
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().failed()).isEqualTo(100);
        await().atMost(WAIT).until(() -> listener.failedCount() == 100);
        long kept = listener.failures.stream().mapToLong(f -> f.records().size()).sum();
        long omitted = listener.failures.stream().mapToLong(FailureReport::omitted).sum();
        assertThat(kept + omitted).isEqualTo(100);
        assertThat(omitted).isPositive();
        assertThat(listener.failures).allSatisfy(f -> assertThat(f.cause()).isInstanceOf(NetworkException.class));
    }

    @Test
    void aWriterThatThrowsAbortsOnlyItsOwnRecord() {
        producer = builder().build(sink);
        RecordWriter<String> broken = (s, out) -> {
            out.putUtf8(s);
            throw new IllegalStateException("encoder bug");
        };
        assertThatThrownBy(() -> producer.offerWith("t", broken, "x")).hasMessage("encoder bug");
        assertThat(producer.offer("t", null, new byte[1])).isTrue();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(sink.sent()).hasSize(1);
        assertThat(producer.stats().offered()).isEqualTo(1);
    }

    @Test
    void transactionsAreRefused() {
        assertThatThrownBy(() -> RingProducer.builder(Map.of("bootstrap.servers", "localhost:1",
                        "transactional.id", "tx")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("transactional.id");
    }
}
