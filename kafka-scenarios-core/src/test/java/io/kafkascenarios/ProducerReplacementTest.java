package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A KafkaProducer in a fatal state is replaced; the affected records fail with the cause; serving goes on. */
class ProducerReplacementTest {
    private final List<FakeSink> sinks = new CopyOnWriteArrayList<>();
    private RingProducer producer;

    private RingProducer build() {
        return RingProducer.builder(Map.of()).listener(new RecordingListener()).build(() -> {
            FakeSink sink = new FakeSink();
            sinks.add(sink);
            return sink;
        });
    }

    @AfterEach
    void tearDown() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void aFatalErrorThrownBySendReplacesTheProducer() throws Exception {
        producer = build();
        // What KafkaProducer 4.x throws from send() once its idempotence state is fatal.
        sinks.get(0).throwOnSend = new KafkaException("Cannot execute transactional method because we are in an error state",
                new ClusterAuthorizationException("not allowed to write idempotently"));
        CompletableFuture<RecordMetadata> affected = producer.send("t", null, new byte[1]);
        assertThat(affected).failsWithin(Duration.ofSeconds(20)).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(KafkaException.class)
                .withRootCauseInstanceOf(ClusterAuthorizationException.class);

        RecordMetadata next = producer.send("t", null, new byte[1]).get();
        assertThat(next.topic()).isEqualTo("t");
        // flush() true: the replaced producer's close has returned and every outcome is counted.
        assertThat(producer.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(sinks).hasSize(2);
        assertThat(sinks.get(0).closed).isTrue();
        assertThat(sinks.get(1).sent()).hasSize(1);
        RingStats stats = producer.stats();
        assertThat(stats.producerReplacements()).isEqualTo(1);
        assertThat(stats.failed()).isEqualTo(1);
        assertThat(stats.delivered()).isEqualTo(1);
    }

    @Test
    void aFatalErrorInACallbackReplacesTheProducerBeforeTheNextSend() throws Exception {
        producer = build();
        sinks.get(0).failWith = new ClusterAuthorizationException("not allowed to write idempotently");
        assertThat(producer.send("t", null, new byte[1])).failsWithin(Duration.ofSeconds(20));
        assertThat(producer.send("t", null, new byte[1]).get().topic()).isEqualTo("t");
        assertThat(producer.stats().producerReplacements()).isEqualTo(1);
        assertThat(sinks).hasSize(2);
    }

    /** A sink whose records complete only when the test says so. */
    private static final class ManualSink implements io.kafkascenarios.internal.RecordSink {
        final java.util.concurrent.LinkedBlockingQueue<org.apache.kafka.clients.producer.Callback> inFlight =
                new java.util.concurrent.LinkedBlockingQueue<>();

        @Override
        public void send(org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> record,
                         org.apache.kafka.clients.producer.Callback callback) {
            inFlight.add(callback);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close(Duration timeout) {
        }

        void completeNext(Exception e) throws InterruptedException {
            RecordMetadata md = new RecordMetadata(new org.apache.kafka.common.TopicPartition("t", 0), 0, 0, 0, 0, 0);
            inFlight.take().onCompletion(e == null ? md : null, e);
        }
    }

    @Test
    void aLateFatalErrorFromAReplacedProducerDoesNotCondemnItsSuccessor() throws Exception {
        List<ManualSink> manual = new CopyOnWriteArrayList<>();
        producer = RingProducer.builder(Map.of()).listener(new RecordingListener()).build(() -> {
            ManualSink sink = new ManualSink();
            manual.add(sink);
            return sink;
        });
        producer.offer("t", null, new byte[1]);
        producer.offer("t", null, new byte[1]);
        await().atMost(Duration.ofSeconds(20)).until(() -> manual.get(0).inFlight.size() == 2);
        manual.get(0).completeNext(new ClusterAuthorizationException("first"));
        producer.offer("t", null, new byte[1]);
        await().atMost(Duration.ofSeconds(20)).until(() -> manual.size() == 2 && manual.get(1).inFlight.size() == 1);

        manual.get(0).completeNext(new ClusterAuthorizationException("late, from the replaced producer"));
        producer.offer("t", null, new byte[1]);
        await().atMost(Duration.ofSeconds(20)).until(() -> manual.get(1).inFlight.size() == 2);
        assertThat(manual).hasSize(2);
        assertThat(producer.stats().producerReplacements()).isEqualTo(1);
        manual.get(1).completeNext(null);
        manual.get(1).completeNext(null);
        RingStats stats = producer.stats();
        assertThat(stats.failed()).isEqualTo(2);
        assertThat(stats.delivered()).isEqualTo(2);
        assertThat(stats.pending()).isZero();
    }

    @Test
    void aRecordBothThrownAndCalledBackIsCountedOnce() {
        producer = build();
        FakeSink first = sinks.get(0);
        // Kafka in a fatal state may append the record, throw from send(), and call back later.
        first.failWith = new ClusterAuthorizationException("fatal");
        first.throwAfterAppend = new KafkaException("in an error state", new ClusterAuthorizationException("fatal"));
        producer.offer("t", null, new byte[1]);
        await().atMost(Duration.ofSeconds(20)).until(() -> first.sendCalls.get() == 1 && first.awaitIdleNow());
        assertThat(producer.stats().failed()).isEqualTo(1);
        assertThat(producer.stats().pending()).isZero();
    }

    /** Errors Kafka recovers from by itself, and ordinary ones: the producer stays. */
    @ParameterizedTest
    @ValueSource(strings = {"out-of-order", "network"})
    void recoverableErrorsKeepTheProducer(String kind) {
        producer = build();
        sinks.get(0).failWith = kind.equals("network") ? new NetworkException("connection reset")
                : new OutOfOrderSequenceException("the producer bumps its epoch and goes on");
        for (int i = 0; i < 10; i++) {
            producer.offer("t", null, new byte[1]);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> producer.stats().failed() == 10);
        sinks.get(0).failWith = null;
        assertThat(producer.send("t", null, new byte[1])).succeedsWithin(Duration.ofSeconds(20));
        assertThat(sinks).hasSize(1);
        assertThat(producer.stats().producerReplacements()).isZero();
    }
}
