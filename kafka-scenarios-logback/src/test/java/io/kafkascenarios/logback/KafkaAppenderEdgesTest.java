package io.kafkascenarios.logback;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EchoEncoder;
import ch.qos.logback.core.read.ListAppender;

/**
 * The appender at its edges, each case one that failed before (found by an adversarial review): a
 * nested append to another Kafka appender, truncation on the general path, failures after stop, an
 * event refused by the closing ring, a slow argument's toString(), and stop's deadline with a
 * fallback that blocks.
 */
class KafkaAppenderEdgesTest {
    private final LoggerContext context = new LoggerContext();
    private final List<KafkaAppender> appenders = new java.util.ArrayList<>();

    KafkaAppenderEdgesTest() {
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    }

    @AfterEach
    void tearDown() {
        for (KafkaAppender a : appenders) {
            a.stop();
        }
        context.stop();
    }

    private KafkaAppender appender(String name, String topic, String pattern, MockProducer<byte[], byte[]> mock) {
        KafkaAppender a = new KafkaAppender();
        a.setContext(context);
        a.setName(name);
        a.setTopic(topic);
        a.setBootstrapServers("localhost:1");
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(pattern);
        encoder.start();
        a.setEncoder(encoder);
        a.producerFactory = () -> mock;
        appenders.add(a);
        return a;
    }

    private static MockProducer<byte[], byte[]> mock() {
        return new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private Logger logger(String name, KafkaAppender a) {
        Logger l = context.getLogger(name);
        l.setAdditive(false);
        l.setLevel(Level.DEBUG);
        l.addAppender(a);
        return l;
    }

    /**
     * Promise 4. TEXT and CURRENT are static: shared by every KafkaAppender instance. An argument whose
     * toString() logs (to a logger routed to a second KafkaAppender) runs the second appender's append
     * nested inside the first's converters, on the same thread. The inner append resets the shared
     * StringBuilder (so the outer record carries the inner record's text) and sets CURRENT to null (so
     * the outer record loses its MDC headers).
     */
    @Test
    void aNestedAppendToAnotherKafkaAppenderLeavesTheOuterRecordIntact() {
        MockProducer<byte[], byte[]> appKafka = mock();
        MockProducer<byte[], byte[]> auditKafka = mock();
        KafkaAppender app = appender("app", "app-logs", "%level %msg", appKafka);
        app.setMdcHeaders("traceId");
        app.start();
        KafkaAppender audit = appender("audit", "audit-logs", "%level %msg", auditKafka);
        audit.setMdcHeaders("traceId");
        audit.start();
        Logger appLog = logger("com.shop.Orders", app);
        Logger auditLog = logger("audit", audit);
        Object order = new Object() {
            @Override
            public String toString() {
                auditLog.info("order read");
                return "order-42";
            }
        };
        context.getMDCAdapter().put("traceId", "t-1");
        try {
            appLog.info("paid {}", order);
        } finally {
            context.getMDCAdapter().clear();
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> appKafka.history().size() == 1 && auditKafka.history().size() == 1);
        ProducerRecord<byte[], byte[]> r = appKafka.history().get(0);
        assertThat(new String(auditKafka.history().get(0).value(), UTF_8)).isEqualTo("INFO order read");
        org.assertj.core.api.SoftAssertions soft = new org.assertj.core.api.SoftAssertions();
        soft.assertThat(new String(r.value(), UTF_8)).as("outer record's text").isEqualTo("INFO paid order-42");
        soft.assertThat(r.headers().lastHeader("traceId")).as("outer record's MDC header").isNotNull();
        soft.assertAll();
    }

    /**
     * Promise 6. On the general (non-pattern) encoder path, truncation copies the first room bytes:
     * it splits a multi-byte UTF-8 character, and the record's value is not valid UTF-8.
     */
    @Test
    void truncationOnTheGeneralPathNeverSplitsAMultiByteCharacter() throws Exception {
        MockProducer<byte[], byte[]> kafka = mock();
        KafkaAppender a = appender("echo", "logs", "%msg", kafka);
        EchoEncoder<ILoggingEvent> echo = new EchoEncoder<>();
        echo.setContext(context);
        echo.start();
        a.setEncoder(echo);
        a.setSlotCapacity(64);
        a.start();
        logger("big", a).info("é".repeat(100)); // "[INFO] " (7 bytes) + 2-byte chars: 64 cuts inside one
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> kafka.history().size() == 1);
        byte[] value = kafka.history().get(0).value();
        assertThat(a.getTruncated()).isEqualTo(1);
        // a strict decoder refuses a split character
        UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(value));
    }

    /**
     * An event whose logging thread was inside the pattern's converters (a slow toString()) when
     * stop() ran: once counted nowhere (its slot, claimed before the converters ran, was failed after
     * the fallback thread had ended). Now the converters run before a slot is claimed, the closed ring
     * refuses the event, and it is counted; a failure reported after stop is counted as dropped, never
     * left in a queue nobody drains.
     */
    @Test
    void aFailureReportedAfterStopIsCountedNotStrandedInTheFallbackQueue() throws Exception {
        KafkaAppender a = appender("kafka", "logs", "%msg", mock());
        a.setShutdownTimeout(300);
        ListAppender<ILoggingEvent> file = new ListAppender<>();
        file.setContext(context);
        file.start();
        a.addAppender(file);
        a.start();
        Logger l = logger("app", a);
        CountDownLatch inToString = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Object slow = new Object() {
            @Override
            public String toString() {
                inToString.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "slow";
            }
        };
        Thread t = new Thread(() -> l.info("entity {}", slow));
        t.start();
        assertThat(inToString.await(5, TimeUnit.SECONDS)).isTrue();
        a.stop(); // close gives up on the claimed slot after 300 ms; the fallback thread ends
        release.countDown();
        t.join();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> a.getRefusedAtStop() + a.getStats().failed() == 1);
        Thread.sleep(2_500); // the reporter's last report (interval 1 s)
        assertThat(a.getRefusedAtStop() + file.list.size() + a.getFallbackDropped())
                .as("the event refused and counted, given to the fallback, or counted as dropped (fallbackDelivered=%d)",
                        a.getFallbackDelivered())
                .isEqualTo(1);
    }

    /**
     * Promise 2. With onFull=block, a logging thread waiting for space when stop() closes the ring
     * gets an IllegalStateException from the ring ("refused, not counted"); append swallows it: the
     * event is neither offered, nor counted anywhere, nor given to the fallback.
     */
    @Test
    void anEventRefusedByTheClosingRingIsCounted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        MockProducer<byte[], byte[]> stuck = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public synchronized java.util.concurrent.Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.send(record, callback);
            }
        };
        KafkaAppender a = appender("kafka", "logs", "%msg", stuck);
        a.setRingSize(2);
        a.setOnFull("block");
        a.setBlockTimeout(10_000);
        a.setShutdownTimeout(300);
        a.start();
        Logger l = logger("app", a);
        l.info("e0"); // taken by the flusher, stuck in send
        l.info("e1");
        l.info("e2"); // ring of 2 full
        Thread waiter = new Thread(() -> l.info("e3 waits for space"));
        waiter.start();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> a.getStats().blockedCalls() >= 1);
        a.stop();
        waiter.join(5_000);
        release.countDown();
        Thread.sleep(500);
        int appended = 4;
        long accounted = a.getStats().offered() + a.getOversizeDropped() + a.getExcluded() + a.getRefusedAtStop();
        assertThat(accounted).as("events appended vs accounted: stats %s", a.getStats()).isEqualTo(appended);
    }

    /**
     * Promises 1/3. The pattern's converters (and so the arguments' toString()) run while the
     * logging thread holds a claimed ring slot. One slow toString() on one thread stalls the flusher
     * at that slot: every other thread's events are discarded once the ring fills, with a healthy
     * Kafka (and with onFull=block, they block: a lock held across such a toString() deadlocks until
     * blockTimeout).
     */
    @Test
    void aSlowToStringHoldsNoSlotSoOtherThreadsGoOn() throws Exception {
        MockProducer<byte[], byte[]> kafka = mock();
        KafkaAppender a = appender("kafka", "logs", "%msg", kafka);
        a.setRingSize(8);
        a.start();
        Logger l = logger("app", a);
        CountDownLatch inToString = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Object slow = new Object() {
            @Override
            public String toString() {
                inToString.countDown();
                try {
                    release.await(); // e.g. a lazily loaded entity, a slow DB call
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "slow";
            }
        };
        Thread t = new Thread(() -> l.info("entity {}", slow));
        t.start();
        assertThat(inToString.await(5, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 20; i++) {
            l.info("fast {}", i);
            Thread.sleep(5);
        }
        long discarded = a.getStats().discarded();
        release.countDown();
        t.join();
        assertThat(discarded).as("events of other threads discarded while Kafka was healthy").isZero();
    }

    /**
     * Promise 5. stop() waits shutdownTimeout for close, then shutdownTimeout again for the fallback
     * thread: with a broker down and a fallback appender that blocks, it takes twice the timeout.
     */
    @Test
    void stopKeepsToItsShutdownTimeoutWithABlockingFallback() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        MockProducer<byte[], byte[]> stuck = new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public synchronized java.util.concurrent.Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.send(record, callback);
            }
        };
        KafkaAppender a = appender("kafka", "logs", "%msg", stuck);
        a.setRingSize(2);
        a.setShutdownTimeout(1_000);
        CountDownLatch inFallback = new CountDownLatch(1);
        ch.qos.logback.core.AppenderBase<ILoggingEvent> blocking = new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                inFallback.countDown();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < end) { // a socket write to a dead host: ignores interrupts
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException ignored) {
                        // like much I/O code
                    }
                }
            }
        };
        blocking.setContext(context);
        blocking.start();
        a.addAppender(blocking);
        a.start();
        Logger l = logger("app", a);
        for (int i = 0; i < 6; i++) {
            l.info("e" + i); // the ring fills: the rest go to the fallback
        }
        assertThat(inFallback.await(5, TimeUnit.SECONDS)).isTrue();
        long start = System.nanoTime();
        a.stop();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        release.countDown();
        assertThat(ms).as("stop() with shutdownTimeout=1000").isLessThan(1_500);
    }
}
