package io.kafkascenarios.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.OnFull;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.SendTimeoutException;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;
import io.kafkascenarios.testkit.EmbeddedKafkaBroker;
import io.kafkascenarios.testkit.EmbeddedKafkaCluster;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/**
 * The soak ({@code mvn -B verify -Psoak}, {@code -Dks.soak.minutes=10} by default): the three scenarios
 * at once on a three-node cluster while random faults hit it (partition leaders SIGKILLed and
 * restarted, rolling restarts, stream instances SIGKILLed or crashed, a slow handler). A monitor checks
 * the invariants every 5 s as it runs; at the end every topic is read back and a summary table is
 * printed and written to {@code target/soak-summary.md}. {@code -Dks.soak.seed=N} replays a fault
 * sequence.
 *
 * <ul>
 *   <li>Telemetry: one caller offering about 5,000 records/s in BLOCK, {@code acks=all}: nothing
 *       discarded, failed, lost or duplicated.</li>
 *   <li>Requests: four callers, each {@code send(...).get()} with a 5 s deadline: each answered by its
 *       deadline (plus 2 s of scheduling slack), every acknowledged record at the offset it was told,
 *       none of the "never written" ones in the topic.</li>
 *   <li>Stream: about 500 inputs/s into 6 partitions, two processors in this JVM and one in a child
 *       JVM: every acknowledged input has an output; duplicates counted.</li>
 * </ul>
 */
class ClusterSoakIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvmCluster(3);

    private static final Duration DEADLINE = Duration.ofSeconds(5);
    private static final Duration SLACK = Duration.ofSeconds(2);

    private enum Fault { LEADER_KILL, ROLLING_RESTART, INSTANCE_KILL, SLOW_HANDLER }

    private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private volatile long handlerNanos = 200_000;

    @Test
    void theThreeScenariosKeepTheirPromisesUnderRandomFaults() throws Exception {
        double minutes = Double.parseDouble(System.getProperty("ks.soak.minutes", "10"));
        String seedProperty = System.getProperty("ks.soak.seed", "");
        long seed = seedProperty.isBlank() ? System.nanoTime() : Long.parseLong(seedProperty.trim());
        Random random = new Random(seed);
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String bootstrap = cluster.bootstrapServers();
        String tele = KafkaClusterExtension.uniqueTopic("soak-telemetry");
        String requests = KafkaClusterExtension.uniqueTopic("soak-requests");
        String in = KafkaClusterExtension.uniqueTopic("soak-in");
        String out = KafkaClusterExtension.uniqueTopic("soak-out");
        Map<String, Integer> topics = Map.of(tele, 3, requests, 3, in, 6, out, 6);
        Map<String, Integer> replicated = new java.util.HashMap<>(topics);
        replicated.put("__consumer_offsets", 5); // the test kit's offsets.topic.num.partitions
        cluster.createTopic(tele, 3);
        cluster.createTopic(requests, 3);
        cluster.createTopic(in, 6);
        cluster.createTopic(out, 6);
        String group = StreamFixture.group("soak");
        System.out.printf("ClusterSoakIT: %.1f minutes, seed %d%n", minutes, seed);

        Map<String, Object> acksAll = new java.util.HashMap<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"));
        Map<String, Object> requestConfig = new java.util.HashMap<>(acksAll);
        requestConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);

        // ---- telemetry
        AtomicLong offered = new AtomicLong();
        AtomicLong teleStall = new AtomicLong();
        // ---- requests
        Map<Long, Long> acked = new ConcurrentHashMap<>(); // id -> partition << 40 | offset
        ConcurrentLinkedQueue<Long> neverWritten = new ConcurrentLinkedQueue<>();
        AtomicLong deadlineMisses = new AtomicLong();
        AtomicLong requestSlowest = new AtomicLong();
        AtomicLong ids = new AtomicLong();
        // ---- stream
        ConcurrentLinkedQueue<String> inputs = new ConcurrentLinkedQueue<>();
        AtomicLong inputFailures = new AtomicLong();
        List<StreamProcessor> processors = new ArrayList<>();
        List<ChildProcessor> children = new ArrayList<>();
        AtomicLong instances = new AtomicLong(); // in this JVM and in child JVMs, all started
        Map<Fault, Integer> faults = new EnumMap<>(Fault.class);
        long maxHeap = 0;
        long started = System.nanoTime();
        long end = started + (long) (minutes * 60e9);

        try (RingProducer telemetry = RingProducer.builder(acksAll).name("soak-telemetry").onFull(OnFull.BLOCK)
                .blockTimeout(Duration.ofSeconds(60)).build();
             RingProducer requester = RingProducer.builder(requestConfig).name("soak-requests").build();
             RingProducer streamOut = RingProducer.builder(acksAll).name("soak-stream-out").build();
             KafkaProducer<String, String> inputProducer = Clients.producer(bootstrap)) {

            spawn("soak-telemetry-caller", () -> {
                while (!stop.get()) {
                    long n = offered.get();
                    long t0 = System.nanoTime();
                    telemetry.offer(tele, null, ByteBuffer.allocate(8).putLong(n).array());
                    teleStall.accumulateAndGet(System.nanoTime() - t0, Math::max);
                    offered.incrementAndGet();
                    if ((n & 15) == 0) {
                        LockSupport.parkNanos(3_000_000); // about 5,000 records/s
                    }
                }
            });
            for (int c = 0; c < 4; c++) {
                spawn("soak-request-" + c, () -> {
                    while (!stop.get()) {
                        long id = ids.incrementAndGet();
                        long t0 = System.nanoTime();
                        try {
                            var md = requester.send(requests, null, ByteBuffer.allocate(8).putLong(id).array(), DEADLINE).get();
                            acked.put(id, ((long) md.partition() << 40) | md.offset());
                        } catch (ExecutionException e) {
                            if (e.getCause() instanceof SendTimeoutException t) {
                                deadlineMisses.incrementAndGet();
                                if (!t.mayBeWritten()) {
                                    neverWritten.add(id);
                                }
                            } else {
                                violations.add(at() + "request " + id + " failed: " + e.getCause());
                            }
                        } catch (InterruptedException e) {
                            return;
                        }
                        long took = System.nanoTime() - t0;
                        requestSlowest.accumulateAndGet(took, Math::max);
                        if (took > DEADLINE.plus(SLACK).toNanos()) {
                            violations.add(at() + "request " + id + " answered after " + took / 1_000_000 + " ms");
                        }
                        LockSupport.parkNanos(2_000_000);
                    }
                });
            }
            spawn("soak-stream-input", () -> {
                int[] seq = new int[60];
                for (long i = 0; !stop.get(); i++) {
                    int k = (int) (i % 60);
                    String value = "k" + k + ":" + seq[k]++;
                    inputProducer.send(new ProducerRecord<>(in, "k" + k, value), (md, e) -> {
                        if (e == null) {
                            inputs.add(value);
                        } else {
                            inputFailures.incrementAndGet();
                        }
                    });
                    if ((i & 7) == 0) {
                        LockSupport.parkNanos(16_000_000); // about 500 inputs/s
                    }
                }
            });
            processors.add(inProcess(bootstrap, group, in, out, streamOut, instances));
            processors.add(inProcess(bootstrap, group, in, out, streamOut, instances));
            children.add(child(bootstrap, group, in, out, instances));

            List<Fault> bag = new ArrayList<>();
            long nextFault = System.nanoTime() + seconds(10 + random.nextInt(10));
            long lastDelivered = -1;
            long lastProgress = System.nanoTime();
            while (System.nanoTime() - end < 0) {
                // The monitor, every 5 s.
                RingStats t = telemetry.stats();
                if (t.discarded() + t.failed() > 0) {
                    violations.add(at() + "telemetry in BLOCK lost records: " + t);
                }
                if (t.delivered() != lastDelivered) {
                    lastDelivered = t.delivered();
                    lastProgress = System.nanoTime();
                } else if (System.nanoTime() - lastProgress > seconds(60)) {
                    violations.add(at() + "telemetry delivered nothing for 60 s: " + t);
                    lastProgress = System.nanoTime();
                }
                for (StreamProcessor p : processors) {
                    if (p.health().state() == ProcessorHealth.State.FAILED) {
                        violations.add(at() + p + " failed: " + p.health().failure().orElse(null));
                    }
                }
                long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                maxHeap = Math.max(maxHeap, used);
                if (System.nanoTime() - nextFault >= 0) {
                    if (bag.isEmpty()) { // every kind once per round, in a random order
                        bag.addAll(List.of(Fault.values()));
                        java.util.Collections.shuffle(bag, random);
                    }
                    Fault f = bag.remove(0);
                    faults.merge(f, 1, Integer::sum);
                    inject(f, random, cluster, replicated, processors, children, bootstrap, group, in, out, streamOut, instances);
                    nextFault = System.nanoTime() + seconds(15 + random.nextInt(20));
                }
                Thread.sleep(5_000);
            }
            stop.set(true);
            for (Thread th : threads) {
                th.join(TimeUnit.SECONDS.toMillis(30));
            }
            assertThat(threads).as("load threads stopped before the counts are read").noneMatch(Thread::isAlive);
            inputProducer.flush();
            assertThat(telemetry.flush(Duration.ofSeconds(120))).as("telemetry flushed").isTrue();
            Map<TopicPartition, Long> endOffsets = StreamFixture.endOffsets(bootstrap, in, 6);
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> StreamFixture.committed(bootstrap, group, in).equals(endOffsets));
            RingStats telemetryStats = telemetry.stats();
            for (ChildProcessor c : children) {
                c.kill();
            }
            for (StreamProcessor p : processors) {
                p.close(Duration.ofSeconds(30));
            }

            // ---- read back
            BitSet seen = new BitSet();
            AtomicLong teleDuplicates = new AtomicLong();
            long teleStored = ReadBack.each(bootstrap, tele, Duration.ofMinutes(5), r -> {
                int n = (int) ByteBuffer.wrap(r.value()).getLong();
                if (seen.get(n)) {
                    teleDuplicates.incrementAndGet();
                }
                seen.set(n);
            });
            long teleLost = offered.get() - seen.cardinality();
            Map<Long, Long> stored = new java.util.HashMap<>();
            ReadBack.each(bootstrap, requests, Duration.ofMinutes(2), r ->
                    stored.put(ByteBuffer.wrap(r.value()).getLong(), ((long) r.partition() << 40) | r.offset()));
            long misplaced = acked.entrySet().stream().filter(e -> !e.getValue().equals(stored.get(e.getKey()))).count();
            long writtenAnyway = neverWritten.stream().filter(stored::containsKey).count();
            StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap, out);
            List<String> missing = outputs.missing(new ArrayList<>(inputs));
            System.gc();
            long heapAtEnd = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();

            String table = String.format("""
                    | scenario | records | lost | duplicates | longest caller stall | deadline misses |
                    |---|---|---|---|---|---|
                    | telemetry (BLOCK, acks=all) | %,d offered, %,d in the topic | %d | %d | %.0f ms | n/a |
                    | requests (5 s deadline) | %,d acknowledged, %,d deadline misses (%d never written) | %d misplaced, %d never-written found | n/a | %.0f ms | %d |
                    | stream processor | %,d inputs, %,d outputs | %d | %d (%.2f %%) | n/a | n/a |

                    %.1f minutes, seed %d; faults: %s; %d stream instances in all; %d input sends failed.
                    Test JVM heap: %.0f MB at the end after a GC, %.0f MB at most during the run.
                    Invariant violations: %s
                    """, offered.get(), teleStored, teleLost, teleDuplicates.get(), teleStall.get() / 1e6,
                    acked.size(), deadlineMisses.get(), neverWritten.size(), misplaced, writtenAnyway,
                    requestSlowest.get() / 1e6, deadlineMisses.get(),
                    inputs.size(), outputs.total, missing.size(), outputs.duplicates, 100.0 * outputs.duplicates / Math.max(1, inputs.size()),
                    (System.nanoTime() - started) / 60e9, seed, faults, instances.get(), inputFailures.get(),
                    heapAtEnd / 1e6, maxHeap / 1e6, violations.isEmpty() ? "none" : violations);
            System.out.println("ClusterSoakIT summary:\n" + table);
            writeSummary(table);

            assertThat(violations).as("invariants checked while running").isEmpty();
            assertThat(telemetryStats.delivered()).isEqualTo(offered.get());
            assertThat(teleLost).as("telemetry lost").isZero();
            assertThat(teleDuplicates.get()).as("telemetry duplicates").isZero();
            assertThat(misplaced).as("acknowledged requests not at their offset").isZero();
            assertThat(writtenAnyway).as("'never written' requests found in the topic").isZero();
            assertThat(missing).as("stream inputs without output").isEmpty();
            assertThat(inputFailures.get()).as("input sends failed (a gap would read as an order violation)").isZero();
            assertThat(outputs.orderViolations()).as("per-key order").isEmpty();
        } finally {
            stop.set(true);
            for (ChildProcessor c : children) {
                c.kill();
            }
            for (StreamProcessor p : processors) {
                p.close(Duration.ofSeconds(10));
            }
        }
    }

    private void inject(Fault f, Random random, EmbeddedKafkaCluster cluster, Map<String, Integer> topics, List<StreamProcessor> processors,
                        List<ChildProcessor> children, String bootstrap, String group, String in, String out,
                        RingProducer streamOut, AtomicLong instances) throws InterruptedException {
        long t0 = System.nanoTime();
        String detail;
        switch (f) {
            case LEADER_KILL -> {
                String topic = new ArrayList<>(topics.keySet()).get(random.nextInt(topics.size()));
                int leader = cluster.leaderOf(topic, 0);
                EmbeddedKafkaBroker node = cluster.node(leader > 0 ? leader : 1 + random.nextInt(3));
                node.kill();
                Thread.sleep(seconds(3 + random.nextInt(8)) / 1_000_000);
                node.restart();
                awaitFullIsr(cluster, topics);
                detail = "node " + node.nodeId() + " (leader of " + topic + "-0)";
            }
            case ROLLING_RESTART -> {
                for (EmbeddedKafkaBroker node : cluster.nodes()) {
                    node.restart();
                    awaitFullIsr(cluster, topics);
                }
                detail = "all three nodes";
            }
            case INSTANCE_KILL -> {
                if (random.nextBoolean()) {
                    ChildProcessor victim = children.remove(0);
                    victim.kill();
                    children.add(child(bootstrap, group, in, out, instances));
                    detail = "SIGKILL of the child JVM instance";
                } else {
                    StreamProcessor victim = processors.remove(random.nextInt(processors.size()));
                    victim.close(Duration.ZERO);
                    processors.add(inProcess(bootstrap, group, in, out, streamOut, instances));
                    detail = "crash of " + victim;
                }
            }
            default -> {
                handlerNanos = 50_000_000; // 50 ms a record: far behind its input for 10 s
                Thread.sleep(10_000);
                handlerNanos = 200_000;
                detail = "50 ms a record for 10 s";
            }
        }
        System.out.printf("ClusterSoakIT %s: %s: %s, %d ms%n", LocalTime.now().truncatedTo(ChronoUnit.SECONDS), f, detail,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    private StreamProcessor inProcess(String bootstrap, String group, String in, String out, RingProducer producer,
                                      AtomicLong instances) {
        return StreamProcessor.builder(ProcessorMain.consumerConfig(bootstrap, group), producer)
                .topics(in).name("soak-" + instances.incrementAndGet())
                .recordHandler(r -> {
                    LockSupport.parkNanos(handlerNanos);
                    return List.of(StreamFixture.identity(out, r));
                })
                .start();
    }

    private static ChildProcessor child(String bootstrap, String group, String in, String out, AtomicLong instances) {
        instances.incrementAndGet();
        return ChildProcessor.launch(bootstrap, group, in, out, "-D" + ProcessorMain.BATCH_DELAY_PROPERTY + "=5");
    }

    /** Until every partition of every topic has its three replicas in sync again. */
    private static void awaitFullIsr(EmbeddedKafkaCluster cluster, Map<String, Integer> topics) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> topics.entrySet().stream().allMatch(t -> java.util.stream.IntStream.range(0, t.getValue())
                        .allMatch(p -> cluster.inSyncReplicas(t.getKey(), p).size() == 3)));
    }

    private void spawn(String name, Runnable body) {
        Thread t = new Thread(body, name);
        threads.add(t);
        t.start();
    }

    private static long seconds(long s) {
        return TimeUnit.SECONDS.toNanos(s);
    }

    private static String at() {
        return LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " ";
    }

    private static void writeSummary(String table) {
        try {
            Path target = Path.of("target");
            Files.createDirectories(target);
            Files.writeString(target.resolve("soak-summary.md"), table, UTF_8);
        } catch (IOException e) {
            System.out.println("could not write target/soak-summary.md: " + e);
        }
    }
}
