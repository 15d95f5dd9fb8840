package io.kafkascenarios;

/**
 * Hears what happened to records in the background: failures, discards and waits on a full ring (the
 * three events of the telemetry scenario).
 *
 * <p>Thread: every method is called on the producer's reporter thread, never on a caller of
 * {@code offer} and never on Kafka's I/O thread. Events are coalesced per report interval
 * ({@link RingProducer.Builder#reportInterval(java.time.Duration)}), so a storm of discards costs the
 * callers a counter increment and the listener one call. A listener that throws breaks nothing: the
 * exception is counted in {@link RingStats#listenerErrors()} and logged once per distinct error.
 * A slow listener delays only later reports.
 *
 * <p>Without a listener, {@link #LOGGING} reports through SLF4J (logger {@code io.kafkascenarios}).
 */
public interface RingProducerListener {

    /** Logs failures and discards at WARN and waits at INFO through SLF4J. The default. */
    RingProducerListener LOGGING = new LoggingListener();

    /**
     * Records that Kafka did not accept, grouped by exception class: one call per class per report
     * interval, with the first exception, the count and the records themselves.
     *
     * @param report the error, how many records it failed, and those records
     */
    default void onFailed(FailureReport report) {
    }

    /**
     * Records dropped because the ring was full (or a blocked caller gave up) since the last report.
     *
     * @param discarded records discarded since the last report, at least 1
     * @param totalDiscarded records discarded since the producer was built
     */
    default void onDiscarded(long discarded, long totalDiscarded) {
    }

    /**
     * Callers of {@code offer} that waited for ring space ({@link OnFull#BLOCK}) since the last report.
     *
     * @param report who started and stopped waiting and for how long
     */
    default void onBlocked(BlockingReport report) {
    }
}
