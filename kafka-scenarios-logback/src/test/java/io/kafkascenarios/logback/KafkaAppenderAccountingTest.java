package io.kafkascenarios.logback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.status.Status;

/**
 * Events Logback's own appender base would drop without a trace, counted here: logged from inside
 * the appender on the same thread, an encoder that throws, appended before start or after stop. And
 * the fallback's caller data, taken on the logging thread when asked for.
 */
class KafkaAppenderAccountingTest {
    private final LoggerContext context = new LoggerContext();
    private final MockProducer<byte[], byte[]> kafka = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private final KafkaAppender appender = new KafkaAppender();

    KafkaAppenderAccountingTest() {
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        appender.setContext(context);
        appender.setName("kafka");
        appender.setTopic("logs");
        appender.setBootstrapServers("localhost:1");
        appender.producerFactory = () -> kafka;
    }

    @AfterEach
    void tearDown() {
        appender.stop();
        context.stop();
    }

    private void pattern(String pattern) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(pattern);
        encoder.start();
        appender.setEncoder(encoder);
    }

    private Logger logger(String name) {
        Logger l = context.getLogger(name);
        l.setAdditive(false);
        l.setLevel(Level.DEBUG);
        l.addAppender(appender);
        return l;
    }

    @Test
    void anEventLoggedFromInsideTheAppenderIsCountedNotLostSilently() {
        pattern("%msg");
        appender.start();
        Logger l = logger("app");
        Object logsInToString = new Object() {
            @Override
            public String toString() {
                l.info("from inside toString"); // this thread is inside the appender: dropped, counted
                return "outer";
            }
        };
        l.info("{}", logsInToString);
        Awaitility.await().until(() -> kafka.history().size() == 1);
        assertThat(new String(kafka.history().get(0).value())).isEqualTo("outer");
        assertThat(appender.getReentrantDropped()).isEqualTo(1);
        l.info("after");
        Awaitility.await().until(() -> kafka.history().size() == 2);
        assertThat(appender.getReentrantDropped()).as("the guard is released after the call").isEqualTo(1);
    }

    @Test
    void anEncoderThatThrowsIsCountedReportedAndTheAppenderGoesOn() {
        appender.setEncoder(new EncoderBase<ILoggingEvent>() {
            @Override
            public byte[] headerBytes() {
                return null;
            }

            @Override
            public byte[] encode(ILoggingEvent event) {
                if (event.getFormattedMessage().startsWith("bad")) {
                    throw new IllegalStateException("cannot encode " + event.getFormattedMessage());
                }
                return event.getFormattedMessage().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }

            @Override
            public byte[] footerBytes() {
                return null;
            }
        });
        appender.start();
        Logger l = logger("app");
        for (int i = 0; i < 5; i++) {
            l.info("bad " + i);
            l.info("good " + i);
        }
        Awaitility.await().until(() -> kafka.history().size() == 5);
        assertThat(appender.getAppendErrors()).isEqualTo(5);
        List<Status> errors = context.getStatusManager().getCopyOfStatusList().stream()
                .filter(s -> s.getLevel() == Status.ERROR && s.getMessage().contains("could not append")).toList();
        assertThat(errors).as("reported at most once a second, not once per event").hasSizeBetween(1, 2);
        assertThat(errors.get(0).getThrowable()).hasMessageContaining("cannot encode bad 0");
    }

    @Test
    void eventsAppendedBeforeStartOrAfterStopAreCounted() {
        pattern("%msg");
        Logger l = logger("app");
        l.info("before start");
        appender.start();
        l.info("running");
        Awaitility.await().until(() -> kafka.history().size() == 1);
        appender.stop();
        l.info("after stop");
        l.info("after stop");
        assertThat(appender.getRefusedAtStop()).isEqualTo(3);
        assertThat(appender.getStats().offered()).isEqualTo(1);
    }

    @Test
    void theFallbackGetsTheLoggingThreadsCallerDataWhenAskedFor() throws Exception {
        pattern("%msg");
        appender.setSlotCapacity(64);
        appender.setOversize("fallback");
        appender.setIncludeCallerData(true);
        ListAppender<ILoggingEvent> fallback = new ListAppender<>();
        fallback.setContext(context);
        fallback.start();
        appender.addAppender(fallback);
        appender.start();
        logger("app").info("x".repeat(200)); // too large: to the fallback, on its own thread
        Awaitility.await().until(() -> fallback.list.size() == 1);
        StackTraceElement[] caller = fallback.list.get(0).getCallerData();
        assertThat(caller).isNotEmpty();
        assertThat(caller[0].getMethodName()).isEqualTo("theFallbackGetsTheLoggingThreadsCallerDataWhenAskedFor");
    }

    @Test
    void excludedLoggersThatNoLongerCoverKafkaAreWarnedAbout() {
        pattern("%msg");
        appender.setExcludedLoggers("com.noisy");
        appender.start();
        assertThat(context.getStatusManager().getCopyOfStatusList())
                .anySatisfy(s -> assertThat(s.getMessage()).contains("excludedLoggers does not cover both org.apache.kafka"));
        logger("com.noisy.Thing").info("excluded");
        assertThat(appender.getExcluded()).isEqualTo(1);
    }
}
