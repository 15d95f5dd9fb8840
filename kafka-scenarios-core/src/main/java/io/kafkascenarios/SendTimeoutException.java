package io.kafkascenarios;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * The deadline of a {@link RingProducer#send} (or {@code sendAll}) passed before the broker
 * acknowledged the record. The message and {@link #stage()} say where the time went, and
 * {@link #mayBeWritten()} whether the record can still reach the topic:
 * <ul>
 *   <li>{@link Stage#RING_SPACE}: never enqueued (counted as discarded); never written. For a
 *       {@code sendAll} group that found room for only part of itself: the enqueued part is withdrawn
 *       too, unless the flusher had already taken its first record ({@link #mayBeWritten()} then says
 *       true).</li>
 *   <li>{@link Stage#IN_RING}: withdrawn. It was still waiting in the ring, and the flusher skips it
 *       (counted in {@link RingStats#withdrawn()}): it is never written. A request that failed this
 *       way produced nothing, and retrying it cannot write twice. For a {@code sendAll} group: no record
 *       of it had been handed to Kafka, and none will be.</li>
 *   <li>{@link Stage#AWAITING_ACK}: Kafka has it (or the flusher was handing it over: at most one
 *       record, the one inside {@code KafkaProducer.send()}, waiting for metadata for example). It may
 *       still be written, and ends delivered or failed in {@link RingProducer#stats()}. For a group:
 *       at least one of its records had been handed to Kafka.</li>
 * </ul>
 */
public final class SendTimeoutException extends TimeoutException {
    private static final long serialVersionUID = 1L;

    /** Where a record was when its deadline passed. */
    public enum Stage {
        /** Waiting for a free ring slot (or failing fast on a full ring): the record was not enqueued. */
        RING_SPACE,
        /**
         * In the ring, not yet handed to Kafka (the flusher is behind, or blocked on Kafka, e.g. metadata
         * unknown): withdrawn, it is never written.
         */
        IN_RING,
        /** Handed to Kafka (or being handed), waiting for the broker's acknowledgement: it may still be written. */
        AWAITING_ACK,
        /**
         * A request of a {@link io.kafkascenarios.reply.RequestReplyClient}: written and acknowledged,
         * no reply within the deadline (the replier is down, slow, or its reply was lost).
         */
        AWAITING_REPLY
    }

    private final Stage stage;
    private final Duration elapsed;
    private final boolean mayBeWritten;

    /**
     * @param stage where the record was
     * @param elapsed time from the send call to the deadline
     * @param topic the record's topic
     */
    public SendTimeoutException(Stage stage, Duration elapsed, String topic) {
        this(stage, elapsed, topic, stage == Stage.AWAITING_ACK || stage == Stage.AWAITING_REPLY);
    }

    /**
     * @param stage where the record (or the first record of a group not enqueued) was
     * @param elapsed time from the send call to the deadline
     * @param topic the record's topic
     * @param mayBeWritten whether a record it covers may still be written: a {@code sendAll} group
     *                     that ran out of ring space half-way is {@code RING_SPACE}, and true if the
     *                     flusher had already taken its first record (the enqueued part then goes on)
     */
    public SendTimeoutException(Stage stage, Duration elapsed, String topic, boolean mayBeWritten) {
        super(describe(stage, elapsed, topic) + (stage == Stage.RING_SPACE && mayBeWritten
                ? "; the part of the group already enqueued may still be written" : ""));
        this.stage = stage;
        this.elapsed = elapsed;
        this.mayBeWritten = mayBeWritten;
    }

    private static String describe(Stage stage, Duration elapsed, String topic) {
        String where;
        switch (stage) {
            case RING_SPACE:
                where = "waiting for ring space (the ring was full; the record was not enqueued)";
                break;
            case IN_RING:
                where = "in the ring, not yet handed to Kafka (flusher behind or blocked, e.g. broker unreachable);"
                        + " withdrawn: it will not be written";
                break;
            case AWAITING_REPLY:
                where = "waiting for the reply (the request was written and acknowledged)";
                break;
            default:
                where = "handed to Kafka, waiting for the broker's acknowledgement; it may still be written";
                break;
        }
        return "send to '" + topic + "' timed out after " + elapsed.toMillis() + " ms " + where;
    }

    /**
     * @return true if the record may still be written to the topic, or was ({@link Stage#AWAITING_ACK},
     *         {@link Stage#AWAITING_REPLY}, or a
     *         group's enqueued part already taken by the flusher); false if it never will be (withdrawn
     *         from the ring, or never enqueued)
     */
    public boolean mayBeWritten() {
        return mayBeWritten;
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
