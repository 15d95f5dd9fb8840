package io.kafkascenarios.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.stream.RecordHandler;
import io.kafkascenarios.stream.StreamProcessor;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The processor's meters without a broker: the state gauge follows the lifecycle, the counters read
 * health, the timed handler counts by result. (Per-partition meters need assignments: the IT.)
 */
class StreamProcessorMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void theStateGaugeFollowsTheProcessorAndTheCountersReadItsHealth() {
        try (RingProducer out = RingProducer.builder(Map.of("bootstrap.servers", "localhost:1", "max.block.ms", 10)).build()) {
            StreamProcessorMetrics metrics = new StreamProcessorMetrics(registry, Tags.of("service", "enricher"));
            StreamProcessor p = metrics.start(StreamProcessor.builder(
                            Map.of("bootstrap.servers", "localhost:1", "group.id", "g"), out)
                    .name("enricher").topics("in").recordHandler(r -> List.of()));
            assertThat(state("running")).isEqualTo(1);
            assertThat(state("closed")).isZero();
            assertThat(registry.get("kafkascenarios.stream.records").tag("outcome", "processed").tag("name", "enricher")
                    .tag("service", "enricher").functionCounter().count()).isEqualTo(p.health().processed());
            assertThat(registry.get("kafkascenarios.stream.partitions.paused").gauge().value()).isZero();
            assertThat(p.close(Duration.ofSeconds(5))).isTrue();
            assertThat(state("closed")).isEqualTo(1);
            assertThat(state("running")).isZero();
        }
    }

    @Test
    void aTimedHandlerCountsCallsByResult() throws Exception {
        StreamProcessorMetrics metrics = new StreamProcessorMetrics(registry, Tags.empty());
        RecordHandler timed = metrics.timed(r -> {
            if (r.offset() == 1) {
                throw new IllegalArgumentException("bad record");
            }
            return List.of();
        });
        timed.handle(new ConsumerRecord<>("in", 0, 0, null, new byte[0]));
        timed.handle(new ConsumerRecord<>("in", 0, 2, null, new byte[0]));
        assertThatThrownBy(() -> timed.handle(new ConsumerRecord<>("in", 0, 1, null, new byte[0])))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(registry.get("kafkascenarios.stream.handler").tag("result", "success").timer().count()).isEqualTo(2);
        assertThat(registry.get("kafkascenarios.stream.handler").tag("result", "failure").timer().count()).isEqualTo(1);
    }

    private double state(String s) {
        return registry.get("kafkascenarios.stream.state").tag("state", s).gauge().value();
    }
}
