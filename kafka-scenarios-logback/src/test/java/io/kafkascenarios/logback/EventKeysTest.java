package io.kafkascenarios.logback;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.CoreConstants;

/** Each keying strategy's key, computed once and reused. */
class EventKeysTest {
    private final LoggerContext context = new LoggerContext();

    private LoggingEvent event(String logger, String thread) {
        LoggingEvent e = new LoggingEvent();
        e.setLoggerName(logger);
        e.setThreadName(thread);
        e.setLevel(Level.INFO);
        e.setMessage("m");
        return e;
    }

    @Test
    void eachStrategyKeysByWhatItNames() {
        context.setName("shop");
        context.putProperty(CoreConstants.HOSTNAME_KEY, "host-7");
        LoggingEvent e = event("com.shop.Orders", "worker-1");
        assertThat(new EventKeys(KafkaAppender.Keying.NONE, context).of(e)).isNull();
        assertThat(new EventKeys(KafkaAppender.Keying.HOST_NAME, context).of(e)).isEqualTo("host-7".getBytes(UTF_8));
        assertThat(new EventKeys(KafkaAppender.Keying.CONTEXT_NAME, context).of(e)).isEqualTo("shop".getBytes(UTF_8));
        assertThat(new EventKeys(KafkaAppender.Keying.THREAD_NAME, context).of(e)).isEqualTo("worker-1".getBytes(UTF_8));
        EventKeys byLogger = new EventKeys(KafkaAppender.Keying.LOGGER_NAME, context);
        byte[] first = byLogger.of(e);
        assertThat(first).isEqualTo("com.shop.Orders".getBytes(UTF_8));
        assertThat(byLogger.of(event("com.shop.Orders", "other"))).as("cached, not re-encoded").isSameAs(first);
    }

    @Test
    void aThreadNameThatChangesGetsItsNewKeyAndNoContextGivesNoFixedKey() {
        EventKeys byThread = new EventKeys(KafkaAppender.Keying.THREAD_NAME, context);
        assertThat(byThread.of(event("l", "before"))).isEqualTo("before".getBytes(UTF_8));
        assertThat(byThread.of(event("l", "after"))).isEqualTo("after".getBytes(UTF_8));
        assertThat(new EventKeys(KafkaAppender.Keying.HOST_NAME, null).of(event("l", "t"))).isNull();
    }
}
