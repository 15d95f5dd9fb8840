package io.kafkascenarios.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.kafkascenarios.testkit.KafkaCluster;
import io.kafkascenarios.testkit.KafkaClusterExtension;
import io.kafkascenarios.testkit.TestcontainersKafkaCluster;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A short round trip against a broker in Docker ({@code -Dkafka.image}, default apache/kafka:4.1.1), through the
 * test kit's Testcontainers provider. Skipped where there is no Docker engine.
 */
@Testcontainers(disabledWithoutDocker = true)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TestcontainersRoundTripIT {

    @Container
    static final KafkaContainer BROKER = new KafkaContainer(DockerImageName.parse(image()));

    @Test
    void shortRoundTrip() throws Exception {
        try (KafkaCluster cluster = TestcontainersKafkaCluster.wrap(BROKER)) {
            String topic = KafkaClusterExtension.uniqueTopic("tc-round-trip");
            cluster.createTopic(topic, 3);
            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrapServers())) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>(topic, "key-" + (i % 10), Integer.toString(i)));
                }
                producer.flush();
            }
            List<ConsumerRecord<String, String>> records = Clients.readToEnd(cluster.bootstrapServers(),
                    Clients.partitions(topic, 3), Duration.ofSeconds(60));
            assertThat(records).extracting(r -> Integer.valueOf(r.value()))
                    .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(0, 100).boxed().toList());
        }
    }

    private static String image() {
        String image = System.getProperty(KafkaClusterExtension.IMAGE_PROPERTY, "");
        return image.isBlank() || image.startsWith("${") ? TestcontainersKafkaCluster.DEFAULT_IMAGE : image.trim();
    }
}
