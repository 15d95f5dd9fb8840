package io.kafkascenarios.stream;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.apache.kafka.common.TopicPartition;

/**
 * A snapshot of a {@link StreamProcessor}: whether it runs, why it stopped, and per assigned partition
 * what is done, committed and behind. Immutable; the counters are read one after the other, not
 * atomically.
 *
 * <p>A processor that stopped is {@link State#FAILED} with its cause, never "running" while consuming
 * nothing: a poll thread that dies, a handler that throws an {@code Error} or a record that exhausts
 * its retries under {@link FailurePolicy#STOP} all end here.
 *
 * @param state the lifecycle state
 * @param failure why it stopped, for {@link State#FAILED}
 * @param partitions the partitions assigned to this instance now
 * @param processed input records done (handled with outputs acknowledged, dead-lettered or skipped)
 * @param produced output records acknowledged
 * @param retries attempts repeated after a failure
 * @param deadLettered input records sent to the dead-letter topic
 * @param skipped input records skipped under {@link FailurePolicy#SKIP}
 * @param revocations rebalances that took partitions from this instance
 * @param stalled the assigned partitions that have held records without progress for at least the
 *                processor's {@code stallTimeout}, with how long: what a readiness or liveness probe
 *                should look at besides {@code state}
 */
public record ProcessorHealth(State state, Optional<Throwable> failure, Map<TopicPartition, PartitionHealth> partitions,
                              long processed, long produced, long retries, long deadLettered, long skipped,
                              long revocations, Map<TopicPartition, Duration> stalled) {
    /** Where a processor is in its life. */
    public enum State {
        /** Consuming and handling. */
        RUNNING,
        /** {@code close} was called or a failure is stopping it; in-flight batches are finishing. */
        STOPPING,
        /**
         * Closed: consumer closed, completed offsets committed (a final commit that failed, e.g. with
         * the broker down, is logged; the next owner then redoes those records).
         */
        CLOSED,
        /** Stopped by a failure ({@link ProcessorHealth#failure()}); completed offsets committed. */
        FAILED
    }

    /** @return sum of the known per-partition lags */
    public long totalLag() {
        long sum = 0;
        for (PartitionHealth p : partitions.values()) {
            sum += Math.max(0, p.lag());
        }
        return sum;
    }
}
