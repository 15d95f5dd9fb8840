package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
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
import io.kafkascenarios.internal.Refusals;

/**
 * Kafka's refusals (a denied topic, a refused login) fail the records they cover at once for the
 * retry interval instead of each costing the flusher a wait inside {@code KafkaProducer.send}; then one
 * record is sent again. The sink plays Kafka: it refuses inside {@code send}, on the calling thread, as
 * {@code KafkaProducer.waitOnMetadata} does, and counts the calls that would each have waited.
 */
@org.junit.jupiter.api.Timeout(60) // the frozen clock cannot time anything out: a regression must not hang the build
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
        assertThat(producer.flush(Duration.ofSeconds(20))).isTrue(); // a future fails just before its record is counted
        assertThat(producer.stats().failed()).isEqualTo(501);

        now.addAndGet(Refusals.LOGIN_RETRY_NANOS - 1); // a login refusal lasts 1 s, not the topics' 10 s
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
    void aDeliveredRecordEndsItsTopicsRefusalBeforeTheInterval() {
        producer = builder().build(sink);
        sink.holdTopics.add("flaky");
        CompletableFuture<RecordMetadata> inKafka = producer.send("flaky", null, new byte[] {1}, Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(20)).until(() -> sink.held.size() == 1);
        sink.holdTopics.clear();
        sink.refuseOnIoThread.add("flaky"); // a produce request refused, e.g. an ACL being changed
        assertThat(failureOf(producer.send("flaky", null, new byte[] {2}, Duration.ofSeconds(5))))
                .isInstanceOf(TopicAuthorizationException.class);
        assertThat(failureOf(producer.send("flaky", null, new byte[] {3}, Duration.ofSeconds(5))))
                .as("refused at once").isInstanceOf(TopicAuthorizationException.class);
        assertThat(sink.calls("flaky")).isEqualTo(2);
        // Kafka delivers a record of the topic: it takes the topic again, well within the interval.
        sink.refuseOnIoThread.clear();
        sink.releaseHeld();
        assertThat(inKafka.join().topic()).isEqualTo("flaky");
        assertThat(producer.send("flaky", null, new byte[] {4}, Duration.ofSeconds(5)).join().topic()).isEqualTo("flaky");
        assertThat(sink.calls("flaky")).isEqualTo(3);
    }

    @Test
    void aDeliveredRecordEndsALoginRefusal() {
        producer = builder().build(sink);
        sink.holdTopics.add("slow");
        CompletableFuture<RecordMetadata> inKafka = producer.send("slow", null, new byte[] {1}, Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(20)).until(() -> sink.held.size() == 1);
        sink.loginRefused = true; // one broker refuses the login
        assertThat(failureOf(producer.send("t", null, new byte[] {2}, Duration.ofSeconds(5))))
                .isInstanceOf(SaslAuthenticationException.class);
        assertThat(failureOf(producer.send("t", null, new byte[] {3}, Duration.ofSeconds(5))))
                .as("refused at once").isInstanceOf(SaslAuthenticationException.class);
        assertThat(sink.totalCalls.get()).isEqualTo(2);
        // Another broker accepts the login and delivers the record it held: no refusal any more, within the second.
        sink.loginRefused = false;
        sink.releaseHeld();
        assertThat(inKafka.join().topic()).isEqualTo("slow");
        assertThat(producer.send("t", null, new byte[] {4}, Duration.ofSeconds(5)).join().topic()).isEqualTo("t");
        assertThat(sink.totalCalls.get()).isEqualTo(3);
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

    @Test
    void aBadIntervalIsRefusedByName() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RingProducer.builder(Map.of()).refusalRetryInterval(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("refusalRetryInterval");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RingProducer.builder(Map.of()).refusalRetryInterval(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("refusalRetryInterval");
    }

    private static Throwable failureOf(CompletableFuture<?> f) {
        try {
            f.get(10, java.util.concurrent.TimeUnit.SECONDS);
            throw new AssertionError("expected a failure");
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("no outcome in 10 s", e);
        }
    }

    /** Refuses like Kafka: a denied topic or a refused login inside {@code send}, on the caller's thread. */
    private static final class RefusingSink implements RecordSink {
        final Set<String> deniedTopics = ConcurrentHashMap.newKeySet();
        final Set<String> refuseOnIoThread = ConcurrentHashMap.newKeySet();
        volatile boolean loginRefused;
        final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
        final AtomicLong totalCalls = new AtomicLong();
        final java.util.Queue<Thread> ioThreads = new java.util.concurrent.ConcurrentLinkedQueue<>();
        /** Records of these topics are held, not called back, until {@link #releaseHeld}. */
        final Set<String> holdTopics = ConcurrentHashMap.newKeySet();
        final java.util.Queue<Map.Entry<ProducerRecord<byte[], byte[]>, Callback>> held = new java.util.concurrent.ConcurrentLinkedQueue<>();

        void releaseHeld() {
            for (Map.Entry<ProducerRecord<byte[], byte[]>, Callback> h = held.poll(); h != null; h = held.poll()) {
                h.getValue().onCompletion(new RecordMetadata(new TopicPartition(h.getKey().topic(), 0), 0, 0, 0, 0, 0), null);
            }
        }

        long calls(String topic) {
            AtomicLong n = calls.get(topic);
            return n == null ? 0 : n.get();
        }

        @Override
        public void send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            totalCalls.incrementAndGet();
            calls.computeIfAbsent(record.topic(), t -> new AtomicLong()).incrementAndGet();
            if (holdTopics.contains(record.topic())) {
                held.add(Map.entry(record, callback));
            } else if (loginRefused) {
                callback.onCompletion(null, new SaslAuthenticationException("invalid credentials"));
            } else if (deniedTopics.contains(record.topic())) {
                callback.onCompletion(null, new TopicAuthorizationException(Set.of(record.topic())));
            } else if (refuseOnIoThread.contains(record.topic())) {
                Thread io = new Thread(() -> callback.onCompletion(null, new TopicAuthorizationException(Set.of(record.topic()))));
                ioThreads.add(io);
                io.start();
            } else {
                callback.onCompletion(new RecordMetadata(new TopicPartition(record.topic(), 0), 0, 0, 0, 0, 0), null);
            }
        }

        /** Like Kafka's: returns once every record sent so far has been called back. */
        @Override
        public void flush() {
            for (Thread io : ioThreads) {
                try {
                    io.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        @Override
        public void close(Duration timeout) {
        }
    }
}
