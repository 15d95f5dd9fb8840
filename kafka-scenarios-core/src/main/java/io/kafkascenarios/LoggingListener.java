package io.kafkascenarios;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The default listener: one log line per report. Called on the reporter thread. */
final class LoggingListener implements RingProducerListener {
    private static final Logger LOG = LoggerFactory.getLogger("io.kafkascenarios");

    @Override
    public void onFailed(FailureReport report) {
        LOG.warn("{} record(s) failed: {}", report.count(), report.cause().toString());
    }

    @Override
    public void onDiscarded(long discarded, long totalDiscarded) {
        LOG.warn("{} record(s) discarded on a full ring ({} in total)", discarded, totalDiscarded);
    }

    @Override
    public void onBlocked(BlockingReport report) {
        LOG.info("callers waited for ring space: {}", report);
    }

    @Override
    public String toString() {
        return "RingProducerListener.LOGGING";
    }
}
