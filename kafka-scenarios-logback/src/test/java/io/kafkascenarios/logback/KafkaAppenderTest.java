package io.kafkascenarios.logback;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.encoder.EchoEncoder;
import ch.qos.logback.core.status.Status;

/**
 * The appender over a MockProducer: what reaches Kafka (pattern, key, headers, timestamp), what never
 * does (excluded loggers), oversized events, the XML names, the general encoder path, and that the
 * pattern path allocates nothing per event.
 */
class KafkaAppenderTest {
    private final LoggerContext context = new LoggerContext();
    private MockProducer<byte[], byte[]> kafka;
    private KafkaAppender appender;

    KafkaAppenderTest() {
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    }

    @AfterEach
    void tearDown() {
        if (appender != null) {
            appender.stop();
        }
        context.stop();
    }

    private KafkaAppender appender(String pattern) {
        KafkaAppender a = new KafkaAppender();
        a.setContext(context);
        a.setName("kafka");
        a.setTopic("logs");
        a.setBootstrapServers("localhost:1");
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(pattern);
        encoder.start();
        a.setEncoder(encoder);
        MockProducer<byte[], byte[]> mock = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        kafka = mock;
        a.producerFactory = () -> mock;
        return a;
    }

    private Logger logger(String name) {
        Logger l = context.getLogger(name);
        l.setAdditive(false);
        l.setLevel(Level.DEBUG);
        l.addAppender(appender);
        return l;
    }

    private List<ProducerRecord<byte[], byte[]>> sent(int n) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> kafka.history().size() >= n);
        return kafka.history();
    }

    @Test
    void anEventArrivesAsItsPatternKeyedByItsLoggerWithItsMdcAndTime() {
        appender = appender("%level %logger %msg");
        appender.setKeyingStrategy("logger_name");
        appender.setMdcHeaders("traceId, userId");
        appender.start();
        Logger orders = logger("com.shop.Orders");
        context.getMDCAdapter().put("traceId", "4bf92f3577b34da6");
        try {
            orders.info("order {} paid", 42);
        } finally {
            context.getMDCAdapter().clear();
        }
        ProducerRecord<byte[], byte[]> r = sent(1).get(0);
        assertThat(r.topic()).isEqualTo("logs");
        assertThat(new String(r.value(), UTF_8)).isEqualTo("INFO com.shop.Orders order 42 paid");
        assertThat(new String(r.key(), UTF_8)).isEqualTo("com.shop.Orders");
        assertThat(new String(r.headers().lastHeader("traceId").value(), UTF_8)).isEqualTo("4bf92f3577b34da6");
        assertThat(r.headers().lastHeader("userId")).as("absent from the MDC: no header").isNull();
        assertThat(r.timestamp()).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
    }

    @Test
    void kafkasOwnLoggersAndThoseExcludedNeverReachKafka() throws Exception {
        appender = appender("%msg");
        appender.setExcludedLoggers("org.apache.kafka,io.kafkascenarios,com.noisy");
        appender.start();
        logger("org.apache.kafka.clients.NetworkClient").warn("broker down");
        logger("io.kafkascenarios.internal.Flusher").warn("flusher");
        logger("com.noisy.Thing").info("noise");
        logger("com.noisyneighbour").info("kept: a prefix counts only up to a dot");
        sent(1);
        Thread.sleep(100);
        assertThat(kafka.history()).extracting(r -> new String(r.value(), UTF_8))
                .containsExactly("kept: a prefix counts only up to a dot");
        assertThat(appender.getExcluded()).isEqualTo(3);
    }

    @Test
    void anOversizedEventIsTruncatedToItsSlotOrDroppedAndCounted() {
        appender = appender("%msg");
        appender.setSlotCapacity(64);
        appender.start();
        Logger l = logger("big");
        l.info("é".repeat(100)); // 200 bytes
        ProducerRecord<byte[], byte[]> r = sent(1).get(0);
        assertThat(r.value().length).isLessThanOrEqualTo(64);
        assertThat(new String(r.value(), UTF_8)).isEqualTo("é".repeat(32)); // whole characters only
        assertThat(appender.getTruncated()).isEqualTo(1);
        appender.stop();

        appender = appender("%msg");
        appender.setSlotCapacity(64);
        appender.setOversize("drop");
        appender.start();
        Logger d = logger("big2");
        d.info("x".repeat(100));
        d.info("fits");
        assertThat(sent(1).get(0).value()).isEqualTo("fits".getBytes(UTF_8));
        assertThat(appender.getOversizeDropped()).isEqualTo(1);
        assertThat(appender.getStats().offered()).as("a dropped event is never offered").isEqualTo(1);
    }

    @Test
    void anyEncoderWorksThroughTheGeneralPath() {
        appender = appender("%msg");
        EchoEncoder<ch.qos.logback.classic.spi.ILoggingEvent> echo = new EchoEncoder<>();
        echo.setContext(context);
        echo.start();
        appender.setEncoder(echo);
        appender.start();
        logger("echo").info("through encode()");
        assertThat(new String(sent(1).get(0).value(), UTF_8)).contains("through encode()");
    }

    @Test
    void theXmlNamesConfigureItAndStopReportsTheCounts() throws Exception {
        String xml = "<configuration>"
                + "<appender name='KAFKA' class='io.kafkascenarios.logback.KafkaAppender'>"
                + "<topic>logs</topic><bootstrapServers>localhost:1</bootstrapServers>"
                + "<producerConfig>max.block.ms=50</producerConfig><producerConfig>client.id=app-logs</producerConfig>"
                + "<encoder><pattern>%msg</pattern></encoder><keyingStrategy>thread_name</keyingStrategy>"
                + "<appendTimestamp>false</appendTimestamp><mdcHeaders>traceId</mdcHeaders><ringSize>64</ringSize>"
                + "<slotCapacity>512</slotCapacity><oversize>drop</oversize><onFull>discard</onFull>"
                + "<blockTimeout>10</blockTimeout><shutdownTimeout>200</shutdownTimeout>"
                + "<excludedLoggers>org.apache.kafka</excludedLoggers>"
                + "</appender><root level='INFO'><appender-ref ref='KAFKA'/></root></configuration>";
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(new ByteArrayInputStream(xml.replace('\'', '"').getBytes(UTF_8)));
        KafkaAppender configured = (KafkaAppender) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("KAFKA");
        assertThat(configured).isNotNull();
        assertThat(configured.isStarted()).as(statuses()).isTrue();
        context.getLogger("app").info("no broker: never blocks");
        configured.stop();
        assertThat(statuses()).contains("appender 'KAFKA' stopped: 1 events offered")
                .contains("1 still undelivered at the 200 ms deadline");
    }

    @Test
    void thePatternPathAllocatesNothingPerEvent() {
        appender = appender("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n");
        appender.setKeyingStrategy("logger_name");
        appender.setRingSize(4096);
        appender.producerFactory = () -> new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public synchronized java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
                    ProducerRecord<byte[], byte[]> record, org.apache.kafka.clients.producer.Callback callback) {
                callback.onCompletion(null, null); // drops it: no history to grow
                return null;
            }
        };
        appender.start();
        Logger l = logger("com.shop.Orders");
        LoggingEvent event = new LoggingEvent("fqcn", l, Level.INFO, "order {} paid", null, new Object[] {42});
        event.getFormattedMessage(); // Logback's own work, cached in the event: not the appender's
        event.getThreadName();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 200_000; i++) {
            appender.doAppend(event);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        int calls = 1_000_000;
        for (int i = 0; i < calls; i++) {
            appender.doAppend(event);
        }
        long bytes = threads.getCurrentThreadAllocatedBytes() - before;
        // Per event it would be at least 16 MB (16 B x 1M). Under 64 KiB leaves room for one-off work of
        // the JIT in Logback's doAppend and ours (seen: 0 to 1,176 bytes), never for a per-event allocation.
        assertThat(bytes).as("bytes allocated by %d appends", calls).isLessThan(64 * 1024);
    }

    @Test
    void discardedOversizedAndFailedEventsGoToTheFallbackOnItsOwnThread() throws Exception {
        java.util.concurrent.CountDownLatch kafkaStuck = new java.util.concurrent.CountDownLatch(1);
        appender = appender("%msg");
        appender.setRingSize(8);
        appender.setSlotCapacity(64);
        appender.setOversize("fallback");
        MockProducer<byte[], byte[]> stuck = new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public synchronized java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
                    ProducerRecord<byte[], byte[]> record, org.apache.kafka.clients.producer.Callback callback) {
                try {
                    kafkaStuck.await(); // a broker that is down: the flusher waits in send, the ring fills
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.send(record, callback);
            }
        };
        kafka = stuck;
        appender.producerFactory = () -> stuck;
        java.util.List<String> fallbackThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> file = new ch.qos.logback.core.read.ListAppender<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
                fallbackThreads.add(Thread.currentThread().getName());
                super.append(e);
            }
        };
        file.setContext(context);
        file.start();
        appender.addAppender(file);
        appender.start();
        Logger l = logger("app");
        l.info("x".repeat(100)); // too large for 64 bytes: oversize=fallback (first: a full ring would discard it)
        for (int i = 0; i < 20; i++) {
            l.info("event {}", i);
        }
        long discarded = appender.getStats().discarded();
        assertThat(discarded).as("the ring (8) filled").isPositive();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> file.list.size() == discarded + 1);
        assertThat(file.list).extracting(e -> e.getFormattedMessage()).contains("x".repeat(100));
        assertThat(fallbackThreads).containsOnly("logback-kafka-fallback-kafka");
        assertThat(appender.getOversizeDropped()).isZero();

        kafkaStuck.countDown();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> stuck.history().size() == 20 - discarded);
        while (stuck.errorNext(new org.apache.kafka.common.errors.RecordTooLargeException("refused by the broker"))) {
            // Kafka refuses every record in flight: they come back to the fallback, rebuilt from their bytes
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> file.list.size() == 21);
        assertThat(file.list.subList((int) discarded + 1, 21)).allSatisfy(e -> {
            assertThat(e.getLoggerName()).isEqualTo("kafka.undelivered");
            assertThat(e.getFormattedMessage()).startsWith("event ");
        });
        assertThat(appender.getStats().failed()).isEqualTo(20 - discarded);
        assertThat(appender.getFallbackDelivered()).isEqualTo(21);
    }

    private String statuses() {
        StringBuilder b = new StringBuilder();
        for (Status s : context.getStatusManager().getCopyOfStatusList()) {
            b.append(s.getMessage()).append(s.getThrowable() == null ? "" : " " + s.getThrowable()).append('\n');
        }
        return b.toString();
    }
}
