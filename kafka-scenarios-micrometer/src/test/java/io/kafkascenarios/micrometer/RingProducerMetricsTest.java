package io.kafkascenarios.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;
import io.kafkascenarios.RingStats;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** Each meter equals the figure of {@code stats()} it stands for, under load, with every outcome present. */
class RingProducerMetricsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private RingProducer producer;

    @AfterEach
    void tearDown() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void everyMeterEqualsItsFigureInStats() throws Exception {
        // Acknowledgements held back: the ring fills (discards), sends time out awaiting them, some fail.
        MockProducer<byte[], byte[]> kafka = new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
        producer = RingProducer.builder(Map.of()).name("telemetry").ringSize(64).listener(new RingProducerListener() { })
                .producerFactory(() -> kafka).build();
        new RingProducerMetrics(producer, Tags.of("service", "checkout")).bindTo(registry);

        List<Thread> offering = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < 5_000; i++) {
                    producer.offer("metrics", null, new byte[8]);
                }
            });
            offering.add(th);
            th.start();
        }
        for (Thread th : offering) {
            th.join();
        }
        CompletableFuture<?> late = producer.send("metrics", null, new byte[8], Duration.ofMillis(50));
        org.awaitility.Awaitility.await().atMost(WAIT).until(late::isDone);
        org.awaitility.Awaitility.await().atMost(WAIT) // counted just after the future failed
                .until(() -> producer.stats().sendTimeoutsAwaitingAck() + producer.stats().sendTimeoutsInRing() == 1);
        for (int i = 0; i < 10; i++) {
            kafka.errorNext(new org.apache.kafka.common.errors.RecordTooLargeException("too large"));
        }
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> {
            while (kafka.completeNext()) {
                // the rest delivered, as the flusher hands them over
            }
            return producer.stats().pending() == 0;
        });

        RingStats s = producer.stats();
        assertThat(s.discarded()).as("the ring filled").isPositive();
        assertThat(s.failed()).isEqualTo(10);
        assertThat(s.sendTimeoutsAwaitingAck() + s.sendTimeoutsInRing()).isEqualTo(1);
        assertThat(counter("kafkascenarios.producer.offered", null)).isEqualTo(s.offered());
        assertThat(counter("kafkascenarios.producer.records", "delivered")).isEqualTo(s.delivered());
        assertThat(counter("kafkascenarios.producer.records", "discarded")).isEqualTo(s.discarded());
        assertThat(counter("kafkascenarios.producer.records", "failed")).isEqualTo(s.failed());
        assertThat(counter("kafkascenarios.producer.records", "withdrawn")).isEqualTo(s.withdrawn());
        assertThat(registry.get("kafkascenarios.producer.pending").gauge().value()).isEqualTo(s.pending());
        assertThat(registry.get("kafkascenarios.producer.ring.capacity").gauge().value()).isEqualTo(64);
        assertThat(registry.get("kafkascenarios.producer.ring.remaining").gauge().value()).isEqualTo(s.ringRemaining());
        assertThat(registry.get("kafkascenarios.producer.send.timeouts").tag("stage", "awaiting_ack").functionCounter().count()
                + registry.get("kafkascenarios.producer.send.timeouts").tag("stage", "in_ring").functionCounter().count())
                .isEqualTo(1);
        assertThat(registry.get("kafkascenarios.producer.send.timeouts").tag("stage", "ring_space").functionCounter().count())
                .isEqualTo(s.sendTimeoutsRingSpace());
        assertThat(registry.get("kafkascenarios.producer.replacements").functionCounter().count()).isZero();
        // One name, the same tag keys on every meter of it (Prometheus refuses anything else).
        for (Meter m : registry.getMeters()) {
            assertThat(m.getId().getTag("name")).isEqualTo("telemetry");
            assertThat(m.getId().getTag("service")).isEqualTo("checkout");
            assertThat(m.getId().getTag("client.id")).isNotNull();
        }
    }

    private double counter(String name, String outcome) {
        var search = registry.get(name);
        if (outcome != null) {
            search = search.tag("outcome", outcome);
        }
        return search.functionCounter().count();
    }
}
