package io.kafkascenarios;

import java.time.Duration;

/**
 * Waits for ring space during one report interval.
 *
 * <p>A wait that spans several intervals is counted as started in one and stopped in a later one;
 * {@link #waitingNow()} says how many callers are still waiting when the report is made.
 *
 * @param started waits that began in the interval
 * @param stopped waits that ended in the interval (with a slot or giving up)
 * @param gaveUp of those, waits that ended without a slot (timeout or interrupt): discarded
 * @param waitingNow callers waiting when the report was made
 * @param totalWait summed duration of the waits that stopped
 * @param maxWait longest of the waits that stopped
 */
public record BlockingReport(long started, long stopped, long gaveUp, long waitingNow, Duration totalWait,
                             Duration maxWait) {
    /**
     * @param started waits that began in the interval
     * @param stopped waits that ended in the interval
     * @param gaveUp of those, waits that ended without a slot
     * @param waitingNow callers waiting when the report was made
     * @param totalWaitNanos summed duration of the waits that stopped, in nanoseconds
     * @param maxWaitNanos longest of the waits that stopped, in nanoseconds
     */
    public BlockingReport(long started, long stopped, long gaveUp, long waitingNow, long totalWaitNanos,
                          long maxWaitNanos) {
        this(started, stopped, gaveUp, waitingNow, Duration.ofNanos(totalWaitNanos), Duration.ofNanos(maxWaitNanos));
    }

    @Override
    public String toString() {
        return "BlockingReport{started=" + started + ", stopped=" + stopped + ", gaveUp=" + gaveUp
                + ", waitingNow=" + waitingNow + ", totalWait=" + totalWait + ", maxWait=" + maxWait + '}';
    }
}
