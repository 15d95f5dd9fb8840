package io.kafkascenarios.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.FailureReport;
import io.kafkascenarios.OnFull;
import io.kafkascenarios.RecordWriter;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/** The telemetry ring producer against a real broker, including a broker that is killed and one that is absent. */
class TelemetryIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvm();

    private static final RecordWriter<Long> LONG = (n, value) -> value.putLong(n);

    private static Map<String, Object> config(String bootstrap) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return config;
    }

    private static Map<String, Object> config() {
        return config(KAFKA.cluster().bootstrapServers());
    }

    @Test
    void recordsArriveIntactWithPerPartitionOrder() {
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-intact");
        KAFKA.cluster().createTopic(topic, 3);
        int n = 20_000;
        Header[] headers = {new RecordHeader("source", "it".getBytes(UTF_8))};
        try (RingProducer producer = RingProducer.builder(config()).onFull(OnFull.BLOCK).build()) {
            for (int i = 0; i < n; i++) {
                byte[] key = ("k" + (i % 50)).getBytes(UTF_8);
                assertThat(producer.offer(topic, RingProducer.ANY_PARTITION, RingProducer.NO_TIMESTAMP,
                        key, ByteBuffer.allocate(8).putLong(i).array(), headers)).isTrue();
            }
            assertThat(producer.flush(Duration.ofSeconds(60))).isTrue();
            RingStats stats = producer.stats();
            assertThat(stats.delivered()).isEqualTo(n);
            assertThat(stats.pending()).isZero();
        }
        List<ConsumerRecord<byte[], byte[]>> records = ReadBack.all(KAFKA.cluster().bootstrapServers(), topic);
        assertThat(records).hasSize(n);
        Map<String, Long> lastPerKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            String key = new String(r.key(), UTF_8);
            long seq = ByteBuffer.wrap(r.value()).getLong();
            assertThat(key).isEqualTo("k" + (seq % 50));
            assertThat(r.headers().lastHeader("source").value()).isEqualTo("it".getBytes(UTF_8));
            Long previous = lastPerKey.put(key, seq);
            if (previous != null) {
                assertThat(seq).as("order of key %s", key).isGreaterThan(previous);
            }
        }
    }

    @Test
    void brokerKilledMidLoadEveryRecordIsAccountedFor() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-crash");
        KAFKA.cluster().createTopic(topic, 3);
        RecordingListener listener = new RecordingListener();
        RingProducer producer = RingProducer.builder(config()).ringSize(4096).listener(listener)
                .reportInterval(Duration.ofMillis(100)).build();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong accepted = new AtomicLong();
        CompletableFuture<Long> caller = CompletableFuture.supplyAsync(() -> {
            long i = 0;
            while (!stop.get()) {
                if (producer.offerWith(topic, LONG, i++)) {
                    accepted.incrementAndGet();
                }
                if ((i & 63) == 0) {
                    sleepMillis(1); // ~50k records/s: telemetry, not a benchmark
                }
            }
            return i;
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> producer.stats().delivered() > 5_000);
        KAFKA.cluster().kill();
        sleepMillis(1_000);
        KAFKA.cluster().restart();
        long deliveredAtRestart = producer.stats().delivered();
        await().atMost(Duration.ofSeconds(60)).until(() -> producer.stats().delivered() > deliveredAtRestart + 5_000);
        stop.set(true);
        long offered = caller.get();
        long notDelivered = producer.close(Duration.ofSeconds(60));

        RingStats stats = producer.stats();
        assertThat(stats.offered()).isEqualTo(offered);
        assertThat(stats.offered()).isEqualTo(stats.delivered() + stats.discarded() + stats.failed());
        assertThat(stats.pending()).isZero();
        assertThat(stats.discarded()).isEqualTo(offered - accepted.get());
        assertThat(notDelivered).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> listener.failed.get() == stats.failed()
                && listener.discarded.get() == stats.discarded());

        List<ConsumerRecord<byte[], byte[]>> records = ReadBack.all(KAFKA.cluster().bootstrapServers(), topic);
        Set<Long> distinct = new HashSet<>();
        records.forEach(r -> distinct.add(ByteBuffer.wrap(r.value()).getLong()));
        System.out.printf("crash test: offered=%d delivered=%d discarded=%d failed=%d read=%d distinct=%d%n",
                stats.offered(), stats.delivered(), stats.discarded(), stats.failed(), records.size(), distinct.size());
        assertThat(distinct).hasSize((int) stats.delivered());
        assertThat(records).as("duplicates").hasSize(distinct.size());
    }

    @Test
    void blockModeAcrossABrokerRestartLosesNothing() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-block");
        KAFKA.cluster().createTopic(topic, 3);
        long n = 30_000;
        try (RingProducer producer = RingProducer.builder(config()).ringSize(1024).onFull(OnFull.BLOCK).build()) {
            CompletableFuture<Void> caller = CompletableFuture.runAsync(() -> {
                for (long i = 0; i < n; i++) {
                    assertThat(producer.offerWith(topic, LONG, i)).isTrue();
                    if ((i & 63) == 0) {
                        sleepMillis(1);
                    }
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.stats().delivered() > 2_000);
            KAFKA.cluster().kill();
            // The ring fills while the broker is gone; the caller waits instead of discarding.
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.stats().ringRemaining() == 0);
            KAFKA.cluster().restart();
            caller.get();
            assertThat(producer.flush(Duration.ofSeconds(60))).isTrue();
            RingStats stats = producer.stats();
            assertThat(stats.offered()).isEqualTo(n);
            assertThat(stats.delivered()).isEqualTo(n);
            assertThat(stats.discarded()).isZero();
            assertThat(stats.failed()).isZero();
            assertThat(stats.blockedCalls()).isPositive();
        }
        List<ConsumerRecord<byte[], byte[]>> records = ReadBack.all(KAFKA.cluster().bootstrapServers(), topic);
        Set<Long> distinct = new HashSet<>();
        records.forEach(r -> distinct.add(ByteBuffer.wrap(r.value()).getLong()));
        assertThat(distinct).hasSize((int) n);
    }

    @Test
    void anInterruptedCallerBlockedOnABrokerOutageGivesUpAndIsCounted() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-interrupt");
        KAFKA.cluster().createTopic(topic, 1);
        try (RingProducer producer = RingProducer.builder(config()).ringSize(64).onFull(OnFull.BLOCK).build()) {
            assertThat(producer.offer(topic, null, new byte[1])).isTrue();
            assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
            KAFKA.cluster().kill();
            CompletableFuture<Boolean> interruptedAfter = new CompletableFuture<>();
            Thread caller = new Thread(() -> {
                boolean accepted = true;
                while (accepted) {
                    accepted = producer.offer(topic, null, new byte[1]);
                }
                interruptedAfter.complete(Thread.currentThread().isInterrupted());
            });
            caller.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.stats().blockedCalls() > 0
                    && producer.stats().ringRemaining() == 0);
            caller.interrupt();
            assertThat(interruptedAfter.get()).isTrue();
            assertThat(producer.stats().discarded()).isEqualTo(1);
            KAFKA.cluster().restart();
            assertThat(producer.flush(Duration.ofSeconds(60))).isTrue();
            RingStats stats = producer.stats();
            assertThat(stats.delivered()).isEqualTo(stats.offered() - 1);
            assertThat(stats.failed()).isZero();
        }
    }

    @Test
    void withNoBrokerAtAllOfferReturnsAtOnceAndCloseKeepsItsDeadline() throws Exception {
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        RecordingListener listener = new RecordingListener();
        RingProducer producer = RingProducer.builder(config("127.0.0.1:" + deadPort)).ringSize(1024)
                .listener(listener).build();
        int n = 200_000;
        long start = System.nanoTime();
        long accepted = 0;
        for (int i = 0; i < n; i++) {
            accepted += producer.offer("nowhere", null, new byte[16]) ? 1 : 0;
        }
        Duration offering = Duration.ofNanos(System.nanoTime() - start);
        // KafkaProducer.send() would have blocked max.block.ms (60 s) on the first record.
        assertThat(offering).isLessThan(Duration.ofSeconds(10));
        assertThat(accepted).isBetween(1024L, 1025L);

        Duration deadline = Duration.ofSeconds(2);
        long closeStart = System.nanoTime();
        long notDelivered = producer.close(deadline);
        Duration closing = Duration.ofNanos(System.nanoTime() - closeStart);
        assertThat(closing).isLessThan(deadline.plusMillis(500));
        assertThat(notDelivered).isEqualTo(accepted);
        RingStats stats = producer.stats();
        assertThat(stats.offered()).isEqualTo(n);
        assertThat(stats.failed()).isEqualTo(accepted);
        assertThat(stats.discarded()).isEqualTo(n - accepted);
        assertThat(stats.delivered()).isZero();
        assertThat(stats.pending()).isZero();
        System.out.printf("no broker: %d offers in %s, close(%s) took %s, %d not delivered%n",
                n, offering, deadline, closing, notDelivered);
    }

    @Test
    void badInputIsRefusedClearlyAndBreaksNothing() {
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-bad-input");
        KAFKA.cluster().createTopic(topic, 1);
        AtomicLong listenerCalls = new AtomicLong();
        RingProducerListener throwing = new RingProducerListener() {
            @Override
            public void onFailed(FailureReport report) {
                listenerCalls.incrementAndGet();
                throw new IllegalStateException("listener bug");
            }
        };
        Map<String, Object> config = config();
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1_000);
        RingProducer producer = RingProducer.builder(config).slotCapacity(256).listener(throwing)
                .reportInterval(Duration.ofMillis(100)).build();
        assertThatThrownBy(() -> producer.offer(null, null, new byte[1]))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("topic");
        assertThatThrownBy(() -> producer.offer(topic, new byte[100], new byte[200]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("300 bytes")
                .hasMessageContaining("256 bytes");
        // A topic that does not exist (auto-creation is off): Kafka fails the record after max.block.ms.
        assertThat(producer.offer("no-such-topic-" + System.nanoTime(), null, "lost?".getBytes(UTF_8))).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> producer.stats().failed() == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> producer.stats().listenerErrors() == 1);
        // The flusher and the reporter carry on.
        for (int i = 0; i < 100; i++) {
            assertThat(producer.offer(topic, null, new byte[] {(byte) i})).isTrue();
        }
        assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(100);
        assertThat(producer.close(Duration.ofSeconds(10))).isZero();
        assertThat(listenerCalls.get()).isEqualTo(1);
        assertThatThrownBy(() -> producer.offer(topic, null, new byte[1]))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThat(ReadBack.all(KAFKA.cluster().bootstrapServers(), topic)).hasSize(100);
    }

    /** Close interrupted while the broker is down: it still drains everything once the broker is back. */
    @Test
    void anInterruptedCloseStillDrainsAcrossABrokerOutage() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-close-interrupt");
        KAFKA.cluster().createTopic(topic, 1);
        RingProducer producer = RingProducer.builder(config()).build();
        assertThat(producer.offer(topic, null, new byte[1])).isTrue();
        assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
        KAFKA.cluster().kill();
        for (int i = 0; i < 100; i++) {
            assertThat(producer.offer(topic, null, new byte[1])).isTrue();
        }
        AtomicLong notDelivered = new AtomicLong(-1);
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        Thread closer = new Thread(() -> {
            notDelivered.set(producer.close(Duration.ofSeconds(90)));
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        }, "closer");
        long start = System.nanoTime();
        closer.start();
        AtomicLong probes = new AtomicLong();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try {
                probes.addAndGet(producer.offer(topic, null, new byte[1]) ? 1 : 0);
                return false;
            } catch (IllegalStateException closing) {
                return true;
            }
        });
        closer.interrupt(); // as an executor's shutdownNow would, during a graceful shutdown
        await().atMost(Duration.ofSeconds(30)).until(() -> !closer.isInterrupted()); // the closer took it
        KAFKA.cluster().restart();
        closer.join();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(notDelivered.get()).isZero();
        assertThat(interruptedAfter.get()).isTrue();
        RingStats stats = producer.stats();
        assertThat(stats.delivered()).isEqualTo(101 + probes.get());
        assertThat(stats.pending()).isZero();
        assertThat(ReadBack.all(KAFKA.cluster().bootstrapServers(), topic)).hasSize((int) (101 + probes.get()));
        System.out.printf("close interrupted during a broker outage: drained %d records, took %s%n",
                stats.delivered(), took);
    }

    /** A stray interrupt of the flusher with a real KafkaProducer: cleared, it parks again, nothing fails. */
    @Test
    void aStrayInterruptOfTheFlusherChangesNothing() throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-flusher-interrupt");
        KAFKA.cluster().createTopic(topic, 1);
        AtomicReference<Thread> flusher = new AtomicReference<>();
        try (RingProducer producer = RingProducer.builder(config()).threadFactory(r -> {
            Thread t = new Thread(r, r.toString());
            t.setDaemon(true);
            if (r.toString().endsWith("flusher")) {
                flusher.set(t);
            }
            return t;
        }).build()) {
            assertThat(producer.offer(topic, null, new byte[1])).isTrue();
            assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
            Thread f = flusher.get();
            f.interrupt();
            await().atMost(Duration.ofSeconds(30)).until(() -> !f.isInterrupted() && f.getState() == Thread.State.TIMED_WAITING);
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long cpu0 = mx.getThreadCpuTime(f.getId());
            long t0 = System.nanoTime();
            await().pollDelay(Duration.ofSeconds(1)).until(() -> true);
            double cpuMsPerS = (mx.getThreadCpuTime(f.getId()) - cpu0) / 1e6 / ((System.nanoTime() - t0) / 1e9);
            for (int i = 0; i < 100; i++) {
                assertThat(producer.offer(topic, null, new byte[1])).isTrue();
            }
            assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
            assertThat(producer.stats().delivered()).isEqualTo(101);
            assertThat(producer.stats().failed()).isZero();
            System.out.printf("idle flusher after a stray interrupt: %.1f ms CPU per second%n", cpuMsPerS);
        }
        assertThat(ReadBack.all(KAFKA.cluster().bootstrapServers(), topic)).hasSize(101);
    }

    /** A record claimed before close and committed after close returned: failed, reported, never written. */
    @Test
    void aRecordCommittedAfterCloseIsFailedAndReportedNotLost() throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-late-commit");
        KAFKA.cluster().createTopic(topic, 1);
        RecordingListener listener = new RecordingListener();
        RingProducer producer = RingProducer.builder(config()).listener(listener)
                .reportInterval(Duration.ofMillis(50)).build();
        java.util.concurrent.CountDownLatch claimed = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<Boolean> offered = CompletableFuture.supplyAsync(() -> producer.offerWith(topic, (arg, out) -> {
            claimed.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.putLong(42);
        }, null));
        claimed.await();
        assertThat(producer.offer(topic, null, new byte[1])).isTrue(); // behind the held slot
        long notDelivered = producer.close(Duration.ofMillis(500));
        assertThat(notDelivered).isEqualTo(2);
        release.countDown();
        assertThat(offered.get()).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> producer.stats().pending() == 0 && listener.failed.get() == 2);
        assertThat(producer.stats().failed()).isEqualTo(2);
        assertThat(ReadBack.all(KAFKA.cluster().bootstrapServers(), topic)).isEmpty();
    }

    /**
     * Producers made by the user's factory: a real KafkaProducer wrapped to count what it sends. The
     * records land in the topic, and the ring closes the producer it was given.
     */
    @Test
    void producersFromTheUsersFactoryDeliverAndAreClosedByTheRing() {
        String topic = KafkaClusterExtension.uniqueTopic("telemetry-factory");
        KAFKA.cluster().createTopic(topic, 1);
        AtomicInteger sent = new AtomicInteger();
        AtomicBoolean closed = new AtomicBoolean();
        Supplier<Producer<byte[], byte[]>> factory = () ->
                new KafkaProducer<>(config(), new ByteArraySerializer(), new ByteArraySerializer()) {
                    @Override
                    public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
                        sent.incrementAndGet();
                        return super.send(record, callback);
                    }

                    @Override
                    public void close(Duration timeout) {
                        closed.set(true);
                        super.close(timeout);
                    }
                };
        int n = 1_000;
        try (RingProducer producer = RingProducer.builder(Map.of()).onFull(OnFull.BLOCK).producerFactory(factory).build()) {
            for (int i = 0; i < n; i++) {
                assertThat(producer.offer(topic, null, ByteBuffer.allocate(8).putLong(i).array())).isTrue();
            }
            assertThat(producer.flush(Duration.ofSeconds(60))).isTrue();
            assertThat(producer.stats().delivered()).isEqualTo(n);
        }
        assertThat(sent.get()).isEqualTo(n);
        assertThat(closed.get()).isTrue();
        assertThat(ReadBack.all(KAFKA.cluster().bootstrapServers(), topic)).hasSize(n);
    }

    static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sums what the reporter thread reports. */
    static final class RecordingListener implements RingProducerListener {
        final AtomicLong failed = new AtomicLong();
        final AtomicLong discarded = new AtomicLong();

        @Override
        public void onFailed(FailureReport report) {
            failed.addAndGet(report.count());
        }

        @Override
        public void onDiscarded(long n, long total) {
            discarded.addAndGet(n);
        }
    }
}
