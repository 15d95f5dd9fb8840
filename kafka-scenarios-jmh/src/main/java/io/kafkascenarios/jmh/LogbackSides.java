package io.kafkascenarios.jmh;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import io.kafkascenarios.logback.KafkaAppender;

/**
 * The three appenders compared, built the same way for the per-call benchmark and the loss run: this
 * library's {@link KafkaAppender}; logback-kafka-appender 0.2.0-RC2 with its asynchronous delivery;
 * and the same inside Logback's {@code AsyncAppender} with {@code neverBlock} (its defaults
 * otherwise: a queue of 256). All encode {@code %msg} and get the same producer settings.
 */
final class LogbackSides {
    /** The parameter values, in table order. */
    static final String OURS = "kafka-scenarios";
    static final String PLAIN = "logback-kafka-appender";
    static final String ASYNC = "logback-kafka-appender-async";

    /** An appender and what it reports as not delivered. */
    record Side(Appender<ILoggingEvent> top, KafkaAppender ours, LongAdder failedCallbacks) {
        /** @return events this side says it did not deliver: counted drops and failures */
        long reportedDrops() {
            if (ours != null) {
                var s = ours.getStats();
                return s.discarded() + s.failed() + ours.getOversizeDropped() + ours.getRefusedAtStop()
                        + ours.getReentrantDropped() + ours.getAppendErrors();
            }
            return failedCallbacks.sum(); // its failed-delivery appender-refs; AsyncAppender's drops are not reported
        }
    }

    private LogbackSides() {
    }

    static Side create(String kind, LoggerContext context, String topic, Map<String, Object> producer) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg");
        encoder.start();
        if (kind.equals(OURS)) {
            KafkaAppender a = new KafkaAppender();
            a.setContext(context);
            a.setName("kafka");
            a.setTopic(topic);
            a.setEncoder(encoder);
            a.setShutdownTimeout(30_000);
            producer.forEach((k, v) -> a.addProducerConfig(k + "=" + v));
            a.start();
            return started(new Side(a, a, null), context);
        }
        com.github.danielwegener.logback.kafka.KafkaAppender<ILoggingEvent> a = new com.github.danielwegener.logback.kafka.KafkaAppender<>();
        a.setContext(context);
        a.setName("kafka");
        a.setTopic(topic);
        a.setEncoder(encoder);
        producer.forEach((k, v) -> a.addProducerConfig(k + "=" + v));
        a.setKeyingStrategy(new com.github.danielwegener.logback.kafka.keying.NoKeyKeyingStrategy());
        a.setDeliveryStrategy(new com.github.danielwegener.logback.kafka.delivery.AsynchronousDeliveryStrategy());
        LongAdder failed = new LongAdder();
        AppenderBase<ILoggingEvent> counting = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                failed.increment(); // its failedDeliveryCallback hands each failed event to its appender-refs
            }
        };
        counting.setContext(context);
        counting.setName("failed-deliveries");
        counting.start();
        a.addAppender(counting);
        a.start();
        if (!kind.equals(ASYNC)) {
            return started(new Side(a, null, failed), context);
        }
        AsyncAppender async = new AsyncAppender();
        async.setContext(context);
        async.setName("async");
        async.setNeverBlock(true);
        async.addAppender(a);
        async.start();
        return started(new Side(async, null, failed), context);
    }

    private static Side started(Side side, LoggerContext context) {
        if (!side.top().isStarted()) {
            throw new IllegalStateException(side.top().getName() + " did not start: " + context.getStatusManager().getCopyOfStatusList());
        }
        return side;
    }
}
