package io.kafkascenarios.jmh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import io.kafkascenarios.testkit.EmbeddedKafkaBroker;
import io.kafkascenarios.testkit.ExternalKafkaCluster;
import io.kafkascenarios.testkit.KafkaCluster;

/**
 * The benchmark suite: starts one broker in a child JVM (or uses {@code --bootstrap}), runs every
 * side-by-side benchmark in JMH forks that do not host the broker, writes JMH's JSON under
 * {@code target/benchmarks/} and prints the comparison table made from that JSON.
 *
 * <pre>
 * usage: ./bench [--full] [--bootstrap host:port] [--out dir] [--table] [--ordering-only | --no-ordering] [--logback-loss-only]
 *   (default)     quick: 2 warm-up and 3 measured iterations per benchmark, about 6½ minutes on 2 cores,
 *                 then the ordering comparison with Parallel Consumer (about 10 minutes)
 *   --full        5 warm-up and 10 measured iterations, two forks per benchmark (about 25 minutes)
 *   --bootstrap   run against an existing cluster instead of starting a broker
 *   --out         where JSON and the table go (default kafka-scenarios-jmh/target/benchmarks)
 *   --table       run nothing: print the table of the JSON results already in --out
 *   --ordering-only   only the ordering comparison with Parallel Consumer ({@link OrderingComparison})
 *   --no-ordering     skip it
 *   --logback-loss-only   only the Logback appenders' loss run across a broker kill ({@link LogbackLossRun},
 *                 about 2 minutes; it runs after the JMH steps otherwise, on a broker of its own, not with --bootstrap)
 * </pre>
 *
 * Runs on the main thread; JMH forks a JVM per benchmark.
 */
public final class BenchmarkSuite {
    /** Same heap and collector for both sides of every comparison; see docs/benchmarks.md. */
    static final String[] FORK_JVM_ARGS = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC",
            // Logback is on the class path for its benchmark; SLF4J stays on Log4j 2 everywhere.
            "-Dslf4j.provider=org.apache.logging.slf4j.SLF4JServiceProvider"};

    private BenchmarkSuite() {
    }

    /**
     * @param args see the class documentation
     * @throws Exception when JMH fails in a way that is not a benchmark's own failure
     */
    public static void main(String[] args) throws Exception {
        boolean full = false;
        boolean tableOnly = false;
        boolean ordering = true;
        boolean jmh = true;
        boolean lossOnly = false;
        String bootstrap = null;
        Path out = Paths.get("kafka-scenarios-jmh", "target", "benchmarks");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--full":
                    full = true;
                    break;
                case "--bootstrap":
                    bootstrap = requireValue(args, ++i, "--bootstrap");
                    break;
                case "--out":
                    out = Paths.get(requireValue(args, ++i, "--out"));
                    break;
                case "--table":
                    tableOnly = true;
                    break;
                case "--ordering-only":
                    jmh = false;
                    break;
                case "--no-ordering":
                    ordering = false;
                    break;
                case "--logback-loss-only":
                    lossOnly = true;
                    break;
                default:
                    System.err.println("unknown argument: " + args[i]
                            + "\nusage: ./bench [--full] [--bootstrap host:port] [--out dir] [--table] [--ordering-only | --no-ordering]"
                            + " [--logback-loss-only]");
                    System.exit(2);
            }
        }
        Files.createDirectories(out);
        if (tableOnly) {
            List<Path> existing = new ArrayList<>();
            for (Scenario step : Scenario.RUN_ORDER) {
                existing.add(out.resolve(step.step + ".json"));
            }
            System.out.println(ResultTable.fromJson(existing).toMarkdown());
            return;
        }
        if (lossOnly) {
            logbackLoss(out);
            return;
        }
        EmbeddedKafkaBroker broker = null;
        if (bootstrap == null) {
            broker = startBroker();
            bootstrap = broker.bootstrapServers();
        }
        try {
            if (jmh) {
                List<Path> results = run(full, bootstrap, out);
                ResultTable table = ResultTable.fromJson(results);
                String markdown = table.toMarkdown();
                Files.writeString(out.resolve("table.md"), markdown);
                System.out.println();
                System.out.println("kafka-scenarios vs raw kafka-clients (" + (full ? "full" : "quick") + " mode, broker "
                        + (broker == null ? bootstrap : "embedded, child JVM") + ")");
                System.out.println(markdown);
                System.out.println("JSON: " + out.toAbsolutePath() + "   table: " + out.resolve("table.md").toAbsolutePath());
            }
            if (jmh) {
                if (broker == null) {
                    progress("logback loss run skipped: it kills its broker, and --bootstrap names one it must not kill");
                } else {
                    logbackLoss(out);
                }
            }
            if (ordering) {
                if (!jmh) {
                    warmUpBroker(bootstrap);
                }
                progress("ordering comparison with Parallel Consumer (each side in a fresh JVM)");
                String markdown = OrderingComparison.run(bootstrap, out);
                System.out.println();
                System.out.println("kafka-scenarios vs Parallel Consumer by ordering, wall time to the last output acknowledged");
                System.out.println(markdown);
                System.out.println("table: " + out.resolve("ordering.md").toAbsolutePath());
            }
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
    }

    private static void logbackLoss(Path out) throws Exception {
        String markdown = LogbackLossRun.run(out);
        System.out.println();
        System.out.println("Logback appenders across a 15 s broker outage (SIGKILL), one thread at about 20,000 events/s");
        System.out.println(markdown);
        System.out.println("table: " + out.resolve("logback-loss.md").toAbsolutePath());
    }

    private static String requireValue(String[] args, int i, String flag) {
        if (i >= args.length) {
            System.err.println(flag + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    private static EmbeddedKafkaBroker startBroker() {
        progress("starting a Kafka broker in a child JVM");
        Path tmp = Paths.get(System.getProperty("java.io.tmpdir"));
        long freeBytes = tmp.toFile().getUsableSpace();
        if (freeBytes < 2L * 1024 * 1024 * 1024) {
            fail(String.format(Locale.ROOT, "only %.1f GiB free in %s; the benchmarks write up to ~2 GiB of Kafka logs."
                    + " Free some space, or point java.io.tmpdir elsewhere, or use --bootstrap host:port",
                    freeBytes / (1024.0 * 1024 * 1024), tmp));
        }
        try {
            EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.childJvm()
                    .brokerProperty("log.retention.check.interval.ms", "5000")
                    .start();
            progress("broker ready at " + broker.bootstrapServers());
            return broker;
        } catch (RuntimeException e) {
            fail("could not start the embedded Kafka broker: " + firstLine(e)
                    + "\n  Check free disk space and that loopback ports can be bound, or run against a cluster:"
                    + " ./bench --bootstrap host:port");
            throw e;
        }
    }

    private static List<Path> run(boolean full, String bootstrap, Path out) throws RunnerException {
        String[] jvmArgs = new String[FORK_JVM_ARGS.length + 1];
        System.arraycopy(FORK_JVM_ARGS, 0, jvmArgs, 0, FORK_JVM_ARGS.length);
        jvmArgs[FORK_JVM_ARGS.length] = "-Dkafka.bootstrap=" + bootstrap;

        List<Scenario> steps = Scenario.RUN_ORDER;
        warmUpBroker(bootstrap);
        List<Path> results = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Scenario step = steps.get(i);
            progress(String.format(Locale.ROOT, "step %d/%d: %s", i + 1, steps.size(), step.step));
            Path json = out.resolve(step.step + ".json");
            ChainedOptionsBuilder options = new OptionsBuilder()
                    .include(step.include())
                    .jvmArgsAppend(jvmArgs)
                    .resultFormat(ResultFormatType.JSON)
                    .result(json.toString())
                    .shouldFailOnError(true);
            if (step.gcProfile) {
                options.addProfiler(GCProfiler.class);
            }
            if (step.scalable) {
                if (full) {
                    options.forks(2).warmupIterations(5).measurementIterations(10)
                            .warmupTime(TimeValue.seconds(2)).measurementTime(TimeValue.seconds(3));
                } else {
                    // Quick: iteration times as annotated, fewer of them (the whole suite in about 6½ minutes).
                    options.warmupIterations(2).measurementIterations(3);
                }
            }
            new Runner(options.build()).run();
            results.add(json);
        }
        return results;
    }

    /**
     * A fresh broker is slow until its own JIT has warmed up; without this the first benchmark (always
     * a raw one: JMH runs methods alphabetically) would pay for it.
     */
    private static void warmUpBroker(String bootstrap) {
        progress("warming up the broker (20 s)");
        String topic = "bench-warm-up-" + System.nanoTime();
        try (KafkaCluster cluster = ExternalKafkaCluster.connect(bootstrap);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(BenchCluster.producerConfig(bootstrap),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            cluster.createTopic(topic, 3, BenchCluster.TOPIC_CONFIG);
            byte[] value = new byte[100];
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < end) {
                producer.send(new ProducerRecord<>(topic, value));
            }
            producer.flush();
        }
    }

    static void progress(String message) {
        System.out.println("[bench] " + message);
    }

    private static void fail(String message) {
        System.err.println("[bench] " + message);
        System.exit(1);
    }

    private static String firstLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = text.indexOf('\n');
        String head = nl < 0 ? text : text.substring(0, nl);
        return root == e ? head : head + " (cause: " + root + ")";
    }
}
