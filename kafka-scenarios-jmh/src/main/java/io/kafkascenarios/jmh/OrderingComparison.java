package io.kafkascenarios.jmh;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.kafkascenarios.testkit.ExternalKafkaCluster;
import io.kafkascenarios.testkit.KafkaCluster;

/**
 * The suite's comparison with Confluent's Parallel Consumer (PC) 0.5.3.3, by ordering: the same input
 * topic, the same work per record, the same client settings and the same broker, each run in a fresh
 * JVM. This library runs on the suite's class path ({@link OrderingRun}); PC runs on its own class
 * path with the kafka-clients it declares, 3.9.1 ({@code kafka-scenarios-jmh/parallel-consumer}),
 * because PC 0.5.3.3 fails on kafka-clients 4.4 ({@code CloseableIterator} moved). Wall time from
 * start to the last output acknowledged; after each run the suite checks, with an Admin client, that
 * the run's group committed the end of the input and that the output topic holds at least every
 * record (duplicates are counted).
 *
 * <ul>
 *   <li><b>PC's own scenario</b> (its README's benchmark): one partition, 10,000 records keyed
 *       k0..k999, a seeded pseudo-random 0-5 ms sleep per record (the same per offset on both sides),
 *       {@value #IO_CONCURRENCY} calls at once.</li>
 *   <li><b>CPU-bound</b>: six partitions, 300,000 records of 100 bytes keyed k0..k999, identity,
 *       {@value #CPU_CONCURRENCY} calls at once.</li>
 * </ul>
 *
 * <p>Thread: the suite's main thread.
 */
final class OrderingComparison {
    static final int IO_CONCURRENCY = 100;
    static final int CPU_CONCURRENCY = 16;
    private static final int IO_RECORDS = 10_000;
    private static final int CPU_RECORDS = 300_000;
    private static final int KEYS = 1000;
    /** Each runner gives up after this long (both print how far they got). */
    static final int RUN_SECONDS = 180;
    private static final Duration RUN_LIMIT = Duration.ofSeconds(RUN_SECONDS + 60);
    private static final String[] MODES = {"PARTITION", "KEY", "UNORDERED"};

    private final String bootstrap;
    private final List<String> pcClassPath;

    private OrderingComparison(String bootstrap, List<String> pcClassPath) {
        this.bootstrap = bootstrap;
        this.pcClassPath = pcClassPath;
    }

    /**
     * Runs both scenarios in every mode on both sides and returns the table.
     *
     * @param bootstrap the broker
     * @param out where the table is written ({@code ordering.md})
     * @return the table, markdown
     * @throws IOException if the PC class path is missing (build it with {@code mvn package})
     */
    static String run(String bootstrap, Path out) throws IOException {
        Path module = Paths.get("kafka-scenarios-jmh", "parallel-consumer", "target");
        Path cpFile = module.resolve("classpath.txt");
        if (!Files.exists(cpFile)) {
            throw new IOException(cpFile + " is missing: build with ./bench (mvn package -pl kafka-scenarios-jmh/parallel-consumer)");
        }
        List<String> pcCp = new ArrayList<>();
        pcCp.add(module.resolve("classes").toAbsolutePath().toString());
        pcCp.add(Files.readString(cpFile).trim());
        OrderingComparison c = new OrderingComparison(bootstrap, pcCp);
        StringBuilder table = new StringBuilder();
        table.append("| scenario | ordering | kafka-scenarios: wall (after its first ack) | Parallel Consumer 0.5.3.3 "
                + "(kafka-clients 3.9.1, own JVM): wall (after its first ack) | PC / ours, wall |\n");
        table.append("|---|---|---:|---:|---:|\n");
        String ioIn = "ordering-io-" + System.nanoTime();
        String cpuIn = "ordering-cpu-" + System.nanoTime();
        try (KafkaCluster cluster = ExternalKafkaCluster.connect(bootstrap)) {
            c.fill(cluster, ioIn, 1, IO_RECORDS, 20);
            c.fill(cluster, cpuIn, 6, CPU_RECORDS, 100);
            long sleepTotal = 0;
            for (long o = 0; o < IO_RECORDS; o++) {
                sleepTotal += OrderingRun.workMillis(o);
            }
            String io = String.format(Locale.ROOT, "PC's: 1 partition, %,d records, %,d keys, 0-5 ms sleep each (%.1f s in all), %d at once",
                    IO_RECORDS, KEYS, sleepTotal / 1000.0, IO_CONCURRENCY);
            String cpu = String.format(Locale.ROOT, "CPU-bound: 6 partitions, %,d records of 100 B, identity, %d at once",
                    CPU_RECORDS, CPU_CONCURRENCY);
            for (String mode : MODES) {
                c.row(table, cluster, io, ioIn, 1, IO_RECORDS, mode, IO_CONCURRENCY, "sleep", sleepTotal);
            }
            for (String mode : MODES) {
                c.row(table, cluster, cpu, cpuIn, 6, CPU_RECORDS, mode, CPU_CONCURRENCY, "identity", 0);
            }
        }
        Files.writeString(out.resolve("ordering.md"), table.toString());
        return table.toString();
    }

    private void row(StringBuilder table, KafkaCluster cluster, String scenario, String in, int partitions, int records,
                     String mode, int concurrency, String work, long sleepTotal) {
        Result ours = side("kafka-scenarios", cluster, in, partitions, records, mode, concurrency, work, sleepTotal);
        Result pc = side("parallel-consumer", cluster, in, partitions, records, mode, concurrency, work, sleepTotal);
        String ratio = "n/a";
        if (ours.ok() && !ours.unfinished() && (pc.ok() || pc.unfinished())) {
            ratio = String.format(Locale.ROOT, "%s%.2fx", pc.unfinished() ? "> " : "", pc.millis / (double) ours.millis);
        }
        table.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", scenario, mode, ours, pc, ratio));
    }

    /**
     * What one side did in one run: wall time and the part after its first acknowledgement (which
     * leaves out starting up and joining the group), or, for a run that hit its time limit, how far it
     * got (its time is then a lower bound), or why it has none.
     */
    private record Result(long millis, long firstMillis, long duplicates, long done, long of, String failure) {
        static Result failed(String why) {
            return new Result(0, 0, 0, 0, 0, why);
        }

        boolean ok() {
            return failure == null;
        }

        boolean unfinished() {
            return !ok() && done > 0;
        }

        @Override
        public String toString() {
            if (unfinished()) {
                return String.format(Locale.ROOT, "> %.0f s (%,d of %,d done by then)", millis / 1000.0, done, of);
            }
            if (!ok()) {
                return "failed: " + failure;
            }
            return String.format(Locale.ROOT, "%.2f s (%.2f s)", millis / 1000.0, (millis - firstMillis) / 1000.0)
                    + (duplicates > 0 ? ", " + duplicates + " duplicates" : "");
        }
    }

    private Result side(String side, KafkaCluster cluster, String in, int partitions, int records, String mode,
                        int concurrency, String work, long sleepTotal) {
        String out = in + "-" + side + "-" + mode.toLowerCase(Locale.ROOT);
        String group = out + "-group";
        cluster.createTopic(out, partitions, BenchCluster.TOPIC_CONFIG);
        boolean pc = side.equals("parallel-consumer");
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(BenchmarkSuite.FORK_JVM_ARGS));
        cmd.add("-cp");
        cmd.add(pc ? String.join(java.io.File.pathSeparator, pcClassPath) : System.getProperty("java.class.path"));
        cmd.add(pc ? "io.kafkascenarios.jmh.pc.PcRun" : OrderingRun.class.getName());
        cmd.addAll(List.of(bootstrap, in, out, group, mode, Integer.toString(concurrency), Integer.toString(records), work));
        BenchmarkSuite.progress("ordering: " + side + " " + mode + " on " + in);
        String result = null;
        List<String> tail = new ArrayList<>();
        try {
            Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("RESULT ") || line.startsWith("FAILED ")) {
                        result = line;
                    }
                    tail.add(line);
                    if (tail.size() > 20) {
                        tail.remove(0);
                    }
                }
            }
            if (!process.waitFor(RUN_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return Result.failed("no result in " + RUN_LIMIT);
            }
        } catch (IOException e) {
            return Result.failed(e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.failed("interrupted");
        }
        if (result != null && result.startsWith("FAILED processed=") && result.contains(" in " + RUN_SECONDS / 60 + " minutes")) {
            // Hit the runner's time limit: report how far it got, a lower bound on its time.
            long done = Long.parseLong(result.substring("FAILED processed=".length(), result.indexOf(' ', "FAILED processed=".length())));
            return new Result(TimeUnit.SECONDS.toMillis(RUN_SECONDS), 0, 0, done, records, "time limit");
        }
        if (result == null || !result.startsWith("RESULT ")) {
            System.out.println(String.join("\n", tail));
            return Result.failed(result == null ? "no result (output above)" : result);
        }
        Map<String, Long> fields = new HashMap<>();
        for (String kv : result.substring("RESULT ".length()).split(" ")) {
            fields.put(kv.substring(0, kv.indexOf('=')), Long.parseLong(kv.substring(kv.indexOf('=') + 1)));
        }
        if (fields.get("workMillis") < sleepTotal) {
            return Result.failed("slept " + fields.get("workMillis") + " ms of the " + sleepTotal + " planned");
        }
        String check = checkCommittedAndProduced(in, out, group, partitions, records);
        if (check.startsWith("!")) {
            return Result.failed(check.substring(1));
        }
        long produced = Long.parseLong(check);
        return new Result(fields.get("millis"), fields.get("firstMillis"), produced - records, records, records, null);
    }

    /** @return the outputs produced, or "!" and what is wrong */
    private String checkCommittedAndProduced(String in, String out, String group, int partitions, int records) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Map<TopicPartition, Long> end = endOffsets(admin, in, partitions);
            Map<TopicPartition, Long> committed = new HashMap<>();
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS).entrySet()) {
                committed.put(e.getKey(), e.getValue() == null ? null : e.getValue().offset());
            }
            if (!committed.equals(end)) {
                return "!committed " + committed + ", the input ends at " + end;
            }
            long produced = 0;
            for (long o : endOffsets(admin, out, partitions).values()) {
                produced += o;
            }
            if (produced < records) {
                return "!produced " + produced + " outputs for " + records + " inputs";
            }
            return Long.toString(produced);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "!interrupted";
        } catch (ExecutionException | TimeoutException e) {
            return "!cannot check: " + e;
        }
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic, int partitions)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            request.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
        return end;
    }

    private void fill(KafkaCluster cluster, String topic, int partitions, int records, int valueBytes) {
        cluster.createTopic(topic, partitions, BenchCluster.TOPIC_CONFIG);
        byte[] value = new byte[valueBytes];
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(BenchCluster.producerConfig(bootstrap),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                p.send(new ProducerRecord<>(topic, ("k" + i % KEYS).getBytes(StandardCharsets.US_ASCII), value));
            }
            p.flush();
        }
    }
}
