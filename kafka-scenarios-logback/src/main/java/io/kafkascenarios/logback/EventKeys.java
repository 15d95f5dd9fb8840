package io.kafkascenarios.logback;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Context;
import ch.qos.logback.core.CoreConstants;

/**
 * An event's record key under a {@link KafkaAppender.Keying}, as bytes computed once and reused: a
 * fixed key (host or context name) at start, one cached array per logger name, and per thread the
 * last thread name's bytes. Nothing is allocated per event once a logger or thread has been seen.
 *
 * <p>Threads: built at the appender's start; {@link #of} on the logging threads, concurrently.
 */
final class EventKeys {
    /** A thread's name and its bytes, the same for every appender: a thread's name rarely changes. */
    private static final ThreadLocal<Object[]> THREAD_KEY = ThreadLocal.withInitial(() -> new Object[2]);

    private final KafkaAppender.Keying keying;
    private final byte[] fixedKey;
    private final Map<String, byte[]> loggerKeys = new ConcurrentHashMap<>();

    EventKeys(KafkaAppender.Keying keying, Context context) {
        this.keying = keying;
        this.fixedKey = fixedKey(keying, context);
    }

    /** @return the event's key, or null for none */
    byte[] of(ILoggingEvent event) {
        switch (keying) {
            case LOGGER_NAME:
                return loggerKeys.computeIfAbsent(event.getLoggerName(), n -> n.getBytes(StandardCharsets.UTF_8));
            case THREAD_NAME: {
                Object[] cached = THREAD_KEY.get();
                String name = event.getThreadName();
                if (cached[0] != name) { // a thread's name rarely changes: compare the reference
                    cached[0] = name;
                    cached[1] = name == null ? null : name.getBytes(StandardCharsets.UTF_8);
                }
                return (byte[]) cached[1];
            }
            default:
                return fixedKey;
        }
    }

    private static byte[] fixedKey(KafkaAppender.Keying keying, Context context) {
        String key;
        switch (keying) {
            case HOST_NAME:
                key = context == null ? null : context.getProperty(CoreConstants.HOSTNAME_KEY);
                break;
            case CONTEXT_NAME:
                key = context == null ? null : context.getName();
                break;
            default:
                key = null;
        }
        return key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    }
}
