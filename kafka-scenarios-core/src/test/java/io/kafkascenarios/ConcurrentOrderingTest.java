package io.kafkascenarios;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.internal.stream.AssignedPartition;
import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.Ordering;
import io.kafkascenarios.stream.ProcessingException;

/**
 * The key and unordered orderings against {@code MockConsumer} and a fake producer: concurrency within
 * one partition, per-key order, commits that never pass a record not done, failures, close.
 */
class ConcurrentOrderingTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final LoopFixture fx = new LoopFixture();
    /** Per key, the offsets in the order the handler saw them. */
    private final Map<String, List<Long>> seenPerKey = new ConcurrentHashMap<>();
    private final Set<String> keysInCall = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean sameKeyAtOnce = new AtomicBoolean();
    private final AtomicBoolean mixedKeysInACall = new AtomicBoolean();
    private final AtomicInteger callsNow = new AtomicInteger();
    private final AtomicInteger mostCallsAtOnce = new AtomicInteger();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private static String key(ConsumerRecord<byte[], byte[]> r) {
        return new String(r.key(), UTF_8);
    }

    private static List<ProducerRecord<byte[], byte[]>> identity(List<ConsumerRecord<byte[], byte[]>> batch) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(batch.size());
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            out.add(new ProducerRecord<>("out", r.key(), r.value()));
        }
        return out;
    }

    /** Records what a call sees: keys in it, calls at once, per-key order. */
    private void enter(List<ConsumerRecord<byte[], byte[]>> batch) {
        mostCallsAtOnce.accumulateAndGet(callsNow.incrementAndGet(), Math::max);
        String k = key(batch.get(0));
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            if (!key(r).equals(k)) {
                mixedKeysInACall.set(true);
            }
            seenPerKey.computeIfAbsent(key(r), x -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(r.offset());
        }
        if (!keysInCall.add(k)) {
            sameKeyAtOnce.set(true);
        }
    }

    private void leave(List<ConsumerRecord<byte[], byte[]>> batch) {
        keysInCall.remove(key(batch.get(0)));
        callsNow.decrementAndGet();
    }

    /** Per key, the offsets of the outputs' first appearances, in topic order. */
    private Map<String, List<Long>> outputsPerKey() {
        Map<String, List<Long>> per = new HashMap<>();
        Map<String, Set<Long>> seen = new HashMap<>();
        for (ProducerRecord<byte[], byte[]> r : fx.sink.sent()) {
            String k = new String(r.key(), UTF_8);
            long offset = Long.parseLong(new String(r.value(), UTF_8));
            if (seen.computeIfAbsent(k, x -> new java.util.HashSet<>()).add(offset)) {
                per.computeIfAbsent(k, x -> new ArrayList<>()).add(offset);
            }
        }
        return per;
    }

    private static void assertAscending(Map<String, List<Long>> perKey, int records) {
        int total = 0;
        for (Map.Entry<String, List<Long>> e : perKey.entrySet()) {
            assertThat(e.getValue()).as("key %s", e.getKey()).isSorted().doesNotHaveDuplicates();
            total += e.getValue().size();
        }
        assertThat(total).isEqualTo(records);
    }

    @Test
    void byKeyEachKeysRecordsAreHandledInOrderOneCallAtATimeAndDifferentKeysAtOnce() {
        fx.ordering = Ordering.KEY;
        fx.maxConcurrency = 4;
        CountDownLatch secondCall = new CountDownLatch(2);
        fx.start(batch -> {
            enter(batch);
            try {
                secondCall.countDown();
                // The first calls wait for another to start: only concurrent calls within the partition get past.
                assertThat(secondCall.await(10, TimeUnit.SECONDS)).as("a second call at once").isTrue();
                Thread.sleep(1);
                return identity(batch);
            } finally {
                leave(batch);
            }
        }, 400, 20);
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() == 400);
        await().atMost(WAIT).until(() -> fx.committed() == 400);
        assertThat(fx.loop.termination()).isNotDone();
        assertThat(sameKeyAtOnce).as("two calls of one key at once").isFalse();
        assertThat(mixedKeysInACall).as("a call with records of two keys").isFalse();
        assertThat(mostCallsAtOnce.get()).isBetween(2, 4);
        assertThat(seenPerKey).hasSize(20);
        assertAscending(seenPerKey, 400);
        assertAscending(outputsPerKey(), 400);
        assertThat(fx.sink.sent()).hasSize(400);
    }

    @Test
    void unorderedHandlesOnePartitionConcurrentlyAndCommitsOnlyTheDonePrefix() throws Exception {
        fx.ordering = Ordering.UNORDERED;
        fx.maxConcurrency = 4;
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger blockedCalls = new AtomicInteger();
        fx.start(batch -> {
            enter(batch);
            try {
                if (batch.get(0).offset() == 0 && blockedCalls.incrementAndGet() == 1) {
                    release.await(); // the oldest record is slow: everything after it may finish first
                }
                return identity(batch);
            } finally {
                callsNow.decrementAndGet();
            }
        }, 200, 200);
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() >= 100);
        int firstUnit = 200 - (int) fx.counters.processed.sum(); // every record but the blocked call's
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() == 200 - firstUnit);
        Thread.sleep(100); // several commit intervals
        assertThat(fx.committed()).as("never past the record still running").isLessThanOrEqualTo(0);
        release.countDown();
        await().atMost(WAIT).until(() -> fx.committed() == 200);
        assertThat(fx.counters.processed.sum()).isEqualTo(200);
        assertThat(mostCallsAtOnce.get()).isBetween(2, 4);
    }

    @Test
    void byKeyAPoisonRecordIsSkippedAndTheRestGoesOn() {
        fx.ordering = Ordering.KEY;
        fx.policy = FailurePolicy.SKIP;
        fx.retries = 1;
        fx.start(batch -> {
            for (ConsumerRecord<byte[], byte[]> r : batch) {
                if (r.offset() == 7) {
                    throw new IllegalArgumentException("poison at 7");
                }
            }
            return identity(batch);
        }, 300, 10);
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() == 300);
        await().atMost(WAIT).until(() -> fx.committed() == 300);
        assertThat(fx.counters.skipped.sum()).isEqualTo(1);
        Map<String, List<Long>> out = outputsPerKey();
        assertThat(out.get("k7")).doesNotContain(7L).isSorted();
        assertThat(fx.sink.sent().stream().map(r -> new String(r.value(), UTF_8)).distinct().count()).isEqualTo(299);
    }

    @Test
    void byKeyAPoisonRecordStopsTheProcessorAndNothingPastItIsCommitted() throws Exception {
        fx.ordering = Ordering.KEY;
        fx.retries = 1;
        fx.start(batch -> {
            for (ConsumerRecord<byte[], byte[]> r : batch) {
                if (r.offset() == 57) {
                    throw new IllegalArgumentException("poison at 57");
                }
            }
            return identity(batch);
        }, 300, 10);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> fx.loop.termination().get(20, TimeUnit.SECONDS));
        ProcessingException pe = (ProcessingException) e.getCause();
        assertThat(pe.offset()).isEqualTo(57);
        assertThat(pe.attempts()).isEqualTo(2);
        assertThat(fx.committed()).isBetween(-1L, 57L);
    }

    @Test
    void byKeyFailedOutputsAreRedoneBeforeTheKeysNextRecordsSoEachKeysOutputsStayInOrder() {
        fx.ordering = Ordering.KEY;
        fx.maxConcurrency = 4;
        fx.retries = 100;
        fx.sink.failWith = new TimeoutException("Expiring 1 record(s): delivery timeout"); // Kafka's, transient
        fx.start(ConcurrentOrderingTest::identity, 200, 8);
        await().atMost(WAIT).until(() -> fx.counters.retries.sum() >= 4);
        assertThat(fx.counters.processed.sum()).isZero();
        fx.sink.failWith = null;
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() == 200);
        await().atMost(WAIT).until(() -> fx.committed() == 200);
        assertThat(fx.counters.skipped.sum()).isZero();
        assertAscending(outputsPerKey(), 200);
    }

    @Test
    void closeAbandonsACallThatNeverReturnsAndCommitsOnlyTheDonePrefix() {
        fx.ordering = Ordering.UNORDERED;
        fx.maxConcurrency = 3;
        fx.maxBatch = 1;
        CountDownLatch never = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        fx.start(batch -> {
            if (batch.get(0).offset() == 3) {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    interrupted.set(true);
                    throw e;
                }
            }
            return identity(batch);
        }, 50, 50);
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() == 49);
        await().atMost(WAIT).until(() -> fx.committed() == 3);
        fx.loop.close(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300));
        assertThat(fx.loop.termination()).succeedsWithin(WAIT);
        // Interrupted at the deadline; it leaves the handler on its own time, maybe after termination.
        await().atMost(WAIT).untilTrue(interrupted);
        assertThat(fx.committed()).isEqualTo(3);
    }

    @Test
    void callsRunOnTheUsersExecutor() {
        ExecutorService users = Executors.newFixedThreadPool(3, r -> new Thread(r, "users-pool"));
        try {
            fx.ordering = Ordering.KEY;
            fx.executor = users;
            Set<String> threads = ConcurrentHashMap.newKeySet();
            fx.start(batch -> {
                threads.add(Thread.currentThread().getName());
                return identity(batch);
            }, 100, 10);
            await().atMost(WAIT).until(() -> fx.committed() == 100);
            assertThat(threads).containsOnly("users-pool");
        } finally {
            fx.close();
            users.shutdownNow();
        }
    }

    @Test
    void aPartitionWhoseHandlerIsStuckShowsAsStalledUntilItMoves() throws Exception {
        fx.ordering = Ordering.KEY;
        CountDownLatch release = new CountDownLatch(1);
        fx.start(batch -> {
            if (batch.get(0).offset() == 0) {
                release.await();
            }
            return identity(batch);
        }, 20, 5);
        await().atMost(WAIT).until(() -> stalledNanos() >= TimeUnit.MILLISECONDS.toNanos(100));
        release.countDown();
        await().atMost(WAIT).until(() -> fx.committed() == 20);
        await().atMost(WAIT).until(() -> stalledNanos() == 0);
    }

    private long stalledNanos() {
        long now = System.nanoTime();
        long most = 0;
        for (AssignedPartition p : fx.loop.partitions()) {
            most = Math.max(most, p.progress().stalledNanos(now));
        }
        return most;
    }

    @Test
    void aSlowOldestRecordPausesItsPartitionOnceTheWindowBehindItIsFull() throws Exception {
        fx.ordering = Ordering.UNORDERED;
        fx.maxConcurrency = 4;
        fx.maxQueued = 50;
        fx.maxBatch = 1;
        CountDownLatch release = new CountDownLatch(1);
        fx.start(batch -> {
            if (batch.get(0).offset() == 0) {
                release.await();
            }
            return identity(batch);
        }, 200, 200);
        // Everything after offset 0 is done and nothing is waiting: what holds the partition is the
        // window between its checkpoint and its newest record, bounded like a queue.
        await().atMost(WAIT).until(() -> fx.counters.processed.sum() == 199);
        AssignedPartition p = fx.loop.partitions().iterator().next();
        assertThat(p.queued()).isZero();
        assertThat(p.backlog()).isEqualTo(200);
        await().atMost(WAIT).until(() -> p.progress().paused());
        release.countDown();
        await().atMost(WAIT).until(() -> fx.committed() == 200);
        await().atMost(WAIT).until(() -> !p.progress().paused());
    }
}
