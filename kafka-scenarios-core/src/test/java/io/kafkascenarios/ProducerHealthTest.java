package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code RingProducer.health()}: saturation, pending, the last delivery and closed, as a probe reads them. */
class ProducerHealthTest {
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

    @Test
    void aProbeSeesTheRingFillTheLastDeliveryAndTheClose() {
        producer = RingProducer.builder(Map.of()).ringSize(8).listener(new RecordingListener()).build(sink);
        ProducerHealth fresh = producer.health();
        assertThat(fresh.closed()).isFalse();
        assertThat(fresh.lastDelivery()).isEmpty();
        assertThat(fresh.ringSaturation()).isZero();
        assertThat(fresh.connections()).as("a sink without Kafka's metrics").isEqualTo(-1);

        Instant before = Instant.now().minusMillis(1);
        producer.offer("t", null, new byte[1]);
        assertThat(producer.flush(WAIT)).isTrue();
        ProducerHealth delivered = producer.health();
        assertThat(delivered.lastDelivery()).hasValueSatisfying(t -> assertThat(t).isAfterOrEqualTo(before.truncatedTo(java.time.temporal.ChronoUnit.MILLIS)));
        assertThat(delivered.sinceLastDelivery(Instant.now())).hasValueSatisfying(d -> assertThat(d.isNegative()).isFalse());

        sink.block(); // Kafka stops taking records: the ring fills
        producer.offer("t", null, new byte[1]);
        // Once the flusher is held in send() it frees no slot: the ring stays full after the loop.
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> sink.sendCalls.get() == 2);
        while (producer.offer("t", null, new byte[1])) {
            // fill it
        }
        ProducerHealth full = producer.health();
        assertThat(full.ringSaturation()).isEqualTo(1.0);
        assertThat(full.pending()).isPositive();
        sink.unblock();
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.health().ringSaturation()).isZero();
        producer.close(WAIT);
        assertThat(producer.health().closed()).isTrue();
        producer = null;
    }
}
