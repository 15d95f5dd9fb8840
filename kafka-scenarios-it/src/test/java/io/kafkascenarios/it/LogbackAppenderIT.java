package io.kafkascenarios.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.logback.KafkaAppender;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/**
 * The Logback appender against a real broker in a child JVM: events arrive intact, keyed, with their
 * MDC headers; an application starts with no broker and its logs flow once the broker appears; a
 * broker SIGKILLed under load never stalls the logging thread, and every event is delivered or
 * counted as dropped, the topic holding exactly the delivered ones.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class LogbackAppenderIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvm();

    private final LoggerContext context = new LoggerContext();
    private KafkaAppender appender;

    LogbackAppenderIT() {
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    }

    private static String bootstrap() {
        return KAFKA.cluster().bootstrapServers();
    }

    @AfterEach
    void tearDown() {
        if (appender != null) {
            appender.stop();
        }
        context.stop();
    }

    private Logger logger(String name, String topic, String keying) {
        return logger(name, topic, keying, "discard");
    }

    private Logger logger(String name, String topic, String keying, String onFull) {
        appender = new KafkaAppender();
        appender.setOnFull(onFull);
        appender.setBlockTimeout(30_000);
        appender.setContext(context);
        appender.setName("kafka");
        appender.setTopic(topic);
        appender.setBootstrapServers(bootstrap());
        appender.setKeyingStrategy(keying);
        appender.setMdcHeaders("traceId");
        appender.setShutdownTimeout(30_000);
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg");
        encoder.start();
        appender.setEncoder(encoder);
        appender.start();
        assertThat(appender.isStarted()).isTrue();
        Logger l = context.getLogger(name);
        l.setLevel(Level.INFO);
        l.addAppender(appender);
        return l;
    }

    @Test
    void eventsArriveIntactKeyedByLoggerWithTheirMdcHeaders() throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("logback-intact");
        KAFKA.cluster().createTopic(topic, 3);
        Logger log = logger("com.shop.Orders", topic, "logger_name");
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int thread = t;
            Thread th = new Thread(() -> {
                for (int i = 0; i < 500; i++) {
                    context.getMDCAdapter().put("traceId", "trace-" + thread + "-" + i);
                    log.info("event {} of thread {} – ünïcödé", i, thread);
                }
                context.getMDCAdapter().clear();
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        appender.stop();
        List<ConsumerRecord<byte[], byte[]>> stored = ReadBack.all(bootstrap(), topic);
        assertThat(stored).hasSize(1000);
        Set<String> seen = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : stored) {
            String v = new String(r.value(), UTF_8);
            assertThat(new String(r.key(), UTF_8)).isEqualTo("com.shop.Orders");
            String[] parts = v.split(" ");
            assertThat(new String(r.headers().lastHeader("traceId").value(), UTF_8))
                    .isEqualTo("trace-" + parts[4] + "-" + parts[1]);
            assertThat(v).endsWith("– ünïcödé");
            seen.add(v);
        }
        assertThat(seen).as("each event once").hasSize(1000);
    }

    @Test
    void anApplicationStartsWithNoBrokerAndItsLogsFlowOnceTheBrokerAppears() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("logback-late");
        KAFKA.cluster().createTopic(topic, 1);
        KAFKA.cluster().kill();
        try {
            Logger log = logger("app", topic, "none"); // start() does not wait for a broker
            for (int i = 0; i < 100; i++) {
                log.info("started without a broker {}", i); // each returns at once (DISCARD, room in the ring)
            }
            assertThat(appender.getStats().delivered()).isZero();
        } finally {
            KAFKA.cluster().restart();
        }
        await().atMost(Duration.ofSeconds(120)).until(() -> appender.getStats().delivered() == 100);
        appender.stop();
        assertThat(ReadBack.all(bootstrap(), topic)).hasSize(100);
    }

    @Test
    void aBrokerKilledUnderLoadNeverStallsTheLoggerAndEveryEventIsAccounted() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("logback-kill");
        KAFKA.cluster().createTopic(topic, 1);
        Logger log = logger("load", topic, "thread_name");
        AtomicLong logged = new AtomicLong();
        AtomicLong slowest = new AtomicLong();
        Thread logging = new Thread(() -> {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
            while (System.nanoTime() < end) {
                long start = System.nanoTime();
                log.info("event {}", logged.get());
                slowest.accumulateAndGet(System.nanoTime() - start, Math::max);
                logged.incrementAndGet();
                if ((logged.get() & 63) == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // about 60 k events/s
                }
            }
        }, "logging-thread");
        logging.start();
        Thread.sleep(2000);
        KAFKA.cluster().kill();
        Thread.sleep(4000);
        KAFKA.cluster().restart();
        logging.join();
        appender.stop(); // waits up to 30 s for what is still on its way
        RingStats s = appender.getStats();
        System.out.printf("LogbackAppenderIT: broker SIGKILLed under load: %d logged, %d delivered, %d discarded, %d failed, "
                + "%d pending, slowest call %.1f ms%n", logged.get(), s.delivered(), s.discarded(), s.failed(), s.pending(),
                slowest.get() / 1e6);
        assertThat(s.offered()).as("every event offered").isEqualTo(logged.get());
        assertThat(s.delivered() + s.discarded() + s.failed()).as("every event accounted for").isEqualTo(logged.get());
        assertThat(s.discarded()).as("the outage filled the ring: drops, counted").isPositive();
        assertThat(ReadBack.all(bootstrap(), topic)).as("the topic holds exactly the delivered events").hasSize((int) s.delivered());
        // A stall would be the outage itself (4 s) or Kafka's max.block.ms (60 s); a call never waits for Kafka.
        assertThat(Duration.ofNanos(slowest.get())).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void stopWithABrokerDeliversEveryEventAndSaysSo() throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("logback-stop");
        KAFKA.cluster().createTopic(topic, 3);
        Logger log = logger("app", topic, "none", "block");
        for (int i = 0; i < 20_000; i++) {
            log.info("event {}", i); // block: a full ring waits for the flusher, nothing is discarded
        }
        appender.stop(); // right away: what is still in the ring or in Kafka's buffers goes first
        RingStats s = appender.getStats();
        assertThat(s.delivered()).as("%s", s).isEqualTo(20_000);
        assertThat(s.discarded() + s.failed() + s.pending()).isZero();
        assertThat(ReadBack.all(bootstrap(), topic)).hasSize(20_000);
        assertThat(statuses()).anySatisfy(m -> assertThat(m).contains("stopped: 20000 events offered, 20000 delivered"));
    }

    @Test
    void stopWithoutABrokerKeepsItsDeadlineAndCountsExactlyWhatWasNotDelivered() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("logback-stop-down");
        KAFKA.cluster().createTopic(topic, 1);
        Logger log = logger("app", topic, "none", "discard");
        appender.setShutdownTimeout(2_000);
        KAFKA.cluster().kill();
        try {
            for (int i = 0; i < 300; i++) {
                log.info("event {} with no broker", i);
            }
            long start = System.nanoTime();
            appender.stop();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            System.out.printf("LogbackAppenderIT: stop() with no broker took %d ms (shutdownTimeout 2000 ms)%n", took.toMillis());
            // Not a timing claim: a stop() that waited for the broker would never return at all.
            assertThat(took).isLessThan(Duration.ofSeconds(30));
        } finally {
            KAFKA.cluster().restart();
        }
        RingStats s = appender.getStats();
        assertThat(s.delivered()).isZero();
        assertThat(s.failed() + s.discarded()).as("%s", s).isEqualTo(300);
        assertThat(statuses()).anySatisfy(m -> assertThat(m).contains("300 events offered, 0 delivered"));
        assertThat(ReadBack.all(bootstrap(), topic)).as("nothing reported undelivered was written after all").isEmpty();
    }

    @Test
    void aPlainJavaApplicationTerminatedBySigtermFlushesThroughTheShutdownHook(@TempDir Path dir) throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("logback-hook");
        KAFKA.cluster().createTopic(topic, 3);
        Path config = dir.resolve("logback.xml");
        Files.writeString(config, """
                <configuration>
                  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
                    <file>%s</file>
                    <encoder><pattern>%%d %%-5level %%logger - %%msg%%n</pattern></encoder>
                  </appender>
                  <appender name="KAFKA" class="io.kafkascenarios.logback.KafkaAppender">
                    <topic>%s</topic>
                    <bootstrapServers>%s</bootstrapServers>
                    <producerConfig>compression.type=lz4</producerConfig>
                    <encoder><pattern>%%d{ISO8601} %%-5level [%%thread] %%logger - %%msg%%n</pattern></encoder>
                    <keyingStrategy>logger_name</keyingStrategy>
                    <mdcHeaders>traceId,userId</mdcHeaders>
                    <onFull>block</onFull>
                    <blockTimeout>30000</blockTimeout>
                    <shutdownHook>true</shutdownHook>
                    <appender-ref ref="FILE"/>
                  </appender>
                  <root level="INFO"><appender-ref ref="KAFKA"/></root>
                </configuration>
                """.formatted(dir.resolve("undelivered.log"), topic, bootstrap()));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", LoggingMain.class.getName(), config.toString(), "20000"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("CLASSPATH", System.getProperty("java.class.path"));
        Process child = pb.start();
        child.getOutputStream().close();
        StringBuilder output = new StringBuilder();
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream(), UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                output.append(line).append('\n');
                if (line.equals("logged 20000")) {
                    child.toHandle().destroy(); // SIGTERM (Process.destroy would close our end of its output), as a container stop sends: the JVM runs its shutdown hooks
                }
            }
        }
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child exits: %s", output).isTrue();
        assertThat(output).contains("logged 20000");
        List<ConsumerRecord<byte[], byte[]>> stored = ReadBack.all(bootstrap(), topic);
        assertThat(stored).as("every event flushed by the hook; child said: %s", output).hasSize(20_000);
        assertThat(new String(stored.get(0).key(), UTF_8)).isEqualTo("app.Main");
        assertThat(dir.resolve("undelivered.log")).satisfies(f -> assertThat(!Files.exists(f) || Files.size(f) == 0).isTrue());
    }

    private List<String> statuses() {
        return context.getStatusManager().getCopyOfStatusList().stream().map(ch.qos.logback.core.status.Status::getMessage).toList();
    }
}
