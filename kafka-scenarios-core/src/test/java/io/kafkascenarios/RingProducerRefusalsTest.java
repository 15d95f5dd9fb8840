package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.internal.RecordSink;

/**
 * Kafka's refusals (a denied topic, a refused login) fail the records they cover at once for the
 * retry interval instead of each costing the flusher a wait inside {@code KafkaProducer.send}; then one
 * record is sent again. The sink plays Kafka: it refuses inside {@code send}, on the calling thread, as
 * {@code KafkaProducer.waitOnMetadata} does, and counts the calls that would each have waited.
 */
class RingProducerRefusalsTest {
    private static final long INTERVAL = Duration.ofSeconds(10).toNanos();

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RefusingSink sink = new RefusingSink();
    private final RecordingListener listener = new RecordingListener();
    private RingProducer producer;

    @AfterEach
    void tearDown() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    private RingProducer.Builder builder() {
        return RingProducer.builder(Map.of()).listener(listener).reportInterval(Duration.ofMillis(20))
                .clock(now::get).refusalRetryInterval(Duration.ofNanos(INTERVAL));
    }

    @Test
    void aDeniedTopicCostsKafkaOneCallPerIntervalAndTheOtherTopicsAreServed() {
        sink.deniedTopics.add("denied");
        producer = builder().build(sink);
        for (int i = 0; i < 1_000; i++) {
            assertThat(producer.offer("denied", null, new byte[] {1})).isTrue();
            assertThat(producer.offer("ok", null, new byte[] {2})).isTrue();
        }
        assertThat(producer.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(sink.calls("denied")).as("one wait in Kafka's send, not 1,000").isEqualTo(1);
        assertThat(sink.calls("ok")).isEqualTo(1_000);
        RingStats s = producer.stats();
        assertThat(s.delivered()).isEqualTo(1_000);
        assertThat(s.failed()).isEqualTo(1_000);
        await().atMost(Duration.ofSeconds(20)).until(() -> listener.failures.stream().mapToLong(FailureReport::count).sum() == 1_000);
        assertThat(listener.failures).allSatisfy(r -> assertThat(r.cause()).isInstanceOf(TopicAuthorizationException.class));

        // A request's record fails at once with Kafka's cause.
        assertThat(failureOf(producer.send("denied", null, new byte[] {3}, Duration.ofSeconds(5))))
                .isInstanceOf(TopicAuthorizationException.class);
        assertThat(sink.calls("denied")).isEqualTo(1);

        // After the interval, the next record asks Kafka again: the ACL was granted meanwhile.
        sink.deniedTopics.clear();
        now.addAndGet(INTERVAL);
        assertThat(producer.send("denied", null, new byte[] {4}, Duration.ofSeconds(5)).join().topic()).isEqualTo("denied");
        assertThat(sink.calls("denied")).isEqualTo(2);
    }

    @Test
    void aRefusedLoginFailsEveryRecordAtOnceWithItsCauseUntilTheIntervalHasPassed() {
        sink.loginRefused = true;
        producer = builder().build(sink);
        for (int i = 0; i < 500; i++) {
            assertThat(producer.offer("t" + (i % 5), null, new byte[] {1})).isTrue();
        }
        assertThat(producer.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(failureOf(producer.send("t0", null, new byte[] {3}, Duration.ofSeconds(5))))
                .as("the cause, not a deadline in the ring").isInstanceOf(SaslAuthenticationException.class);
        assertThat(sink.totalCalls.get()).isEqualTo(1);
        assertThat(producer.stats().failed()).isEqualTo(501);

        now.addAndGet(INTERVAL - 1);
        assertThat(failureOf(producer.send("t0", null, new byte[] {3}, Duration.ofSeconds(5))))
                .isInstanceOf(SaslAuthenticationException.class);
        assertThat(sink.totalCalls.get()).isEqualTo(1);

        sink.loginRefused = false; // the user was created
        now.addAndGet(1);
        assertThat(producer.send("t0", null, new byte[] {4}, Duration.ofSeconds(5)).join().topic()).isEqualTo("t0");
        assertThat(sink.totalCalls.get()).isEqualTo(2);
    }

    @Test
    void aRefusalOnTheIoThreadCoversTheTopicToo() {
        producer = builder().build(sink);
        sink.refuseOnIoThread.add("denied"); // DESCRIBE allowed, WRITE not: the produce request is refused
        assertThat(failureOf(producer.send("denied", null, new byte[] {1}, Duration.ofSeconds(5))))
                .isInstanceOf(TopicAuthorizationException.class);
        for (int i = 0; i < 100; i++) {
            producer.offer("denied", null, new byte[] {1});
        }
        assertThat(producer.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(sink.calls("denied")).isEqualTo(1);
        assertThat(producer.stats().failed()).isEqualTo(101);
    }

    @Test
    void aZeroIntervalSendsEveryRecordToKafka() {
        sink.deniedTopics.add("denied");
        producer = builder().refusalRetryInterval(Duration.ZERO).build(sink);
        for (int i = 0; i < 100; i++) {
            producer.offer("denied", null, new byte[] {1});
        }
        assertThat(producer.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(sink.calls("denied")).isEqualTo(100);
        assertThat(producer.stats().failed()).isEqualTo(100);
    }

    private static Throwable failureOf(CompletableFuture<?> f) {
        try {
            f.join();
            throw new AssertionError("expected a failure");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    /** Refuses like Kafka: a denied topic or a refused login inside {@code send}, on the caller's thread. */
    private static final class RefusingSink implements RecordSink {
        final Set<String> deniedTopics = ConcurrentHashMap.newKeySet();
        final Set<String> refuseOnIoThread = ConcurrentHashMap.newKeySet();
        volatile boolean loginRefused;
        final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
        final AtomicLong totalCalls = new AtomicLong();

        long calls(String topic) {
            AtomicLong n = calls.get(topic);
            return n == null ? 0 : n.get();
        }

        @Override
        public void send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            totalCalls.incrementAndGet();
            calls.computeIfAbsent(record.topic(), t -> new AtomicLong()).incrementAndGet();
            if (loginRefused) {
                callback.onCompletion(null, new SaslAuthenticationException("invalid credentials"));
            } else if (deniedTopics.contains(record.topic())) {
                callback.onCompletion(null, new TopicAuthorizationException(Set.of(record.topic())));
            } else if (refuseOnIoThread.contains(record.topic())) {
                Thread io = new Thread(() -> callback.onCompletion(null, new TopicAuthorizationException(Set.of(record.topic()))));
                io.start();
            } else {
                callback.onCompletion(new RecordMetadata(new TopicPartition(record.topic(), 0), 0, 0, 0, 0, 0), null);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close(Duration timeout) {
        }
    }
}
