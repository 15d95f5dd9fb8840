package io.kafkascenarios.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.kafkascenarios.RingProducer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** Kafka's own client metrics are bound for the producer the ring makes, under its client.id, and go with it. */
class KafkaClientBindingTest {
    @Test
    void theRingsKafkaProducerIsBoundUnderItsClientIdAndUnboundWhenClosed() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        KafkaClientBinding binding = new KafkaClientBinding(registry, Tags.of("service", "checkout"));
        // No broker needed: a KafkaProducer has its metrics from the start.
        RingProducer producer = RingProducer.builder(Map.of("bootstrap.servers", "localhost:1", "max.block.ms", 10))
                .name("telemetry").clientListener(binding).build();
        try {
            assertThat(binding.boundClients()).isEqualTo(1);
            assertThat(kafkaMeters(registry)).isPositive();
            assertThat(registry.getMeters()).filteredOn(m -> m.getId().getName().startsWith("kafka.producer"))
                    .allSatisfy(m -> assertThat(m.getId().getTag("client.id")).isEqualTo("telemetry"));
            new RingProducerMetrics(producer, Tags.empty()).bindTo(registry);
            assertThat(registry.get("kafkascenarios.producer.offered").functionCounter().getId().getTag("client.id"))
                    .as("the tag dashboards join on").isEqualTo("telemetry");
        } finally {
            producer.close(Duration.ofSeconds(2));
        }
        assertThat(binding.boundClients()).isZero();
        assertThat(kafkaMeters(registry)).as("Kafka's meters of a closed producer").isZero();
    }

    private static long kafkaMeters(SimpleMeterRegistry registry) {
        return registry.getMeters().stream().map(Meter::getId).filter(id -> id.getName().startsWith("kafka.producer")).count();
    }

    @Test
    void aReplacementProducerIsBoundAndTheOneItReplacesUnbound() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        KafkaClientBinding binding = new KafkaClientBinding(registry, Tags.empty());
        java.util.List<org.apache.kafka.clients.producer.MockProducer<byte[], byte[]>> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        RingProducer producer = RingProducer.builder(Map.of()).listener(new io.kafkascenarios.RingProducerListener() { })
                .clientListener(binding)
                .producerFactory(() -> {
                    var p = new org.apache.kafka.clients.producer.MockProducer<>(true, null,
                            new org.apache.kafka.common.serialization.ByteArraySerializer(),
                            new org.apache.kafka.common.serialization.ByteArraySerializer());
                    made.add(p);
                    return p;
                }).build();
        try {
            made.get(0).sendException = new org.apache.kafka.common.errors.ProducerFencedException("fenced");
            producer.offer("t", null, new byte[1]);
            producer.flush(Duration.ofSeconds(10));
            producer.offer("t", null, new byte[1]);
            producer.flush(Duration.ofSeconds(10));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> made.size() == 2 && made.get(0).closed());
            assertThat(producer.stats().producerReplacements()).isEqualTo(1);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> binding.boundClients() == 1);
        } finally {
            producer.close(Duration.ofSeconds(2));
        }
        assertThat(binding.boundClients()).isZero();
    }
}
