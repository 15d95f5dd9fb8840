package io.kafkascenarios.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;

/**
 * What Kafka refused this producer: a topic it may not write ({@link TopicAuthorizationException}), or
 * its login ({@link AuthenticationException}). For a while after a refusal, records it covers fail at
 * once with Kafka's own exception instead of being handed to {@code KafkaProducer.send}, which would
 * hold the flusher for a metadata round per record (up to {@code retry.backoff.max.ms}, 1 s by
 * default, for a denied topic; a reconnect to every broker for a wrong password). Without this, one
 * denied topic stalls every other topic behind it in the ring, and a wrong password turns each
 * request's clear cause into a deadline in the ring. When the interval has passed, the next record is
 * sent to Kafka again, so a granted ACL or a created user is noticed. A refused login lasts at most
 * {@link #LOGIN_RETRY_NANOS}: unlike a denied topic it covers every record, and one broker's refusal
 * may be a glitch that the next connection does not repeat. A delivered record ends the login
 * refusal, and its topic's.
 *
 * <p>Threads: {@link #note} on whichever thread completes a record (the flusher, when Kafka refuses
 * inside {@code send}; Kafka's I/O thread, when a produce request is refused); {@link #refusal} on
 * the flusher thread. Neither blocks.
 */
public final class Refusals {
    private record Refusal(Throwable cause, long untilNanos) {
    }

    /** Refused topics remembered before expired ones are swept. */
    private static final int MAX_TOPICS = 1024;
    /** The longest a refused login fails records at once (1 s). */
    public static final long LOGIN_RETRY_NANOS = 1_000_000_000L;

    private final long retryNanos;
    private final long loginRetryNanos;
    private final NanoClock clock;
    private final ConcurrentHashMap<String, Refusal> topics = new ConcurrentHashMap<>();
    /**
     * Set at the first refusal and never cleared: until then the flusher's check and the I/O thread's
     * delivery hook each cost one volatile read per record.
     */
    private volatile boolean everRefused;
    private final AtomicReference<Refusal> login = new AtomicReference<>();

    /**
     * @param retryNanos how long a refusal fails records at once; 0 sends every record to Kafka
     * @param clock the time
     */
    public Refusals(long retryNanos, NanoClock clock) {
        this.retryNanos = retryNanos;
        this.loginRetryNanos = Math.min(retryNanos, LOGIN_RETRY_NANOS);
        this.clock = clock;
    }

    /**
     * Remembers a refusal, if the failure is one.
     *
     * @param topic the failed record's topic
     * @param failure why it failed
     */
    void note(String topic, Throwable failure) {
        if (retryNanos == 0) {
            return;
        }
        long now = clock.nanoTime();
        if (failure instanceof TopicAuthorizationException) {
            if (topics.size() >= MAX_TOPICS) { // many refused topic names: drop the expired ones
                topics.values().removeIf(r -> now - r.untilNanos >= 0);
            }
            topics.put(topic, new Refusal(failure, now + retryNanos));
            everRefused = true;
        } else if (failure instanceof AuthenticationException) {
            login.set(new Refusal(failure, now + loginRetryNanos));
            everRefused = true;
        }
    }

    /**
     * A record was delivered: Kafka accepts this producer's login, and this topic, again.
     * Kafka's I/O thread; one volatile read until something was refused.
     *
     * @param topic the delivered record's topic
     */
    void delivered(String topic) {
        if (!everRefused) {
            return;
        }
        if (login.get() != null) {
            login.set(null);
        }
        if (!topics.isEmpty()) {
            topics.remove(topic);
        }
    }

    /**
     * @param topic a record's topic, about to be sent
     * @return Kafka's exception to fail it with at once, or null to send it
     */
    Throwable refusal(String topic) {
        if (!everRefused) {
            return null;
        }
        Refusal l = login.get();
        if (l != null) {
            if (clock.nanoTime() - l.untilNanos < 0) {
                return l.cause;
            }
            login.compareAndSet(l, null); // this record tries again
        }
        Refusal t = topics.get(topic);
        if (t == null) {
            return null;
        }
        if (clock.nanoTime() - t.untilNanos < 0) {
            return t.cause;
        }
        topics.remove(topic, t); // this record tries again
        return null;
    }
}
