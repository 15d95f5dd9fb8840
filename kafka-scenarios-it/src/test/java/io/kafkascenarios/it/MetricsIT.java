package io.kafkascenarios.it;

import static io.kafkascenarios.it.StreamFixture.consumerConfig;
import static io.kafkascenarios.it.StreamFixture.group;
import static io.kafkascenarios.it.StreamFixture.identity;
import static io.kafkascenarios.it.StreamFixture.produceInputs;
import static io.kafkascenarios.it.StreamFixture.producerConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.OnFull;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.micrometer.KafkaClientBinding;
import io.kafkascenarios.micrometer.RingProducerMetrics;
import io.kafkascenarios.micrometer.StreamProcessorMetrics;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;
import io.kafkascenarios.testkit.KafkaClusterExtension;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The Micrometer module against a real broker, scraped in the Prometheus text format while records
 * flow: the ring producer's meters equal its stats, Kafka's own client metrics are there under the
 * same {@code client.id}, and a stream processor's per-partition meters follow its assignment as a
 * second instance joins. And the producer's health, as a probe reads it, against a broker and against
 * nothing.
 */
class MetricsIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.inProcess();

    private static String bootstrap() {
        return KAFKA.cluster().bootstrapServers();
    }

    @Test
    void theRingProducersMetersEqualItsStatsAndPrometheusScrapesThemWithKafkasOwn() throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("metrics-ring");
        KAFKA.cluster().createTopic(topic, 3);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Tags tags = Tags.of("service", "it");
        AtomicInteger scrapes = new AtomicInteger();
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).name("telemetry-it")
                .onFull(OnFull.BLOCK).clientListener(new KafkaClientBinding(registry, tags)).build()) {
            new RingProducerMetrics(producer, tags).bindTo(registry);
            Thread scraper = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    assertThat(registry.scrape()).contains("kafkascenarios_producer_offered_records_total");
                    scrapes.incrementAndGet();
                }
            });
            scraper.start();
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Thread c = new Thread(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        producer.offer(topic, null, new byte[50]);
                    }
                });
                callers.add(c);
                c.start();
            }
            for (Thread c : callers) {
                c.join();
            }
            assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
            scraper.interrupt();
            scraper.join();
            RingStats s = producer.stats();
            assertThat(s.delivered()).isEqualTo(20_000);
            String text = registry.scrape();
            assertThat(text).contains("kafkascenarios_producer_records_total{client_id=\"telemetry-it\",name=\"telemetry-it\","
                    + "outcome=\"delivered\",service=\"it\"} 20000");
            assertThat(text).contains("kafkascenarios_producer_pending{client_id=\"telemetry-it\",name=\"telemetry-it\",service=\"it\"} 0");
            // Kafka's own producer metrics, joined on the same client id.
            assertThat(text).containsPattern("kafka_producer_record_send_total\\{[^}]*client_id=\"telemetry-it\"[^}]*} 20000");
            assertThat(registry.get("kafkascenarios.producer.offered").functionCounter().count()).isEqualTo(s.offered());
        }
        assertThat(scrapes.get()).as("scraped while records flowed").isPositive();
        assertThat(registry.scrape()).doesNotContain("kafka_producer_record_send_total");
    }

    @Test
    void aProcessorsPartitionMetersFollowItsAssignmentAsASecondInstanceJoins() throws Exception {
        String in = KafkaClusterExtension.uniqueTopic("metrics-stream");
        String out = in + "-out";
        KAFKA.cluster().createTopic(in, 6);
        KAFKA.cluster().createTopic(out, 6);
        List<String> inputs = produceInputs(bootstrap(), in, 3000, 30);
        String group = group("metrics-stream");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessorMetrics metricsA = new StreamProcessorMetrics(registry, Tags.of("service", "it"));
            StreamProcessor a = metricsA.start(StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                    .name("a").topics(in).clientListener(new KafkaClientBinding(registry, Tags.of("service", "it")))
                    .recordHandler(metricsA.timed(r -> List.of(identity(out, r)))));
            await().atMost(Duration.ofSeconds(60)).until(() -> a.health().processed() >= inputs.size());
            await().atMost(Duration.ofSeconds(10)).until(() -> partitionGauges(registry, "a") == 6);
            assertThat(registry.get("kafkascenarios.stream.records").tag("name", "a").tag("outcome", "processed")
                    .functionCounter().count()).isEqualTo(a.health().processed());
            assertThat(registry.get("kafkascenarios.stream.handler").tag("name", "a").tag("result", "success").timer().count())
                    .isEqualTo(inputs.size());
            assertThat(registry.scrape()).contains("kafka_consumer_fetch_manager_records_consumed_total");

            StreamProcessorMetrics metricsB = new StreamProcessorMetrics(registry, Tags.of("service", "it"));
            StreamProcessor b = metricsB.start(StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                    .name("b").topics(in).recordHandler(r -> List.of(identity(out, r))));
            await().atMost(Duration.ofSeconds(60)).until(() -> !b.health().partitions().isEmpty()
                    && partitionGauges(registry, "a") == a.health().partitions().size()
                    && partitionGauges(registry, "b") == b.health().partitions().size()
                    && a.health().partitions().size() + b.health().partitions().size() == 6);
            assertThat(partitionGauges(registry, "a")).as("a's meters of partitions revoked from it are gone").isLessThan(6);
            assertThat(registry.get("kafkascenarios.stream.state").tag("name", "b").tag("state", "running").gauge().value())
                    .isEqualTo(1);
            assertThat(b.close(Duration.ofSeconds(10))).isTrue();
            assertThat(a.close(Duration.ofSeconds(10))).isTrue();
            assertThat(a.health().state()).isEqualTo(ProcessorHealth.State.CLOSED);
            assertThat(registry.get("kafkascenarios.stream.state").tag("name", "a").tag("state", "closed").gauge().value())
                    .isEqualTo(1);
        }
    }

    @Test
    void aProducersHealthTellsAProbeWhetherItIsConnectedAndWhenItLastDelivered() throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("metrics-health");
        KAFKA.cluster().createTopic(topic, 1);
        try (RingProducer up = RingProducer.builder(producerConfig(bootstrap())).build();
             RingProducer down = RingProducer.builder(java.util.Map.of("bootstrap.servers", "127.0.0.1:1", "max.block.ms", 100))
                     .build()) {
            up.send(topic, null, new byte[1]).get(30, java.util.concurrent.TimeUnit.SECONDS);
            io.kafkascenarios.ProducerHealth h = up.health();
            assertThat(h.connections()).as("connected to the broker").isPositive();
            assertThat(h.lastDelivery()).isPresent();
            assertThat(h.closed()).isFalse();
            down.offer(topic, null, new byte[1]);
            io.kafkascenarios.ProducerHealth d = down.health();
            assertThat(d.connections()).as("nothing listens there").isZero();
            assertThat(d.lastDelivery()).isEmpty();
        }
    }

    private static long partitionGauges(PrometheusMeterRegistry registry, String name) {
        return registry.find("kafkascenarios.stream.partition.lag").tag("name", name).gauges().size();
    }
}
