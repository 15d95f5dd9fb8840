package io.kafkascenarios.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
        appender = new KafkaAppender();
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
}
