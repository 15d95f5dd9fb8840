package io.kafkascenarios.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.OnFull;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.testkit.EmbeddedKafkaBroker;
import io.kafkascenarios.testkit.EmbeddedKafkaCluster;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/**
 * The three scenarios on a three-node cluster (replication factor 3, {@code min.insync.replicas=2},
 * {@code acks=all}) through leader SIGKILLs and rolling restarts: telemetry in BLOCK (nothing lost,
 * nothing duplicated, the caller's longest stall) and in DISCARD (no stall; the topic holds exactly the
 * delivered records); requests (each answered by its deadline, at the offset it was told); the stream
 * processor with instances crashing and SIGKILLed (nothing lost, duplicates counted). Each prints its
 * figures.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterFailoverIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvmCluster(3);

    @Test
    void telemetryInBlockModeLosesNothingThroughALeaderKillAndARollingRestart() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String topic = KafkaClusterExtension.uniqueTopic("cluster-telemetry");
        cluster.createTopic(topic, 1);
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> cluster.inSyncReplicas(topic, 0).size() == 3);
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        AtomicLong offered = new AtomicLong();
        AtomicLong longest = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        int leader;
        long rollingMillis;
        try (RingProducer producer = RingProducer.builder(config).onFull(OnFull.BLOCK).blockTimeout(Duration.ofSeconds(60)).build()) {
            Thread caller = new Thread(() -> {
                while (!stop.get()) {
                    long n = offered.get();
                    long t0 = System.nanoTime();
                    producer.offer(topic, null, ByteBuffer.allocate(8).putLong(n).array());
                    longest.accumulateAndGet(System.nanoTime() - t0, Math::max);
                    offered.incrementAndGet();
                    if ((n & 63) == 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // about 60 k records/s
                    }
                }
            }, "telemetry-caller");
            caller.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> producer.stats().delivered() > 20_000);
            leader = cluster.leaderOf(topic, 0);
            EmbeddedKafkaBroker killed = cluster.node(leader);
            long killedAt = System.nanoTime();
            killed.kill();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                int now = cluster.leaderOf(topic, 0);
                return now > 0 && now != leader;
            });
            long movedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            long deliveredAtMove = producer.stats().delivered();
            await().atMost(Duration.ofSeconds(60)).until(() -> producer.stats().delivered() > deliveredAtMove + 20_000);
            killed.restart();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> cluster.inSyncReplicas(topic, 0).size() == 3);
            long rollingStart = System.nanoTime();
            for (EmbeddedKafkaBroker node : cluster.nodes()) { // a rolling restart, as an upgrade does it
                node.restart();
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> cluster.inSyncReplicas(topic, 0).size() == 3);
            }
            rollingMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - rollingStart);
            stop.set(true);
            caller.join();
            assertThat(producer.flush(Duration.ofSeconds(60))).isTrue();
            RingStats s = producer.stats();
            System.out.printf("ClusterFailoverIT: leader %d SIGKILLed, new leader after %d ms; then a rolling restart of"
                    + " the three nodes in %d ms; %d offered, %d delivered, longest caller stall %.1f ms; %s%n", leader,
                    movedMillis, rollingMillis, offered.get(), s.delivered(), longest.get() / 1e6, s);
            assertThat(s.delivered()).isEqualTo(offered.get());
            assertThat(s.discarded() + s.failed()).isZero();
        }
        List<ConsumerRecord<byte[], byte[]>> stored = ReadBack.all(cluster.bootstrapServers(), topic);
        BitSet seen = new BitSet();
        long duplicates = 0;
        for (ConsumerRecord<byte[], byte[]> r : stored) {
            int n = (int) ByteBuffer.wrap(r.value()).getLong();
            if (seen.get(n)) {
                duplicates++;
            }
            seen.set(n);
        }
        assertThat(duplicates).as("idempotence: no duplicates across the failover").isZero();
        assertThat(seen.cardinality()).as("nothing lost").isEqualTo((int) offered.get());
        assertThat(stored).hasSize((int) offered.get());
    }

    @Test
    void telemetryInDiscardModeNeverStallsTheCallerAndTheTopicHoldsExactlyWhatWasDelivered() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String topic = KafkaClusterExtension.uniqueTopic("cluster-discard");
        cluster.createTopic(topic, 1);
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        // A small Kafka buffer: the failover backs up into the ring within a second, as a busy service's would.
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 256 * 1024);
        AtomicLong offered = new AtomicLong();
        AtomicLong longest = new AtomicLong();
        AtomicLong over5ms = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<String> longestAt = new java.util.concurrent.atomic.AtomicReference<>("");
        AtomicBoolean stop = new AtomicBoolean();
        int leader;
        long movedMillis;
        long discardedBeforeKill;
        RingStats s;
        try (RingProducer producer = RingProducer.builder(config).onFull(OnFull.DISCARD).ringSize(1024).build()) {
            Thread caller = new Thread(() -> {
                while (!stop.get()) {
                    long n = offered.get();
                    long t0 = System.nanoTime();
                    producer.offer(topic, null, ByteBuffer.allocate(8).putLong(n).array());
                    long took = System.nanoTime() - t0;
                    if (took > longest.get()) {
                        longest.set(took);
                        longestAt.set(java.time.LocalTime.now().toString()); // to match against a GC log
                    }
                    if (took > 5_000_000) {
                        over5ms.incrementAndGet();
                    }
                    offered.incrementAndGet();
                    if ((n & 63) == 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                    }
                }
            }, "telemetry-caller");
            caller.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> producer.stats().delivered() > 20_000);
            leader = cluster.leaderOf(topic, 0);
            discardedBeforeKill = producer.stats().discarded();
            long killedAt = System.nanoTime();
            cluster.node(leader).kill();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                int now = cluster.leaderOf(topic, 0);
                return now > 0 && now != leader;
            });
            movedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            long deliveredAtMove = producer.stats().delivered();
            await().atMost(Duration.ofSeconds(60)).until(() -> producer.stats().delivered() > deliveredAtMove + 20_000);
            stop.set(true);
            caller.join();
            assertThat(producer.flush(Duration.ofSeconds(60))).isTrue();
            s = producer.stats();
        }
        cluster.node(leader).restart(); // after the caller: a JVM starting on 2 cores is not the caller's stall
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> cluster.inSyncReplicas(topic, 0).size() == 3);
        List<ConsumerRecord<byte[], byte[]>> stored = ReadBack.all(cluster.bootstrapServers(), topic);
        BitSet seen = new BitSet();
        for (ConsumerRecord<byte[], byte[]> r : stored) {
            seen.set((int) ByteBuffer.wrap(r.value()).getLong());
        }
        System.out.printf("ClusterFailoverIT: DISCARD through leader %d's SIGKILL (new leader after %d ms): %d offered,"
                + " %d delivered, %d discarded, %d in the topic; longest caller stall %.2f ms (ended at %s), %d calls over 5 ms; %s%n",
                leader, movedMillis, offered.get(), s.delivered(), s.discarded(), stored.size(), longest.get() / 1e6,
                longestAt.get(), over5ms.get(), s);
        assertThat(s.delivered() + s.discarded() + s.failed()).as("every offer accounted for").isEqualTo(offered.get());
        assertThat(s.discarded()).as("the failover filled the ring").isGreaterThan(discardedBeforeKill);
        assertThat(s.blockedCalls()).as("DISCARD never waits").isZero();
        assertThat(stored).as("the topic holds exactly the delivered records").hasSize((int) s.delivered());
        assertThat(seen.cardinality()).as("no duplicates").isEqualTo(stored.size());
        // Not a timing claim: a caller that blocked would stall for the whole failover (seconds). GC pauses
        // of this shared JVM can reach tens of ms.
        assertThat(Duration.ofNanos(longest.get())).isLessThan(Duration.ofMillis(500));
    }

    @Test
    void everyRequestIsAnsweredByItsDeadlineThroughALeaderFailover() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String topic = KafkaClusterExtension.uniqueTopic("cluster-requests");
        cluster.createTopic(topic, 1);
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        Duration deadline = Duration.ofSeconds(5);
        java.util.concurrent.ConcurrentLinkedQueue<long[]> acked = new java.util.concurrent.ConcurrentLinkedQueue<>(); // id, offset, ended
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> failed = new java.util.concurrent.ConcurrentLinkedQueue<>();
        AtomicLong slowest = new AtomicLong();
        AtomicLong ids = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        long killedAt;
        int leader;
        int controller;
        try (RingProducer producer = RingProducer.builder(config).build()) {
            List<Thread> clients = new java.util.ArrayList<>();
            for (int c = 0; c < 16; c++) {
                Thread t = new Thread(() -> {
                    while (!stop.get()) {
                        long id = ids.incrementAndGet();
                        long start = System.nanoTime();
                        try {
                            long offset = producer.send(topic, null, ByteBuffer.allocate(8).putLong(id).array(), deadline).get().offset();
                            acked.add(new long[] {id, offset, System.nanoTime()});
                        } catch (java.util.concurrent.ExecutionException e) {
                            failed.add(e.getCause());
                        } catch (InterruptedException e) {
                            return;
                        }
                        slowest.accumulateAndGet(System.nanoTime() - start, Math::max);
                    }
                }, "request-" + c);
                clients.add(t);
                t.start();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() > 2_000);
            leader = cluster.leaderOf(topic, 0);
            controller = activeController(cluster.bootstrapServers());
            killedAt = System.nanoTime();
            cluster.node(leader).kill();
            long ackedAtKill = acked.size();
            await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() > ackedAtKill + 2_000);
            cluster.node(leader).restart();
            stop.set(true);
            for (Thread t : clients) {
                t.join();
            }
        }
        // The longest pause in acknowledgements around the kill.
        long[] ends = acked.stream().mapToLong(a -> a[2]).sorted().toArray();
        long pause = 0;
        for (int i = 1; i < ends.length; i++) {
            if (ends[i] > killedAt - 1_000_000_000L) {
                pause = Math.max(pause, ends[i] - ends[i - 1]);
            }
        }
        Map<Long, Long> stored = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : ReadBack.all(cluster.bootstrapServers(), topic)) {
            stored.put(ByteBuffer.wrap(r.value()).getLong(), r.offset());
        }
        System.out.printf("ClusterFailoverIT: requests through leader %d's SIGKILL (the active controller was node %d): %d acknowledged,"
                + " %d failed, slowest %.0f ms, acknowledgements paused %.0f ms at most%n", leader, controller, acked.size(), failed.size(),
                slowest.get() / 1e6, pause / 1e6);
        assertThat(Duration.ofNanos(slowest.get())).as("every request answered by its deadline (plus scheduling slack)")
                .isLessThan(deadline.plusSeconds(2));
        assertThat(failed).allSatisfy(e -> assertThat(e).isInstanceOf(io.kafkascenarios.SendTimeoutException.class));
        assertThat(acked).allSatisfy(a -> assertThat(stored.get(a[0])).as("request %d at the offset it was told", a[0]).isEqualTo(a[1]));
    }

    @Test
    void theStreamProcessorLosesNothingThroughARollingRestartAndInstanceKills() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String bootstrap = cluster.bootstrapServers();
        String in = KafkaClusterExtension.uniqueTopic("cluster-stream-in");
        String out = KafkaClusterExtension.uniqueTopic("cluster-stream-out");
        cluster.createTopic(in, 6);
        cluster.createTopic(out, 6);
        // About 1,000 records/s in all (6 ms each, one partition at a time per worker): the run spans the
        // restarts and the kills, about 35 s.
        List<String> inputs = StreamFixture.produceInputs(bootstrap, in, 30_000, 60);
        String group = StreamFixture.group("cluster-stream");
        Map<String, Object> producerConfig = StreamFixture.producerConfig(bootstrap);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        List<io.kafkascenarios.stream.StreamProcessor> running = new java.util.ArrayList<>();
        List<ChildProcessor> children = new java.util.ArrayList<>();
        long start = System.nanoTime();
        try (RingProducer producer = RingProducer.builder(producerConfig).build()) {
            java.util.function.Function<String, io.kafkascenarios.stream.StreamProcessor> instance = name ->
                    io.kafkascenarios.stream.StreamProcessor.builder(ProcessorMain.consumerConfig(bootstrap, group), producer) // 6 s sessions, as the child's
                            .topics(in).name(name)
                            .recordHandler(r -> {
                                java.util.concurrent.locks.LockSupport.parkNanos(6_000_000);
                                return List.of(StreamFixture.identity(out, r));
                            })
                            .start();
            try {
                // An instance in a child JVM of its own, to SIGKILL: no shutdown code runs at all. It
                // starts first, so that a slow JVM start cannot leave it nothing to process.
                ChildProcessor x = ChildProcessor.launch(bootstrap, group, in, out, "-D" + ProcessorMain.BATCH_DELAY_PROPERTY + "=150");
                children.add(x);
                await().atMost(Duration.ofSeconds(90)).until(x::running);
                running.add(instance.apply("a"));
                io.kafkascenarios.stream.StreamProcessor b = instance.apply("b");
                running.add(b);
                await().atMost(Duration.ofSeconds(60)).until(() -> running.stream().mapToLong(p -> p.health().processed()).sum() > 5_000);
                restartAndAwaitReplicas(cluster, 1, in, out);
                b.close(Duration.ZERO); // an in-process crash: no final commit
                running.remove(b);
                running.add(instance.apply("c"));
                x.kill(); // SIGKILL mid-stream, with its last 100 ms of completions uncommitted
                children.add(ChildProcessor.launch(bootstrap, group, in, out, "-D" + ProcessorMain.BATCH_DELAY_PROPERTY + "=150"));
                restartAndAwaitReplicas(cluster, 2, in, out);
                restartAndAwaitReplicas(cluster, 3, in, out);
                Map<org.apache.kafka.common.TopicPartition, Long> end = StreamFixture.endOffsets(bootstrap, in, 6);
                await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .until(() -> StreamFixture.committed(bootstrap, group, in).equals(end));
            } finally { // before the producer they write through closes
                for (ChildProcessor c : children) {
                    c.kill();
                }
                for (io.kafkascenarios.stream.StreamProcessor p : running) {
                    p.close(Duration.ofSeconds(30));
                }
            }
        }
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap, out);
        System.out.printf("ClusterFailoverIT: stream processor through a rolling restart, an instance crash and a SIGKILLed instance: %d inputs,"
                + " %s (%.2f %%), %.1f s%n", inputs.size(), outputs, 100.0 * outputs.duplicates / inputs.size(),
                (System.nanoTime() - start) / 1e9);
        assertThat(outputs.missing(inputs)).as("inputs without output").isEmpty();
        assertThat(outputs.orderViolations()).as("per-key order").isEmpty();
    }

    /** Restarts one node, then waits until every partition of the topics has its three replicas in sync. */
    private static void restartAndAwaitReplicas(EmbeddedKafkaCluster cluster, int node, String... topics) {
        cluster.node(node).restart();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> java.util.Arrays.stream(topics).allMatch(t -> java.util.stream.IntStream.range(0, 6)
                        .allMatch(p -> cluster.inSyncReplicas(t, p).size() == 3)));
    }

    /** The node id of the active KRaft controller: killing it too makes the failover longer. */
    private static int activeController(String bootstrap) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            return admin.describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS).leaderId();
        }
    }
}
