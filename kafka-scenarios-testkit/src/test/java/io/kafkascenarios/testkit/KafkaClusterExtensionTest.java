package io.kafkascenarios.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.TestAbortedException;

/**
 * The extension's class lifecycle with the in-process broker (or whatever -Dkafka.bootstrap / -Dkafka.provider
 * choose).
 */
class KafkaClusterExtensionTest {

    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.inProcess();

    @Test
    void injectsTheSharedCluster(KafkaCluster cluster) {
        assertThat(cluster).isSameAs(KAFKA.cluster());
        cluster.createTopic(KafkaClusterExtension.uniqueTopic("injected"), 1);
    }

    @Test
    void assumeFaultInjectionAbortsForAnInProcessOrExternalCluster() {
        assertThatThrownBy(KAFKA::assumeFaultInjection)
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("child-JVM");
    }

    @Nested
    class NestedClass {
        @Test
        void sharesTheOuterClassCluster(KafkaCluster cluster) {
            assertThat(cluster).isSameAs(KAFKA.cluster());
        }
    }
}
