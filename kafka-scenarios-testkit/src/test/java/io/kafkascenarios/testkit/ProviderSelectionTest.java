package io.kafkascenarios.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.kafkascenarios.testkit.KafkaClusterExtension.Provider;
import org.apache.kafka.common.internals.Topic;
import org.junit.jupiter.api.Test;

/** How {@link KafkaClusterExtension} reads the system properties, and its topic names. No broker needed. */
class ProviderSelectionTest {

    @Test
    void bootstrapPropertyWinsAndBlankOrPlaceholderValuesCountAsUnset() {
        assertThat(KafkaClusterExtension.provider(props(Map.of()))).isEqualTo(Provider.EMBEDDED);
        assertThat(KafkaClusterExtension.provider(props(Map.of("kafka.bootstrap", "  ")))).isEqualTo(Provider.EMBEDDED);
        assertThat(KafkaClusterExtension.provider(props(Map.of("kafka.bootstrap", "${kafka.bootstrap}",
                "kafka.provider", "${kafka.provider}")))).isEqualTo(Provider.EMBEDDED);
        assertThat(KafkaClusterExtension.provider(props(Map.of("kafka.provider", "embedded")))).isEqualTo(Provider.EMBEDDED);
        assertThat(KafkaClusterExtension.provider(props(Map.of("kafka.provider", "TestContainers"))))
                .isEqualTo(Provider.TESTCONTAINERS);
        assertThat(KafkaClusterExtension.provider(props(Map.of("kafka.bootstrap", "h:9092",
                "kafka.provider", "testcontainers")))).isEqualTo(Provider.EXTERNAL);
        assertThat(KafkaClusterExtension.setting(props(Map.of("kafka.bootstrap", " h:9092 ")), "kafka.bootstrap"))
                .isEqualTo("h:9092");
        assertThatThrownBy(() -> KafkaClusterExtension.provider(props(Map.of("kafka.provider", "dokcer"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dokcer");
        assertThatThrownBy(() -> KafkaClusterExtension.provider(props(Map.of("kafka.provider", "external"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kafka.bootstrap");
    }

    @Test
    void uniqueTopicNamesAreLegalAndDistinct() {
        Set<String> names = IntStream.range(0, 1000)
                .mapToObj(i -> KafkaClusterExtension.uniqueTopic("round trip/ü"))
                .collect(Collectors.toSet());
        assertThat(names).hasSize(1000).allSatisfy(name -> {
            assertThat(name).startsWith("round-trip--");
            Topic.validate(name); // throws InvalidTopicException for illegal names
        });
    }

    private static UnaryOperator<String> props(Map<String, String> values) {
        Map<String, String> copy = new HashMap<>(values);
        return copy::get;
    }
}
