package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Many callers, a flusher, an I/O thread and a failing sink at once: the accounting must stay exact. */
class RingProducerConcurrencyTest {
    private static final int THREADS = 4;
    private static final int OFFERS_PER_THREAD = 200_000;

    private final FakeSink sink = new FakeSink();
    private final RecordingListener listener = new RecordingListener();
    private RingProducer producer;

    @AfterEach
    void tearDown() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void accountingInvariantHoldsUnderContentionDiscardsAndFailures() throws Exception {
        producer = RingProducer.builder(Map.of()).ringSize(256).maxReportedFailures(10)
                .listener(listener).reportInterval(Duration.ofMillis(10)).build(sink);
        CyclicBarrier start = new CyclicBarrier(THREADS + 1);
        List<CompletableFuture<long[]>> callers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int partition = t;
            callers.add(CompletableFuture.supplyAsync(() -> offerAll(start, partition), r -> new Thread(r, "caller-" + partition).start()));
        }
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> violation = new AtomicReference<>();
        NotLeaderOrFollowerException flap = new NotLeaderOrFollowerException("flap");
        Thread checker = new Thread(() -> {
            RingStats previous = producer.stats();
            while (!done.get()) {
                RingStats s = producer.stats();
                // Snapshots are not atomic, but pending is never negative and no counter goes back
                // (no flush markers or aborted writes happen during the hammer).
                if (s.pending() < 0 || s.offered() < previous.offered() || s.delivered() < previous.delivered()
                        || s.failed() < previous.failed() || s.discarded() < previous.discarded()) {
                    violation.compareAndSet(null, previous + " then " + s);
                }
                previous = s;
                // Flip the sink between acking and failing, as a flapping broker does.
                sink.failWith = (System.nanoTime() / 1_000_000) % 3 == 0 ? flap : null;
            }
            sink.failWith = null;
        });
        checker.start();
        start.await();
        long accepted = 0;
        long refused = 0;
        for (CompletableFuture<long[]> c : callers) {
            long[] r = c.get();
            accepted += r[0];
            refused += r[1];
        }
        done.set(true);
        checker.join();

        assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
        RingStats s = producer.stats();
        assertThat(violation.get()).as("a snapshot broke the invariant").isNull();
        assertThat(s.offered()).isEqualTo((long) THREADS * OFFERS_PER_THREAD);
        assertThat(s.discarded()).isEqualTo(refused);
        assertThat(s.delivered() + s.failed()).isEqualTo(accepted);
        assertThat(s.pending()).isZero();
        assertThat(sink.sendCalls.get()).isEqualTo(accepted);
        assertThat(accepted).isPositive();
        assertThat(refused).isPositive();
        await().atMost(Duration.ofSeconds(20)).until(() -> listener.failedCount() == s.failed()
                && listener.discarded.get() == s.discarded());

        // Every accepted record was sent exactly once, in the order its caller offered it.
        long[] last = new long[THREADS];
        java.util.Arrays.fill(last, -1);
        long seen = 0;
        for (ProducerRecord<byte[], byte[]> r : sink.sent()) {
            long seq = ByteBuffer.wrap(r.value()).getLong();
            assertThat(seq).isGreaterThan(last[r.partition()]);
            last[r.partition()] = seq;
            seen++;
        }
        assertThat(seen).isEqualTo(accepted);
    }

    private long[] offerAll(CyclicBarrier start, int partition) {
        try {
            start.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        long accepted = 0;
        long refused = 0;
        for (long i = 0; i < OFFERS_PER_THREAD; i++) {
            byte[] value = ByteBuffer.allocate(8).putLong(i).array();
            if (producer.offer("t", partition, RingProducer.NO_TIMESTAMP, null, value)) {
                accepted++;
            } else {
                refused++;
            }
        }
        return new long[] {accepted, refused};
    }
}
