package io.kafkascenarios;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * The deadline of a {@link RingProducer#send} passed before the broker acknowledged the record. The
 * message and {@link #stage()} say where the time went.
 *
 * <p>A record whose future timed out was not withdrawn: if it reached the ring it is still accounted
 * in {@link RingProducer#stats()} and ends delivered or failed later; {@link Stage#RING_SPACE} records
 * never entered the ring and count as discarded.
 */
public final class SendTimeoutException extends TimeoutException {
    private static final long serialVersionUID = 1L;

    /** Where a record was when its deadline passed. */
    public enum Stage {
        /** Waiting for a free ring slot (or failing fast on a full ring): the record was not enqueued. */
        RING_SPACE,
        /** In the ring, not yet handed to Kafka: the flusher is behind or blocked (e.g. metadata unknown). */
        IN_RING,
        /** Handed to Kafka, waiting for the broker's acknowledgement. */
        AWAITING_ACK
    }

    private final Stage stage;
    private final Duration elapsed;

    /**
     * @param stage where the record was
     * @param elapsed time from the send call to the deadline
     * @param topic the record's topic
     */
    public SendTimeoutException(Stage stage, Duration elapsed, String topic) {
        super(describe(stage, elapsed, topic));
        this.stage = stage;
        this.elapsed = elapsed;
    }

    private static String describe(Stage stage, Duration elapsed, String topic) {
        String where;
        switch (stage) {
            case RING_SPACE:
                where = "waiting for ring space (the ring was full; the record was not enqueued)";
                break;
            case IN_RING:
                where = "in the ring, not yet handed to Kafka (flusher behind or blocked, e.g. broker unreachable)";
                break;
            default:
                where = "waiting for the broker's acknowledgement";
                break;
        }
        return "send to '" + topic + "' timed out after " + elapsed.toMillis() + " ms " + where;
    }

    /** @return where the record was when the deadline passed */
    public Stage stage() {
        return stage;
    }

    /** @return time from the send call to the deadline */
    public Duration elapsed() {
        return elapsed;
    }
}
