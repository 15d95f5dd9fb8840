package io.kafkascenarios.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import io.kafkascenarios.testkit.KafkaCluster;
import io.kafkascenarios.testkit.KafkaClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SIGKILLs the broker (child JVM) while an idempotent acks=all producer is sending, restarts it, and checks
 * that every acknowledged record and the committed offsets of a consumer group survived.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BrokerCrashIT {

    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvm();

    private static final int PARTITIONS = 3;
    private static final int KEYS = 30;
    /** The producer sends BATCH records, then pauses PAUSE: about 10 000 records/s. */
    private static final int BATCH = 100;
    private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    @Test
    void ackedRecordsAndCommittedOffsetsSurviveSigkill(KafkaCluster cluster) throws Exception {
        KAFKA.assumeFaultInjection(); // here rather than in @BeforeAll, so that reports list the skipped test
        String topic = KafkaClusterExtension.uniqueTopic("crash");
        String group = KafkaClusterExtension.uniqueTopic("crash-group");
        List<TopicPartition> tps = Clients.partitions(topic, PARTITIONS);
        cluster.createTopic(topic, PARTITIONS);

        // value = a unique sequence number; acked holds the sequence numbers whose callback had no exception
        Set<Long> acked = new ConcurrentSkipListSet<>();
        ConcurrentLinkedQueue<Exception> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stopProducing = new AtomicBoolean();
        KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrapServers());
        Thread producerThread = new Thread(() -> {
            long seq = 0;
            while (!stopProducing.get()) {
                for (int i = 0; i < BATCH; i++, seq++) {
                    long s = seq;
                    producer.send(new ProducerRecord<>(topic, "key-" + (s % KEYS), Long.toString(s)), (md, e) -> {
                        if (e == null) {
                            acked.add(s);
                        } else {
                            failures.add(e);
                        }
                    });
                }
                LockSupport.parkNanos(PAUSE_NANOS); // rate limit, not a wait for a condition
            }
        }, "crash-it-producer");
        Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
        Set<Long> ackedBeforeKill;
        producerThread.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= 3_000);

            // a consumer group reads some records and commits where it got to
            try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrapServers(), group)) {
                consumer.assign(tps);
                int[] consumed = {0};
                await().atMost(Duration.ofSeconds(30)).pollInSameThread().pollInterval(Duration.ofMillis(1)).until(() -> {
                    consumed[0] += consumer.poll(Duration.ofMillis(200)).count();
                    return consumed[0] >= 1_000;
                });
                for (TopicPartition tp : tps) {
                    committed.put(tp, new OffsetAndMetadata(consumer.position(tp), "before-crash"));
                }
                consumer.commitSync(committed, Duration.ofSeconds(30));
            }
            assertThat(committed.values()).extracting(OffsetAndMetadata::offset).allMatch(offset -> offset >= 0)
                    .as("some progress committed").anyMatch(offset -> offset > 0);

            // SIGKILL mid-stream
            ackedBeforeKill = new TreeSet<>(acked);
            cluster.kill();
            long t0 = System.nanoTime();
            cluster.restart();
            long restartMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            int ackedAtRestart = acked.size();
            await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= ackedAtRestart + 3_000);
            long moreAcksMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.printf("BrokerCrashIT: restart() after SIGKILL took %d ms; 3000 more acks %d ms after the "
                    + "restart began; %d acked before the kill%n", restartMillis, moreAcksMillis,
                    ackedBeforeKill.size());

            stopProducing.set(true);
            producerThread.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(producerThread.isAlive()).as("producer thread stopped").isFalse();
            producer.flush();
        } finally {
            stopProducing.set(true);
            producer.close(Duration.ofSeconds(30));
        }
        assertThat(failures).as("failed sends (idempotent producer, 120 s delivery timeout)").isEmpty();

        List<ConsumerRecord<String, String>> records = Clients.readToEnd(cluster.bootstrapServers(), tps,
                Duration.ofSeconds(60));
        List<Long> read = records.stream().map(r -> Long.valueOf(r.value())).toList();
        Set<Long> readSet = new TreeSet<>(read);
        assertThat(read).as("no duplicates").hasSameSizeAs(readSet);
        assertThat(readSet).as("records acked before the SIGKILL").containsAll(ackedBeforeKill);
        assertThat(readSet).as("every acked record").containsAll(acked);

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> after = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            assertThat(after.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset())))
                    .as("committed offsets after the crash")
                    .isEqualTo(committed.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset())));
            assertThat(after.values()).extracting(OffsetAndMetadata::metadata).containsOnly("before-crash");
        }
    }
}
