package io.kafkascenarios.it;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Inputs and checks shared by the stream-processor ITs. Records are keyed {@code k<n>} with values
 * {@code k<n>:<seq>}, seq counting up per key, so per-key order and completeness can be checked on the
 * output topic.
 */
final class StreamFixture {
    private StreamFixture() {
    }

    static Map<String, Object> consumerConfig(String bootstrap, String group) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return c;
    }

    static Map<String, Object> producerConfig(String bootstrap) {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return c;
    }

    static String group(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    /** Writes {@code count} keyed records over {@code keys} keys; returns them in order. */
    static List<String> produceInputs(String bootstrap, String topic, int count, int keys) {
        List<String> values = new ArrayList<>(count);
        int[] seq = new int[keys];
        try (KafkaProducer<String, String> p = Clients.producer(bootstrap)) {
            for (int i = 0; i < count; i++) {
                int k = i % keys;
                String value = "k" + k + ":" + seq[k]++;
                p.send(new ProducerRecord<>(topic, "k" + k, value));
                values.add(value);
            }
            p.flush();
        }
        return values;
    }

    /** The identity output of an input record. */
    static ProducerRecord<byte[], byte[]> identity(String outTopic, ConsumerRecord<byte[], byte[]> r) {
        return new ProducerRecord<>(outTopic, r.key(), r.value());
    }

    /** The identity outputs of a batch, in order. */
    static List<ProducerRecord<byte[], byte[]>> identityAll(String outTopic, List<ConsumerRecord<byte[], byte[]>> records) {
        List<ProducerRecord<byte[], byte[]>> outputs = new ArrayList<>(records.size());
        for (ConsumerRecord<byte[], byte[]> r : records) {
            outputs.add(identity(outTopic, r));
        }
        return outputs;
    }

    /** What an output topic holds, per key in topic order, and how many records are repeats. */
    static final class Outputs {
        final Map<String, List<Integer>> perKey = new LinkedHashMap<>();
        int total;
        int duplicates;

        static Outputs read(String bootstrap, String topic) {
            Outputs o = new Outputs();
            Map<String, java.util.Set<Integer>> seen = new HashMap<>();
            ReadBack.each(bootstrap, topic, Duration.ofMinutes(5), r -> {
                String v = new String(r.value(), UTF_8);
                String key = v.substring(0, v.indexOf(':'));
                int s = Integer.parseInt(v.substring(v.indexOf(':') + 1));
                o.perKey.computeIfAbsent(key, x -> new ArrayList<>()).add(s);
                o.total++;
                if (!seen.computeIfAbsent(key, x -> new java.util.HashSet<>()).add(s)) {
                    o.duplicates++;
                }
            });
            return o;
        }

        /** Inputs with no output at all. */
        List<String> missing(List<String> inputs) {
            List<String> missing = new ArrayList<>();
            Map<String, java.util.Set<Integer>> have = new HashMap<>();
            perKey.forEach((k, l) -> have.put(k, new java.util.HashSet<>(l)));
            for (String in : inputs) {
                String key = in.substring(0, in.indexOf(':'));
                int s = Integer.parseInt(in.substring(in.indexOf(':') + 1));
                if (!have.getOrDefault(key, java.util.Set.of()).contains(s)) {
                    missing.add(in);
                }
            }
            return missing;
        }

        /**
         * Keys whose outputs go backwards other than by replaying: after a crash or retry, a key's
         * outputs may restart from an earlier record and repeat, but each replay must itself be in order,
         * and every record's first appearance must come after its predecessor's.
         */
        List<String> orderViolations() {
            List<String> bad = new ArrayList<>();
            perKey.forEach((k, l) -> {
                int nextNew = 0;
                for (int s : l) {
                    if (s > nextNew) {
                        bad.add(k + ": " + s + " before " + nextNew + " in " + (l.size() > 40 ? l.subList(0, 40) + "..." : l));
                        return;
                    }
                    if (s == nextNew) {
                        nextNew++;
                    }
                }
            });
            return bad;
        }

        /** Every input has exactly one output, and each key's outputs are in input order. */
        void assertEachInputOnceInOrder(List<String> inputs) {
            org.assertj.core.api.Assertions.assertThat(missing(inputs)).as("inputs without output").isEmpty();
            org.assertj.core.api.Assertions.assertThat(duplicates).as("duplicates in %s", this).isZero();
            org.assertj.core.api.Assertions.assertThat(orderViolations()).as("per-key order").isEmpty();
        }

        @Override
        public String toString() {
            return total + " outputs, " + duplicates + " duplicates, " + perKey.size() + " keys";
        }
    }

    /** The group's committed offsets in the topic (absent partitions: nothing committed). */
    static Map<org.apache.kafka.common.TopicPartition, Long> committed(String bootstrap, String group, String topic) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, java.util.concurrent.TimeUnit.SECONDS);
            Map<org.apache.kafka.common.TopicPartition, Long> result = new HashMap<>();
            offsets.forEach((tp, o) -> {
                if (tp.topic().equals(topic) && o != null) {
                    result.put(tp, o.offset());
                }
            });
            return result;
        }
    }

    /** The topic's end offsets. */
    static Map<org.apache.kafka.common.TopicPartition, Long> endOffsets(String bootstrap, String topic, int partitions) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(config,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            return new HashMap<>(consumer.endOffsets(Clients.partitions(topic, partitions), Duration.ofSeconds(30)));
        }
    }

    static Duration seconds(long s) {
        return Duration.ofSeconds(s);
    }
}
