package io.kafkascenarios.it;

import static io.kafkascenarios.it.StreamFixture.consumerConfig;
import static io.kafkascenarios.it.StreamFixture.group;
import static io.kafkascenarios.it.StreamFixture.identity;
import static io.kafkascenarios.it.StreamFixture.produceInputs;
import static io.kafkascenarios.it.StreamFixture.producerConfig;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.Ordering;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/**
 * The key and unordered orderings against a real broker: concurrency within a partition, per-key
 * order on the output topic, rebalances between instances, a poison record, and what the defaults
 * and health promise whatever the ordering (a first owner crashing before its first commit, a stalled
 * partition).
 */
class StreamOrderingIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.inProcess();

    private static String bootstrap() {
        return KAFKA.cluster().bootstrapServers();
    }

    /** Most handler calls seen at once per partition. */
    private final Map<Integer, AtomicInteger> callsNow = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicInteger> mostAtOnce = new ConcurrentHashMap<>();

    private void enter(ConsumerRecord<byte[], byte[]> r) {
        int now = callsNow.computeIfAbsent(r.partition(), p -> new AtomicInteger()).incrementAndGet();
        mostAtOnce.computeIfAbsent(r.partition(), p -> new AtomicInteger()).accumulateAndGet(now, Math::max);
    }

    private void leave(ConsumerRecord<byte[], byte[]> r) {
        callsNow.get(r.partition()).decrementAndGet();
    }

    @Test
    void byKeyThreeInstancesShareSixPartitionsHandleEachPartitionConcurrentlyAndKeepEachKeysOrder() throws Exception {
        String in = inAndOut("ord-key", 6);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 12_000, 600);
        String group = group("ord-key");
        List<StreamProcessor> processors = new ArrayList<>();
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            for (int i = 0; i < 3; i++) {
                processors.add(StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                        .topics(in).name("key-" + i).ordering(Ordering.KEY).maxConcurrency(16)
                        .recordHandler(r -> {
                            enter(r);
                            try {
                                Thread.sleep(1); // I/O-bound: concurrency, not CPU, decides the pace
                                return List.of(identity(out, r));
                            } finally {
                                leave(r);
                            }
                        })
                        .start());
            }
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                    .until(() -> processors.stream().mapToLong(p -> p.health().processed()).sum() >= inputs.size());
            for (StreamProcessor p : processors) {
                assertThat(p.health().state()).isEqualTo(ProcessorHealth.State.RUNNING);
                assertThat(p.close(Duration.ofSeconds(20))).isTrue();
                assertThat(p.health().state()).isEqualTo(ProcessorHealth.State.CLOSED);
            }
        }
        assertThat(mostAtOnce.values()).as("calls at once within one partition").anySatisfy(n -> assertThat(n.get()).isGreaterThan(1));
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.missing(inputs)).isEmpty();
        assertThat(outputs.orderViolations()).as("per-key order on the output topic").isEmpty();
        // Instances joined while others worked: each revoke waited for its calls and their acks, and committed.
        assertThat(outputs.duplicates).as(outputs.toString()).isZero();
        assertThat(StreamFixture.committed(bootstrap(), group, in)).isEqualTo(StreamFixture.endOffsets(bootstrap(), in, 6));
    }

    @Test
    void unorderedHandlesOnePartitionManyRecordsAtOnceAndCommitsItsEnd() throws Exception {
        String in = inAndOut("ord-unordered", 1);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 3000, 3000);
        String group = group("ord-unordered");
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                    .topics(in).ordering(Ordering.UNORDERED).maxConcurrency(32)
                    .recordHandler(r -> {
                        enter(r);
                        try {
                            Thread.sleep(5); // 15 s one at a time
                            return List.of(identity(out, r));
                        } finally {
                            leave(r);
                        }
                    })
                    .start();
            await().atMost(Duration.ofSeconds(120)).until(() -> p.health().processed() >= inputs.size());
            assertThat(p.close(Duration.ofSeconds(20))).isTrue();
        }
        assertThat(mostAtOnce.get(0).get()).as("calls at once in the one partition").isGreaterThan(1).isLessThanOrEqualTo(32);
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.missing(inputs)).isEmpty();
        assertThat(outputs.duplicates).isZero();
        assertThat(StreamFixture.committed(bootstrap(), group, in)).isEqualTo(StreamFixture.endOffsets(bootstrap(), in, 1));
    }

    @Test
    void byKeyAPoisonRecordGoesToTheDeadLetterTopicAndEveryOtherRecordFlowsOnInKeyOrder() throws Exception {
        String in = inAndOut("ord-dlq", 2);
        String out = in + "-out";
        String dlq = KafkaClusterExtension.uniqueTopic("ord-dlq-dead");
        KAFKA.cluster().createTopic(dlq, 1);
        List<String> inputs = produceInputs(bootstrap(), in, 2000, 40);
        String poison = inputs.get(777);
        String group = group("ord-dlq");
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                    .topics(in).ordering(Ordering.KEY).retries(1).backoff(Backoff.fixed(Duration.ofMillis(10)))
                    .onFailure(FailurePolicy.DEAD_LETTER).deadLetterTopic(dlq)
                    .recordHandler(r -> {
                        if (new String(r.value(), UTF_8).equals(poison)) {
                            throw new NumberFormatException("bad amount in " + poison);
                        }
                        return List.of(identity(out, r));
                    })
                    .start();
            await().atMost(Duration.ofSeconds(60)).until(() -> p.health().processed() >= inputs.size());
            assertThat(p.health().deadLettered()).isEqualTo(1);
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        assertThat(ReadBack.all(bootstrap(), dlq)).singleElement()
                .satisfies(d -> assertThat(new String(d.value(), UTF_8)).isEqualTo(poison));
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.missing(inputs)).containsExactly(poison);
        assertThat(outputs.duplicates).isZero();
        assertThat(StreamFixture.committed(bootstrap(), group, in)).isEqualTo(StreamFixture.endOffsets(bootstrap(), in, 2));
    }

    @Test
    void aFirstOwnerThatStopsBeforeItsFirstCommitLosesNothingWithTheDefaultOffsetReset() throws Exception {
        String in = inAndOut("ord-first", 1);
        String out = in + "-out";
        String group = group("ord-first");
        Map<String, Object> config = consumerConfig(bootstrap(), group);
        config.remove(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG); // the processor's default, not the test's
        CountDownLatch never = new CountDownLatch(1);
        List<String> inputs;
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor first = StreamProcessor.builder(config, producer).topics(in)
                    .recordHandler(r -> {
                        never.await(); // stuck on its first record: it never completes, never commits
                        return List.of(identity(out, r));
                    })
                    .start();
            await().atMost(Duration.ofSeconds(30)).until(() -> !first.health().partitions().isEmpty());
            inputs = produceInputs(bootstrap(), in, 50, 5); // written after the first owner took the partition
            await().atMost(Duration.ofSeconds(30)).until(() -> first.health().partitions().values().stream()
                    .anyMatch(ph -> ph.lag() == 50 || ph.queued() > 0));
            first.close(Duration.ofMillis(500)); // abandons the stuck call: nothing was done, nothing committed
            assertThat(StreamFixture.committed(bootstrap(), group, in)).isEmpty();

            StreamProcessor second = StreamProcessor.builder(config, producer).topics(in)
                    .recordHandler(r -> List.of(identity(out, r)))
                    .start();
            // With Kafka's own default (latest) the second owner would start at the end and skip all 50.
            await().atMost(Duration.ofSeconds(60)).until(() -> second.health().processed() >= 50);
            assertThat(second.close(Duration.ofSeconds(10))).isTrue();
        }
        StreamFixture.Outputs.read(bootstrap(), out).assertEachInputOnceInOrder(inputs);
    }

    @Test
    void aPartitionStuckOnARecordShowsAsStalledInHealthUntilItMoves() throws Exception {
        String in = inAndOut("ord-stall", 2);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 200, 10);
        CountDownLatch release = new CountDownLatch(1);
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group("ord-stall")), producer)
                    .topics(in).stallTimeout(Duration.ofSeconds(1))
                    .recordHandler(r -> {
                        if (r.partition() == 0 && r.offset() == 5) {
                            release.await(); // a handler stuck on a call that does not answer
                        }
                        return List.of(identity(out, r));
                    })
                    .start();
            TopicPartition stuck = new TopicPartition(in, 0);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                ProcessorHealth h = p.health();
                assertThat(h.stalled()).containsOnlyKeys(stuck);
                assertThat(h.stalled().get(stuck)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
                assertThat(h.partitions().get(stuck).stalledFor()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
                assertThat(h.partitions().get(stuck).completed()).isLessThanOrEqualTo(5);
            });
            assertThat(p.health().state()).as("stalled is not failed").isEqualTo(ProcessorHealth.State.RUNNING);
            release.countDown();
            await().atMost(Duration.ofSeconds(60)).until(() -> p.health().processed() >= inputs.size());
            await().atMost(Duration.ofSeconds(10)).until(() -> p.health().stalled().isEmpty());
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        StreamFixture.Outputs.read(bootstrap(), out).assertEachInputOnceInOrder(inputs);
    }

    /** Creates {@code <unique>} and {@code <unique>-out} with the same partitions; returns the input's name. */
    private static String inAndOut(String prefix, int partitions) {
        String in = KafkaClusterExtension.uniqueTopic(prefix);
        KAFKA.cluster().createTopic(in, partitions);
        KAFKA.cluster().createTopic(in + "-out", partitions);
        return in;
    }
}
