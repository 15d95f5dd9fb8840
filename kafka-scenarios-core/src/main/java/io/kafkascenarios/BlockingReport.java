package io.kafkascenarios;

import java.time.Duration;

/**
 * Waits for ring space during one report interval. Immutable.
 *
 * <p>A wait that spans several intervals is counted as started in one and stopped in a later one;
 * {@link #waitingNow()} says how many callers are still waiting when the report is made.
 */
public final class BlockingReport {
    private final long started;
    private final long stopped;
    private final long gaveUp;
    private final long waitingNow;
    private final long totalWaitNanos;
    private final long maxWaitNanos;

    /**
     * @param started waits that began in the interval
     * @param stopped waits that ended in the interval (with a slot or giving up)
     * @param gaveUp of those, waits that ended without a slot (timeout or interrupt): discarded
     * @param waitingNow callers waiting when the report was made
     * @param totalWaitNanos summed duration of the waits that stopped
     * @param maxWaitNanos longest of the waits that stopped
     */
    public BlockingReport(long started, long stopped, long gaveUp, long waitingNow,
                          long totalWaitNanos, long maxWaitNanos) {
        this.started = started;
        this.stopped = stopped;
        this.gaveUp = gaveUp;
        this.waitingNow = waitingNow;
        this.totalWaitNanos = totalWaitNanos;
        this.maxWaitNanos = maxWaitNanos;
    }

    /** @return waits that began in the interval */
    public long started() {
        return started;
    }

    /** @return waits that ended in the interval */
    public long stopped() {
        return stopped;
    }

    /** @return waits that ended without a slot (the record was discarded) */
    public long gaveUp() {
        return gaveUp;
    }

    /** @return callers still waiting when the report was made */
    public long waitingNow() {
        return waitingNow;
    }

    /** @return summed duration of the waits that stopped in the interval */
    public Duration totalWait() {
        return Duration.ofNanos(totalWaitNanos);
    }

    /** @return the longest wait that stopped in the interval */
    public Duration maxWait() {
        return Duration.ofNanos(maxWaitNanos);
    }

    @Override
    public String toString() {
        return "BlockingReport{started=" + started + ", stopped=" + stopped + ", gaveUp=" + gaveUp
                + ", waitingNow=" + waitingNow + ", totalWait=" + totalWait() + ", maxWait=" + maxWait() + '}';
    }
}
