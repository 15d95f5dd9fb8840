package io.kafkascenarios.jmh;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.kafkascenarios.testkit.EmbeddedKafkaBroker;

/**
 * The loss row of the appender comparison, and the per-call cost at a steady rate. Each appender
 * ({@link LogbackSides}) runs in a fresh JVM with the JMH forks' flags: it logs about 20,000 events
 * a second from one thread, first 5 s to a warm-up topic, then 35 s to the measured topic while this
 * JVM SIGKILLs the broker at 5 s and restarts it at 20 s (a 15 s outage, and about 5 s more while it
 * starts); then the appender is stopped and the topic read back. For each: events logged, distinct
 * events in the topic, duplicates, drops the appender reported, the unaccounted rest
 * (logged − stored − reported: silent loss); and the logging thread's per-call latency (HdrHistogram)
 * while the broker was healthy, and its longest call overall. The broker is its own (it is killed),
 * the same for the three sides.
 */
public final class LogbackLossRun {
    private static final long WARM_UP_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long RUN_NANOS = TimeUnit.SECONDS.toNanos(35);
    private static final long KILL_AT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long RESTART_AT_NANOS = TimeUnit.SECONDS.toNanos(20);
    private static final String PAD = "x".repeat(86);

    private record Row(String side, long logged, long stored, long duplicates, long reported, Map<String, Long> calls) {
        long unaccounted() {
            return logged - stored - reported;
        }
    }

    private LogbackLossRun() {
    }

    /** @return the markdown table, also written to {@code out/logback-loss.md} */
    static String run(Path out) throws Exception {
        List<Row> rows = new ArrayList<>();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.childJvm().start()) {
            for (String side : List.of(LogbackSides.OURS, LogbackSides.PLAIN, LogbackSides.ASYNC)) {
                BenchmarkSuite.progress("logback loss run: " + side + " (fresh JVM; 5 s warm-up, 35 s measured, broker SIGKILLed from 5 s to 20 s)");
                rows.add(runOne(broker, side));
            }
        }
        StringBuilder md = new StringBuilder()
                .append("| appender | logged | in topic | duplicates | reported dropped | unaccounted (silent loss) "
                        + "| per call, broker up: p50 / p99 / p99.9 | longest call |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %,d (%.1f %%) | %s / %s / %s | %s |%n", r.side, r.logged,
                    r.stored, r.duplicates, r.reported, r.unaccounted(), 100.0 * r.unaccounted() / Math.max(1, r.logged),
                    time(r.calls.get("p50")), time(r.calls.get("p99")), time(r.calls.get("p999")), time(r.calls.get("longest"))));
        }
        Files.writeString(out.resolve("logback-loss.md"), md);
        return md.toString();
    }

    private static String time(long nanos) {
        return nanos < 10_000 ? nanos + " ns" : nanos < 10_000_000 ? String.format(Locale.ROOT, "%.1f µs", nanos / 1e3)
                : String.format(Locale.ROOT, "%,.1f ms", nanos / 1e6);
    }

    private static Row runOne(EmbeddedKafkaBroker broker, String side) throws Exception {
        String topic = "logback-loss-" + side + "-" + System.nanoTime();
        broker.createTopic(topic, 3, BenchCluster.TOPIC_CONFIG);
        broker.createTopic(topic + "-warm-up", 3, BenchCluster.TOPIC_CONFIG);
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(BenchmarkSuite.FORK_JVM_ARGS));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LogbackLossRun.class.getName(),
                side, broker.bootstrapServers(), topic));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String result = null;
        List<String> tail = new ArrayList<>();
        Thread faults = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.equals("MEASURING")) {
                    long start = System.nanoTime();
                    faults = new Thread(() -> {
                        try {
                            sleepUntil(start + KILL_AT_NANOS);
                            broker.kill();
                            sleepUntil(start + RESTART_AT_NANOS);
                            broker.restart();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }, "logback-loss-faults");
                    faults.start();
                } else if (line.startsWith("RESULT ")) {
                    result = line;
                }
                tail.add(line);
                if (tail.size() > 30) {
                    tail.remove(0);
                }
            }
        }
        if (!child.waitFor(5, TimeUnit.MINUTES) || faults == null || result == null) {
            child.destroyForcibly();
            throw new IllegalStateException("the " + side + " run gave no result:\n" + String.join("\n", tail));
        }
        faults.join();
        Map<String, Long> fields = new HashMap<>();
        for (String kv : result.substring("RESULT ".length()).split(" ")) {
            fields.put(kv.substring(0, kv.indexOf('=')), Long.parseLong(kv.substring(kv.indexOf('=') + 1)));
        }
        long[] stored = readBack(broker.bootstrapServers(), topic, new BitSet());
        return new Row(side, fields.get("logged"), stored[0], stored[1], fields.get("reported"), fields);
    }

    /**
     * The child JVM: one appender, warmed up on its own topic, then measured.
     *
     * @param args side, bootstrap servers, topic
     * @throws Exception if the appender does not start
     */
    public static void main(String[] args) throws Exception {
        String side = args[0];
        String bootstrap = args[1];
        String topic = args[2];
        logFor(side, bootstrap, topic + "-warm-up", WARM_UP_NANOS, null);
        System.out.println("MEASURING");
        System.out.flush();
        Histogram healthy = new Histogram(3);
        long[] result = logFor(side, bootstrap, topic, RUN_NANOS, healthy);
        System.out.printf(Locale.ROOT, "RESULT logged=%d reported=%d p50=%d p99=%d p999=%d longest=%d%n", result[0], result[1],
                healthy.getValueAtPercentile(50), healthy.getValueAtPercentile(99), healthy.getValueAtPercentile(99.9), result[2]);
        System.exit(0); // logback-kafka-appender's producer threads may outlive its stop
    }

    /** @return events logged, drops reported, longest call in ns */
    private static long[] logFor(String side, String bootstrap, String topic, long runNanos, Histogram healthy) {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        LogbackSides.Side appender = LogbackSides.create(side, context, topic, BenchCluster.producerConfig(bootstrap));
        Logger log = context.getLogger("loss");
        log.setAdditive(false);
        log.setLevel(Level.INFO);
        log.addAppender(appender.top());
        long longest = 0;
        long n = 0;
        long start = System.nanoTime();
        long now;
        while ((now = System.nanoTime()) - start < runNanos) {
            log.info("event {} {}", n, PAD);
            long took = System.nanoTime() - now;
            longest = Math.max(longest, took);
            if (healthy != null && now - start < KILL_AT_NANOS) {
                healthy.recordValue(took);
            }
            if ((++n % 20) == 0) {
                LockSupport.parkNanos(1_000_000); // about 20,000 events a second
            }
        }
        appender.top().stop(); // the appender's own flush at stop: ours waits up to 30 s, theirs as they do
        context.stop();
        return new long[] {n, appender.reportedDrops(), longest};
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** @return distinct events in the topic, and duplicates */
    private static long[] readBack(String bootstrap, String topic, BitSet seen) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        long distinct = 0;
        long duplicates = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(60))) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(60));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!reached(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " back to " + end);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    String v = new String(r.value(), StandardCharsets.UTF_8);
                    int seq = Integer.parseInt(v.substring("event ".length(), v.indexOf(' ', "event ".length())));
                    if (seen.get(seq)) {
                        duplicates++;
                    } else {
                        seen.set(seq);
                        distinct++;
                    }
                }
            }
        }
        return new long[] {distinct, duplicates};
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
