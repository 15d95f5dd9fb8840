package io.kafkascenarios;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    /**
     * Logs failures and discards at WARN and waits at INFO through SLF4J (logger
     * {@code io.kafkascenarios}), one line per report. The default.
     */
    RingProducerListener LOGGING = new RingProducerListener() {
        private final Logger log = LoggerFactory.getLogger("io.kafkascenarios");

        @Override
        public void onFailed(FailureReport report) {
            log.warn("{} record(s) failed: {}", report.count(), report.cause().toString());
        }

        @Override
        public void onDiscarded(long discarded, long totalDiscarded) {
            log.warn("{} record(s) discarded on a full ring ({} in total)", discarded, totalDiscarded);
        }

        @Override
        public void onBlocked(BlockingReport report) {
            log.info("callers waited for ring space: {}", report);
        }

        @Override
        public String toString() {
            return "RingProducerListener.LOGGING";
        }
    };

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
