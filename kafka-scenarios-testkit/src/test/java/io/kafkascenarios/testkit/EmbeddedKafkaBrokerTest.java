package io.kafkascenarios.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.awaitility.Awaitility.await;

/** The in-process broker's whole life cycle, and the external-cluster provider pointed at it. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmbeddedKafkaBrokerTest {

    @Test
    void startProduceStopRestartReadBackCloseDeletesDataDir() throws Exception {
        Path dataDir;
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.inProcess().start()) {
            dataDir = broker.dataDir();
            assertThat(dataDir).isDirectory();
            assertThat(broker.bootstrapServers()).startsWith("127.0.0.1:");
            assertThat(broker.supportsFaults()).isFalse();
            String bootstrap = broker.bootstrapServers();

            broker.createTopic("life-cycle", 2, Map.of("cleanup.policy", "delete"));
            RecordMetadata written = produce(bootstrap, new ProducerRecord<>("life-cycle", 1, "k", "survives-restart"));
            assertThat(written.partition()).isEqualTo(1);
            assertThat(readAll(bootstrap, new TopicPartition("life-cycle", 1), 1))
                    .extracting(ConsumerRecord::value).containsExactly("survives-restart");

            broker.stop();
            assertThat(broker.isRunning()).isFalse();
            assertThatThrownBy(() -> broker.createTopic("while-stopped", 1))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("stopped");

            broker.restart();
            assertThat(broker.isRunning()).isTrue();
            assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
            assertThat(readAll(bootstrap, new TopicPartition("life-cycle", 1), 1))
                    .extracting(ConsumerRecord::value).containsExactly("survives-restart");
            // and it takes writes again
            assertThat(produce(bootstrap, new ProducerRecord<>("life-cycle", 1, "k", "after-restart")).offset())
                    .isEqualTo(written.offset() + 1);

            // restart() while running stops gracefully first
            broker.restart();
            assertThat(readAll(bootstrap, new TopicPartition("life-cycle", 1), 2))
                    .extracting(ConsumerRecord::value).containsExactly("survives-restart", "after-restart");

            assertThatThrownBy(broker::kill)
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("childJvm()");
            assertThatThrownBy(() -> broker.createTopic("life-cycle", 1))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("exists already");

            // the external provider, pointed at this broker
            try (ExternalKafkaCluster external = ExternalKafkaCluster.connect(bootstrap)) {
                external.createTopic("via-external", 3); // cluster default replication factor
                assertThat(produce(bootstrap, new ProducerRecord<>("via-external", 2, "k", "v")).partition()).isEqualTo(2);
                assertThat(external.supportsFaults()).isFalse();
                assertThatThrownBy(external::kill).isInstanceOf(UnsupportedOperationException.class)
                        .hasMessageContaining("external cluster at " + bootstrap);
                assertThatThrownBy(external::restart).isInstanceOf(UnsupportedOperationException.class);
                assertThatThrownBy(external::stop).isInstanceOf(UnsupportedOperationException.class);
            }
        }
        assertThat(dataDir).doesNotExist();
    }

    @Test
    void brokerPropertyOverridesReachTheBroker() throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.inProcess()
                .brokerProperty("auto.create.topics.enable", "true")
                .start()) {
            // with auto-creation back on, a send to an unknown topic creates it
            assertThat(produce(broker.bootstrapServers(), new ProducerRecord<>("auto-created", "k", "v")).topic())
                    .isEqualTo("auto-created");
            assertThat(Files.readString(broker.dataDir().resolve("server.properties")))
                    .contains("auto.create.topics.enable=true");
        }
    }

    @Test
    void childJvmOptionIsRejectedForInProcess() {
        assertThatThrownBy(() -> EmbeddedKafkaBroker.inProcess().childJvmOption("-Xmx1g"))
                .isInstanceOf(IllegalStateException.class);
    }

    static RecordMetadata produce(String bootstrap, ProducerRecord<String, String> record) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            return producer.send(record).get(30, TimeUnit.SECONDS);
        }
    }

    static List<ConsumerRecord<String, String>> readAll(String bootstrap, TopicPartition tp, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            await().atMost(Duration.ofSeconds(30)).pollInSameThread().pollInterval(Duration.ofMillis(10)).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
                return records.size() >= expected;
            });
        }
        return records;
    }
}
