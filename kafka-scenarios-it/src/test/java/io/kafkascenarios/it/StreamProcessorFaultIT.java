package io.kafkascenarios.it;

import static io.kafkascenarios.it.StreamFixture.group;
import static io.kafkascenarios.it.StreamFixture.produceInputs;
import static io.kafkascenarios.it.StreamFixture.producerConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.stream.PartitionHealth;
import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/**
 * The stream processor under faults, against a real broker in a child JVM: an instance stopped abruptly in
 * process, an instance's JVM SIGKILLed, and the broker SIGKILLed and restarted, each mid-stream. Targets
 * (issue 5): no input is lost in any of them, per-key order holds, and an instance kill duplicates at most
 * 1% of the records. Duplicate counts are printed.
 *
 * <p>Every instance is built by {@link ProcessorMain#start}: batches of {@value ProcessorMain#MAX_BATCH}, a
 * 40 ms sleep per batch (about 500 records/s per partition, so the 30 000 records take ~10 s and the kill
 * lands mid-stream), commits every 100 ms, {@code session.timeout.ms=6000}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StreamProcessorFaultIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvm();

    private static final int PARTITIONS = 6;
    private static final int RECORDS = 30_000;
    private static final int KEYS = 60;
    /** Issue 5: duplicates under instance kills at most 1% of the records. */
    private static final double MAX_DUPLICATE_RATIO = 0.01;
    private static final Duration DONE_TIMEOUT = Duration.ofSeconds(120);

    private static String bootstrap() {
        return KAFKA.cluster().bootstrapServers();
    }

    @Test
    void anInstanceClosedAbruptlyMidStreamLosesNothingAndTheOthersTakeOver() throws Exception {
        long t0 = System.nanoTime();
        String in = KafkaClusterExtension.uniqueTopic("spf-abrupt-in");
        String out = KafkaClusterExtension.uniqueTopic("spf-abrupt-out");
        KAFKA.cluster().createTopic(in, PARTITIONS);
        KAFKA.cluster().createTopic(out, PARTITIONS);
        List<String> inputs = produceInputs(bootstrap(), in, RECORDS, KEYS);
        String group = group("spf-abrupt");
        AtomicLong victimInterrupted = new AtomicLong();
        Instances instances = new Instances();
        try (Admin admin = admin()) {
            Map<TopicPartition, Long> end = endOffsets(admin, in);
            for (int i = 0; i < 3; i++) {
                instances.start(group, in, out, "abrupt-" + i, i == 0 ? victimInterrupted : null);
            }
            List<StreamProcessor> all = instances.processors;
            await("three instances sharing the partitions, mid-stream").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> all.stream().allMatch(p -> p.health().processed() > 0 && !p.health().partitions().isEmpty())
                            && owned(all).size() == PARTITIONS && processed(all) >= RECORDS / 4);
            StreamProcessor victim = all.get(0);
            ProcessorHealth atKill = victim.health();
            long victimLeft = left(atKill, end);
            assertThat(victimLeft).as("the victim still has work in %s", atKill.partitions().keySet())
                    .isGreaterThan(ProcessorMain.MAX_BATCH * 4L);

            victim.close(Duration.ZERO); // abandons in-flight batches, commits only what is done
            victim.termination().get(30, TimeUnit.SECONDS);
            assertThat(victim.health().state()).isEqualTo(ProcessorHealth.State.CLOSED);
            List<StreamProcessor> survivors = all.subList(1, all.size());

            awaitAllCommitted(admin, group, end);
            assertThat(survivors).allSatisfy(p -> assertThat(p.health().state()).isEqualTo(ProcessorHealth.State.RUNNING));
            assertThat(owned(survivors)).as("the survivors own every partition").hasSize(PARTITIONS);
            for (StreamProcessor p : survivors) {
                assertThat(p.close(Duration.ofSeconds(20))).isTrue();
            }
            report("instance closed abruptly (close(Duration.ZERO)), " + victimLeft + " records left in its "
                    + atKill.partitions().size() + " partitions, " + victimInterrupted.get()
                    + " handler calls interrupted", inputs, out, t0, true);
        } finally {
            instances.close();
        }
    }

    @Test
    void aProcessorJvmKilledWithSigkillMidStreamLosesNothingAndTheOthersTakeOver() throws Exception {
        long t0 = System.nanoTime();
        String in = KafkaClusterExtension.uniqueTopic("spf-sigkill-in");
        String out = KafkaClusterExtension.uniqueTopic("spf-sigkill-out");
        KAFKA.cluster().createTopic(in, PARTITIONS);
        KAFKA.cluster().createTopic(out, PARTITIONS);
        List<String> inputs = produceInputs(bootstrap(), in, RECORDS, KEYS);
        String group = group("spf-sigkill");
        Instances instances = new Instances();
        ChildProcessor child = null;
        try (Admin admin = admin()) {
            Map<TopicPartition, Long> end = endOffsets(admin, in);
            child = ChildProcessor.launch(bootstrap(), group, in, out);
            ChildProcessor c = child;
            await("the child processor running").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        assertThat(c.alive()).as("child alive; its output:\n%s", c.output()).isTrue();
                        return c.running();
                    });
            for (int i = 0; i < 2; i++) {
                instances.start(group, in, out, "sigkill-" + i, null);
            }
            List<StreamProcessor> survivors = instances.processors;
            // The in-process instances own 4 partitions once the rebalance settled: the child owns 2.
            await("the in-process instances sharing the partitions with the child").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> survivors.stream().allMatch(p -> p.health().processed() > 0 && !p.health().partitions().isEmpty())
                            && owned(survivors).size() == PARTITIONS - 2);
            Set<TopicPartition> childPartitions = new HashSet<>(end.keySet());
            childPartitions.removeAll(owned(survivors));
            long childProcessedBefore = c.processed();
            await("the child processing its partitions").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> c.processed() > childProcessedBefore);
            String progress = c.lastProgress();
            child.kill(); // SIGKILL: no commit, no leave-group; the group notices after session.timeout.ms
            assertThat(child.alive()).isFalse();
            // The child's checkpoints as it died (nobody else owns its partitions for session.timeout.ms).
            Map<TopicPartition, Long> committedAtKill = committed(admin, group);
            Map<Integer, Long> childCommitted = new TreeMap<>();
            childPartitions.forEach(tp -> childCommitted.put(tp.partition(), committedAtKill.getOrDefault(tp, 0L)));
            System.out.println("StreamProcessorFaultIT: child's last progress line before the SIGKILL: " + progress
                    + "; its partitions' checkpoints after it: " + childCommitted);
            long childLeft = childPartitions.stream()
                    .mapToLong(tp -> end.get(tp) - committedAtKill.getOrDefault(tp, 0L)).sum();
            assertThat(childLeft).as("the child still had work in %s", childPartitions)
                    .isGreaterThan(ProcessorMain.MAX_BATCH * 4L);

            awaitAllCommitted(admin, group, end);
            assertThat(survivors).allSatisfy(p -> assertThat(p.health().state()).isEqualTo(ProcessorHealth.State.RUNNING));
            assertThat(owned(survivors)).as("the survivors own every partition").hasSize(PARTITIONS);
            for (StreamProcessor p : survivors) {
                assertThat(p.close(Duration.ofSeconds(20))).isTrue();
            }
            report("processor JVM SIGKILLed, " + childLeft + " records of its partitions uncommitted "
                    + childPartitions, inputs, out, t0, true);
        } finally {
            if (child != null) {
                child.kill();
            }
            instances.close();
        }
    }

    @Test
    void aBrokerKilledAndRestartedMidStreamLosesNothingAndProcessingContinues() throws Exception {
        KAFKA.assumeFaultInjection();
        long t0 = System.nanoTime();
        String in = KafkaClusterExtension.uniqueTopic("spf-broker-in");
        String out = KafkaClusterExtension.uniqueTopic("spf-broker-out");
        KAFKA.cluster().createTopic(in, PARTITIONS);
        KAFKA.cluster().createTopic(out, PARTITIONS);
        List<String> inputs = produceInputs(bootstrap(), in, RECORDS, KEYS);
        String group = group("spf-broker");
        Instances instances = new Instances();
        try (Admin admin = admin()) {
            Map<TopicPartition, Long> end = endOffsets(admin, in);
            // SKIP, and outputs that time out within the outage: an outage is not a record's fault, so
            // the timed-out batches must be retried, never skipped.
            for (int i = 0; i < 2; i++) {
                instances.start(group, in, out, "broker-" + i, null, b -> b.onFailure(FailurePolicy.SKIP)
                        .outputTimeout(Duration.ofSeconds(2)).retries(15).backoff(Backoff.fixed(Duration.ofMillis(200))));
            }
            List<StreamProcessor> all = instances.processors;
            await("two instances sharing the partitions, mid-stream").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> all.stream().allMatch(p -> p.health().processed() > 0 && !p.health().partitions().isEmpty())
                            && owned(all).size() == PARTITIONS && processed(all) >= RECORDS / 5);
            long processedAtKill = processed(all);

            KAFKA.cluster().kill();
            KAFKA.cluster().restart();
            long processedAtRestart = processed(all);
            assertThat(processedAtRestart).as("mid-stream at the restart").isLessThan(RECORDS);

            awaitAllCommitted(admin, group, end);
            assertThat(processed(all)).as("processing continued after the restart").isGreaterThan(processedAtRestart);
            assertThat(all).allSatisfy(p -> assertThat(p.health().state()).as(p.health().toString())
                    .isEqualTo(ProcessorHealth.State.RUNNING));
            assertThat(all).allSatisfy(p -> assertThat(p.health().skipped()).as("records skipped for an outage").isZero());
            System.out.println("StreamProcessorFaultIT: broker outage: retries " + all.stream().mapToLong(p -> p.health().retries()).sum());
            for (StreamProcessor p : all) {
                assertThat(p.close(Duration.ofSeconds(20))).isTrue();
            }
            report("broker SIGKILLed and restarted, " + processedAtKill + " processed at the kill, "
                    + processedAtRestart + " once restarted", inputs, out, t0, false);
        } finally {
            instances.close();
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** Reads the output topic, prints the counts, and checks: nothing lost, per-key order, duplicates. */
    private static void report(String what, List<String> inputs, String out, long t0, boolean duplicateTarget) {
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        List<String> missing = outputs.missing(inputs);
        double ratio = (double) outputs.duplicates / inputs.size();
        System.out.printf("StreamProcessorFaultIT: %s: %d inputs, %d outputs, %d lost, %d duplicates (%.3f%%), %d ms%n",
                what, inputs.size(), outputs.total, missing.size(), outputs.duplicates, 100 * ratio,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        assertThat(missing).as("inputs without output (%s)", outputs).isEmpty();
        assertThat(outputs.orderViolations()).as("per-key order").isEmpty();
        if (duplicateTarget) {
            assertThat(ratio).as("duplicates / inputs (%s)", outputs).isLessThanOrEqualTo(MAX_DUPLICATE_RATIO);
        }
    }

    /** Waits until the group's committed offsets reach the end of every input partition: everything done. */
    private static void awaitAllCommitted(Admin admin, String group, Map<TopicPartition, Long> end) {
        await("every input committed by " + group).atMost(DONE_TIMEOUT).pollInterval(Duration.ofMillis(250))
                .ignoreExceptions() // the admin client during a broker restart
                .until(() -> committed(admin, group).equals(end));
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (TopicPartition tp : Clients.partitions(topic, PARTITIONS)) {
            latest.put(tp, OffsetSpec.latest());
        }
        Map<TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
        assertThat(end.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(RECORDS);
        return end;
    }

    private static Map<TopicPartition, Long> committed(Admin admin, String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        Map<TopicPartition, Long> result = new HashMap<>();
        offsets.forEach((tp, o) -> {
            if (o != null) {
                result.put(tp, o.offset());
            }
        });
        return result;
    }

    private static long processed(List<StreamProcessor> ps) {
        return ps.stream().mapToLong(p -> p.health().processed()).sum();
    }

    private static Set<TopicPartition> owned(List<StreamProcessor> ps) {
        Set<TopicPartition> owned = new HashSet<>();
        ps.forEach(p -> owned.addAll(p.health().partitions().keySet()));
        return owned;
    }

    /** Records after what the processor completed in its partitions (all of a partition it completed nothing in). */
    private static long left(ProcessorHealth h, Map<TopicPartition, Long> end) {
        long left = 0;
        for (Map.Entry<TopicPartition, PartitionHealth> e : h.partitions().entrySet()) {
            left += end.get(e.getKey()) - Math.max(0, e.getValue().completed());
        }
        return left;
    }

    /** In-process instances, each with its own producer as separate services would have. */
    private static final class Instances {
        final List<StreamProcessor> processors = new ArrayList<>();
        final List<RingProducer> producers = new ArrayList<>();

        void start(String group, String in, String out, String name, AtomicLong interrupted) {
            start(group, in, out, name, interrupted, UnaryOperator.identity());
        }

        void start(String group, String in, String out, String name, AtomicLong interrupted,
                   UnaryOperator<StreamProcessor.Builder> tweak) {
            RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build();
            producers.add(producer);
            processors.add(ProcessorMain.start(bootstrap(), group, in, out, producer, name, interrupted, tweak));
        }

        /** Processors first, then their producers. Idempotent. */
        void close() {
            for (StreamProcessor p : processors) {
                p.close(Duration.ofSeconds(10));
            }
            for (RingProducer p : producers) {
                p.close(Duration.ofSeconds(10));
            }
        }
    }
}
