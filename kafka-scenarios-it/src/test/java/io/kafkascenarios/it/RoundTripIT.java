package io.kafkascenarios.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.kafkascenarios.testkit.KafkaCluster;
import io.kafkascenarios.testkit.KafkaClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Produces 10 000 keyed records to a 3-partition topic and reads them all back: nothing lost, nothing
 * duplicated, and per key the order of sending (the order within a partition) kept.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RoundTripIT {

    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.inProcess();

    private static final int RECORDS = 10_000;
    private static final int KEYS = 100;
    private static final int PARTITIONS = 3;

    @Test
    void everyRecordComesBackOnceInPerKeyOrder(KafkaCluster cluster) throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("round-trip");
        cluster.createTopic(topic, PARTITIONS);

        // value = the key's sequence number; record i has key i % KEYS and sequence i / KEYS
        List<Future<RecordMetadata>> acks = new ArrayList<>(RECORDS);
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrapServers())) {
            for (int i = 0; i < RECORDS; i++) {
                acks.add(producer.send(new ProducerRecord<>(topic, "key-" + (i % KEYS), Integer.toString(i / KEYS))));
            }
            producer.flush();
        }
        Map<String, Integer> partitionOfKey = new HashMap<>();
        for (int i = 0; i < RECORDS; i++) {
            RecordMetadata md = acks.get(i).get(0, TimeUnit.SECONDS); // flushed: done, or it throws
            Integer previous = partitionOfKey.putIfAbsent("key-" + (i % KEYS), md.partition());
            assertThat(previous).as("partition of key-%d", i % KEYS).isIn(null, md.partition());
        }
        assertThat(partitionOfKey.values()).as("keys spread over all partitions").containsAll(List.of(0, 1, 2));

        List<ConsumerRecord<String, String>> records = Clients.readToEnd(cluster.bootstrapServers(),
                Clients.partitions(topic, PARTITIONS), Duration.ofSeconds(60));

        assertThat(records).hasSize(RECORDS);
        Map<String, List<Integer>> sequencesByKey = records.stream().collect(Collectors.groupingBy(
                ConsumerRecord::key, Collectors.mapping(r -> Integer.valueOf(r.value()), Collectors.toList())));
        List<Integer> expected = IntStream.range(0, RECORDS / KEYS).boxed().toList();
        assertThat(sequencesByKey).hasSize(KEYS);
        sequencesByKey.forEach((key, sequences) -> assertThat(sequences).as("sequence numbers of %s", key)
                .containsExactlyElementsOf(expected));
        records.forEach(r -> assertThat(r.partition()).as("partition of %s", r.key())
                .isEqualTo(partitionOfKey.get(r.key())));
    }
}
