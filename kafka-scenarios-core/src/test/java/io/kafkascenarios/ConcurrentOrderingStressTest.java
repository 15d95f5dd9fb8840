package io.kafkascenarios;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.kafkascenarios.internal.stream.Outputs;
import io.kafkascenarios.stream.Ordering;

/**
 * Randomized invariants of the concurrent orderings while outputs fail on and off: no commit passes a
 * record whose outputs were not acknowledged, a key never has two calls at once, each key is first
 * handled in offset order, calls stay within maxConcurrency, and an interrupt never leaks into a task.
 */
class ConcurrentOrderingStressTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final LoopFixture fx = new LoopFixture();
    private final Set<Long> ackedOk = ConcurrentHashMap.newKeySet();
    private final Map<String, List<Long>> firstHandledPerKey = new ConcurrentHashMap<>();
    private final Set<Long> handledOnce = ConcurrentHashMap.newKeySet();
    private final Set<String> keysInCall = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean sameKeyAtOnce = new AtomicBoolean();
    private final AtomicBoolean interruptLeaked = new AtomicBoolean();
    private final AtomicInteger callsNow = new AtomicInteger();
    private final AtomicInteger mostCallsAtOnce = new AtomicInteger();
    private final AtomicReference<String> commitViolation = new AtomicReference<>();
    private ExecutorService users;

    @AfterEach
    void tearDown() {
        fx.close();
        if (users != null) {
            users.shutdownNow();
        }
    }

    private static String key(ConsumerRecord<byte[], byte[]> r) {
        return new String(r.key(), UTF_8);
    }

    @ParameterizedTest
    @CsvSource({"KEY,false", "KEY,true", "UNORDERED,false", "UNORDERED,true"})
    void randomizedOutputFailuresKeepEveryInvariant(Ordering ordering, boolean userExecutor) throws Exception {
        int records = 3000;
        int keys = 23;
        fx.ordering = ordering;
        fx.maxConcurrency = 4;
        fx.maxBatch = 7;
        fx.retries = 1000;
        fx.maxQueued = 400;
        fx.backoff = io.kafkascenarios.stream.Backoff.fixed(Duration.ofMillis(1));
        if (userExecutor) {
            users = Executors.newFixedThreadPool(6, r -> new Thread(r, "users-pool"));
            fx.executor = users;
        }
        fx.outputsWrapper = real -> (outs, timeout) -> {
            Outputs.Sent sent = real.sendAll(outs, timeout);
            if (sent instanceof Outputs.Accepted a) {
                CompletableFuture<Void> g = new CompletableFuture<>();
                a.acked().whenComplete((v, e) -> {
                    if (e == null) {
                        for (ProducerRecord<byte[], byte[]> r : outs) {
                            ackedOk.add(Long.parseLong(new String(r.value(), UTF_8)));
                        }
                        g.complete(null);
                    } else {
                        g.completeExceptionally(e);
                    }
                });
                return new Outputs.Accepted(g);
            }
            return sent;
        };
        fx.onCommit = committed -> {
            for (long o = 0; o < committed; o++) {
                if (!ackedOk.contains(o)) {
                    commitViolation.compareAndSet(null, "committed " + committed + " but " + o + " not acknowledged");
                    return;
                }
            }
        };
        AtomicBoolean stop = new AtomicBoolean();
        Thread flapper = new Thread(() -> {
            while (!stop.get()) {
                fx.sink.failWith = ThreadLocalRandom.current().nextInt(4) == 0
                        ? new TimeoutException("Expiring 1 record(s): flap") : null;
                try {
                    Thread.sleep(ThreadLocalRandom.current().nextInt(3));
                } catch (InterruptedException e) {
                    return;
                }
            }
            fx.sink.failWith = null;
        });
        flapper.setDaemon(true);
        flapper.start();
        try {
            fx.start(batch -> {
                if (Thread.currentThread().isInterrupted()) {
                    interruptLeaked.set(true);
                }
                mostCallsAtOnce.accumulateAndGet(callsNow.incrementAndGet(), Math::max);
                Set<String> mine = new java.util.HashSet<>();
                try {
                    for (ConsumerRecord<byte[], byte[]> r : batch) {
                        if (mine.add(key(r)) && !keysInCall.add(key(r)) && ordering == Ordering.KEY) {
                            sameKeyAtOnce.set(true);
                        }
                        if (handledOnce.add(r.offset())) {
                            firstHandledPerKey.computeIfAbsent(key(r), k -> new CopyOnWriteArrayList<>()).add(r.offset());
                        }
                    }
                    if (ThreadLocalRandom.current().nextInt(3) == 0) {
                        Thread.sleep(ThreadLocalRandom.current().nextInt(3));
                    }
                    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
                    for (ConsumerRecord<byte[], byte[]> r : batch) {
                        out.add(new ProducerRecord<>("out", r.key(), r.value()));
                    }
                    return out;
                } finally {
                    keysInCall.removeAll(mine);
                    callsNow.decrementAndGet();
                }
            }, records, keys);
            await().atMost(WAIT).until(() -> fx.counters.processed.sum() >= records * 0.9);
        } finally {
            stop.set(true);
            flapper.join();
        }
        await().atMost(WAIT).until(() -> fx.committed() == records);
        assertThat(commitViolation.get()).isNull();
        assertThat(fx.counters.processed.sum()).isEqualTo(records);
        assertThat(mostCallsAtOnce.get()).isLessThanOrEqualTo(4);
        assertThat(interruptLeaked).isFalse();
        if (ordering == Ordering.KEY) {
            assertThat(sameKeyAtOnce).isFalse();
            firstHandledPerKey.forEach((k, l) -> assertThat(l).as("key %s", k).isSorted());
        }
    }
}
