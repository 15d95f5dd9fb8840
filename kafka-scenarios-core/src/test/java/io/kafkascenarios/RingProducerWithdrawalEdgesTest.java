package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.internal.NanoClock;

/**
 * Withdrawal at its edges, each case one that failed before (found by an adversarial review): close
 * and flush after a withdrawal, a withdrawn record counted before its future failed, a cancelled send.
 */
class RingProducerWithdrawalEdgesTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final FakeSink sink = new FakeSink();
    private RingProducer producer;

    @AfterEach
    void tearDown() {
        sink.unblock();
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** Engine.pending() ignored withdrawn records: close() reported them as "not delivered". */
    @Test
    void closeCountsWithdrawnRecordsAsNotDelivered() {
        producer = RingProducer.builder(Map.of()).build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1);
        CompletableFuture<RecordMetadata> f = producer.send("orders", null, new byte[1], Duration.ofMillis(50));
        await().atMost(WAIT).until(f::isDone);
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats s = producer.stats();
        assertThat(s.withdrawn()).isEqualTo(1);
        assertThat(s.pending()).isZero();
        long notDelivered = producer.close(Duration.ofSeconds(5));
        assertThat(producer.stats().pending()).isZero();
        boolean flushed = producer.flush(Duration.ofSeconds(1));
        assertThat(flushed)
                .as("after close, flush returns whether nothing is pending").isTrue();
        assertThat(notDelivered).as("nothing was pending when close started").isZero();
    }

    /**
     * The flusher counted the record withdrawn (and flush() returned true) while the deadline that
     * withdrew it had not yet failed its future: now the flusher fails it first.
     */
    @Test
    void flushTrueWhileTheWithdrawnFutureIsNotYetCompleted() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch inRun = new CountDownLatch(1);
        NanoClock clock = () -> {
            if (Thread.currentThread().getName().contains("deadlines")) {
                inRun.countDown(); // TimedCompletion.run: withdraw() done, building the exception
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return System.nanoTime();
        };
        producer = RingProducer.builder(Map.of()).clock(clock).build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1);
        CompletableFuture<RecordMetadata> f = producer.send("orders", null, new byte[1], Duration.ofMillis(50));
        inRun.await();
        sink.unblock();
        try {
            assertThat(producer.flush(WAIT)).isTrue();
            assertThat(producer.stats().withdrawn()).isEqualTo(1);
            assertThat(producer.stats().pending()).isZero();
            assertThat(f).as("flush() returned true, the record is counted withdrawn: its future must be done").isDone();
        } finally {
            hold.countDown();
        }
    }

    /** A cancelled send withdraws nothing: its deadline does nothing, and the record goes to Kafka. */
    @Test
    void aCancelledSendIsNotWithdrawnByItsDeadline() throws Exception {
        producer = RingProducer.builder(Map.of()).build(sink);
        sink.block();
        producer.offer("t", null, new byte[1]);
        await().atMost(WAIT).until(() -> sink.sendCalls.get() == 1);
        CompletableFuture<RecordMetadata> f = producer.send("orders", null, new byte[1], Duration.ofMillis(100));
        assertThat(f.cancel(false)).isTrue();
        Thread.sleep(400); // past its deadline
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats s = producer.stats();
        assertThat(s.withdrawn()).isZero();
        assertThat(s.sendTimeoutsInRing()).isZero();
        assertThat(s.delivered()).isEqualTo(2);
    }
}
