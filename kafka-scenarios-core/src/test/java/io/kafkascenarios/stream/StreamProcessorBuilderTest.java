package io.kafkascenarios.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.RingProducer;

/** The builder refuses configurations that would break the processor's guarantees, naming the key. */
class StreamProcessorBuilderTest {
    private final RingProducer producer = RingProducer.builder(Map.of("bootstrap.servers", "localhost:1")).build();

    @AfterEach
    void close() {
        producer.close(Duration.ofSeconds(1));
    }

    private static Map<String, Object> config() {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1");
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "g");
        return c;
    }

    private StreamProcessor.Builder builder(Map<String, Object> config) {
        return StreamProcessor.builder(config, producer).topics("in").recordHandler(r -> List.of());
    }

    @Test
    void refusesWhatWouldBreakCheckpoints() {
        Map<String, Object> noGroup = config();
        noGroup.remove(ConsumerConfig.GROUP_ID_CONFIG);
        assertThatThrownBy(() -> builder(noGroup).start()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("group.id");
        Map<String, Object> autoCommit = config();
        autoCommit.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
        assertThatThrownBy(() -> builder(autoCommit).start()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("enable.auto.commit=true");
        Map<String, Object> strings = config();
        strings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        assertThatThrownBy(() -> builder(strings).start()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("value.deserializer");
        assertThatThrownBy(() -> builder(config()).maxQueuedPerPartition(5000).maxQueuedPerProcessor(6000).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxQueuedPerProcessor 6000 must be at least twice maxQueuedPerPartition 5000");
        Map<String, Object> shortPoll = config();
        shortPoll.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 1000);
        assertThatThrownBy(() -> builder(shortPoll).start()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("revokeTimeout").hasMessageContaining("max.poll.interval.ms");
    }

    @Test
    void refusesAnIncompleteProcessor() {
        assertThatThrownBy(() -> StreamProcessor.builder(config(), producer).recordHandler(r -> List.of()).start())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topics");
        assertThatThrownBy(() -> StreamProcessor.builder(config(), producer).topics("in").start())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("handler");
        assertThatThrownBy(() -> builder(config()).onFailure(FailurePolicy.DEAD_LETTER).start())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("deadLetterTopic");
        assertThatThrownBy(() -> builder(config()).retries(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder(config()).workerThreads(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void withNoBrokerItKeepsRunningAndClosesWithinItsDeadline() {
        Map<String, Object> config = config(); // localhost:1: nothing listens
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000);
        StreamProcessor p = builder(config).start();
        try {
            org.awaitility.Awaitility.await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                    .until(() -> p.health().state() == ProcessorHealth.State.RUNNING);
            assertThat(p.health().failure()).isEmpty();
            assertThat(p.health().processed()).isZero();
        } finally {
            long start = System.nanoTime();
            assertThat(p.close(Duration.ofSeconds(5))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(7));
        }
        assertThat(p.health().state()).isEqualTo(ProcessorHealth.State.CLOSED);
        assertThat(p.termination()).isCompleted();
    }

    @Test
    void backoffIsFixedOrDoublesUpToItsCap() {
        assertThat(Backoff.fixed(Duration.ofMillis(50)).delay(7)).isEqualTo(Duration.ofMillis(50));
        Backoff exp = Backoff.exponential(Duration.ofMillis(100), Duration.ofMillis(500));
        assertThat(exp.delay(1)).isEqualTo(Duration.ofMillis(100));
        assertThat(exp.delay(2)).isEqualTo(Duration.ofMillis(200));
        assertThat(exp.delay(3)).isEqualTo(Duration.ofMillis(400));
        assertThat(exp.delay(4)).isEqualTo(Duration.ofMillis(500));
        assertThat(exp.delay(1000)).isEqualTo(Duration.ofMillis(500));
        assertThatThrownBy(() -> Backoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
