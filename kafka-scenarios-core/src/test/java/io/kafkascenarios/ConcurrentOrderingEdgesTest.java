package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.Ordering;

/**
 * The concurrent orderings at their edges (each case once failed): a revoke or close wakes a call
 * parked in its retry backoff instead of waiting it out (PARTITION is the control), the settler's
 * thread is made on the processor's thread and not Kafka's I/O thread, and a call that had not begun
 * when the revoke came does not run.
 */
class ConcurrentOrderingEdgesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Longer than WAIT: a revoke or close that waits out the backoff fails the test by timing out. */
    private static final Duration REVOKE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration BACKOFF = Duration.ofSeconds(120);

    private final LoopFixture fx = new LoopFixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private static List<ProducerRecord<byte[], byte[]>> identity(List<ConsumerRecord<byte[], byte[]>> batch) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(batch.size());
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            out.add(new ProducerRecord<>("out", r.key(), r.value()));
        }
        return out;
    }

    /** A close while a call sleeps in its retry backoff: the call wakes and leaves at once. */
    @ParameterizedTest
    @EnumSource(Ordering.class)
    void closeDoesNotWaitOutARetryBackoff(Ordering ordering) {
        fx.ordering = ordering;
        fx.retries = 3;
        fx.backoff = Backoff.fixed(BACKOFF);
        fx.revokeTimeout = REVOKE_TIMEOUT;
        fx.maxBatch = 1; // no split: offset 0 alone goes to the retry and its backoff
        AtomicInteger calls = new AtomicInteger();
        fx.start(batch -> {
            if (batch.get(0).offset() == 0 && calls.incrementAndGet() == 1) {
                throw new IllegalStateException("transient, retried after the backoff");
            }
            return identity(batch);
        }, 10, 10);
        await().atMost(WAIT).until(() -> fx.counters.retries.sum() == 1);
        // Everything but offset 0 (in offset order, nothing passes it)
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() == (ordering == Ordering.PARTITION ? 0 : 9));
        fx.loop.close(System.nanoTime() + TimeUnit.SECONDS.toNanos(90));
        // Waiting out the backoff would take revokeTimeout (60 s), past WAIT.
        assertThat(fx.loop.termination()).succeedsWithin(WAIT);
    }

    /** The same for a rebalance: the revoke callback (inside poll) does not wait out the backoff. */
    @ParameterizedTest
    @EnumSource(Ordering.class)
    void aRevokeDoesNotWaitOutARetryBackoff(Ordering ordering) {
        fx.ordering = ordering;
        fx.retries = 3;
        fx.backoff = Backoff.fixed(BACKOFF);
        fx.revokeTimeout = REVOKE_TIMEOUT;
        fx.maxBatch = 1; // no split: offset 0 alone goes to the retry and its backoff
        AtomicInteger calls = new AtomicInteger();
        fx.start(batch -> {
            if (batch.get(0).offset() == 0 && calls.incrementAndGet() == 1) {
                throw new IllegalStateException("transient, retried after the backoff");
            }
            return identity(batch);
        }, 10, 10);
        await().atMost(WAIT).until(() -> fx.counters.retries.sum() == 1);
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() == (ordering == Ordering.PARTITION ? 0 : 9));
        AtomicLong afterRevoke = new AtomicLong();
        fx.consumer.schedulePollTask(() -> fx.consumer.rebalance(List.of()));
        fx.consumer.schedulePollTask(() -> afterRevoke.set(System.nanoTime()));
        // Waiting out the backoff would keep the poll thread in the revoke for revokeTimeout (60 s), past WAIT.
        await().atMost(WAIT).until(() -> afterRevoke.get() != 0);
    }

    /** No thread of the processor's is made by whoever completes the first acknowledgement (Kafka's I/O thread). */
    @Test
    void theSettlersThreadIsNotCreatedOnKafkasIoThread() throws Exception {
        fx.ordering = Ordering.KEY;
        Set<String> creators = ConcurrentHashMap.newKeySet();
        fx.threadFactory = r -> {
            creators.add(Thread.currentThread().getName());
            return new Thread(r, "stream-test");
        };
        java.util.concurrent.Semaphore acks = new java.util.concurrent.Semaphore(0);
        fx.sink.ackGate = acks; // acknowledgements arrive after the call registered its settling
        AtomicInteger calls = new AtomicInteger();
        fx.start(batch -> {
            calls.incrementAndGet();
            return identity(batch);
        }, 50, 5);
        await().atMost(WAIT).until(() -> calls.get() >= 1);
        Thread.sleep(200);
        fx.sink.ackGate = null;
        acks.release(1_000_000);
        await().atMost(WAIT).until(() -> fx.committed() == 50);
        assertThat(creators).as("threads that ran the processor's ThreadFactory").doesNotContain("fake-kafka-io");
    }

    /** A call handed to the executor but not begun when the partition is revoked does not run. */
    @Test
    void aCallNotYetStartedWhenTheRevokeBeginsDoesNotRunTheHandler() throws Exception {
        java.util.concurrent.ExecutorService one = java.util.concurrent.Executors.newSingleThreadExecutor(
                r -> new Thread(r, "users-one"));
        try {
            fx.ordering = Ordering.KEY;
            fx.maxConcurrency = 2;
            fx.maxBatch = 1;
            fx.executor = one;
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            AtomicLong revokeStart = new AtomicLong();
            AtomicLong lateCallOffset = new AtomicLong(-1);
            fx.start(batch -> {
                if (revokeStart.get() != 0) {
                    lateCallOffset.set(batch.get(0).offset());
                }
                if (batch.get(0).offset() == 0) {
                    release.await();
                }
                return identity(batch);
            }, 2, 2);
            await().atMost(WAIT).until(() -> fx.loop.partitions().size() == 1 && fx.loop.partitions().iterator().next().queued() == 0);
            fx.consumer.schedulePollTask(() -> {
                revokeStart.set(System.nanoTime());
                fx.consumer.rebalance(List.of());
            });
            await().atMost(WAIT).until(() -> revokeStart.get() != 0);
            Thread.sleep(100);
            release.countDown();
            await().atMost(WAIT).until(() -> fx.counters.processed.sum() >= 1);
            Thread.sleep(300);
            assertThat(lateCallOffset.get()).as("a handler call begun after the revoke").isEqualTo(-1);
        } finally {
            fx.close();
            one.shutdownNow();
        }
    }
}
