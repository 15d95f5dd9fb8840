package io.kafkascenarios;

import java.time.Duration;

/**
 * A snapshot of a {@link RingProducer}'s accounting. Immutable.
 *
 * <p>Every record offered is in exactly one state:
 * {@code offered() == delivered() + discarded() + failed() + pending()}. The counters are read one
 * after the other, not atomically: while records are moving, a snapshot may count as pending a record
 * that has just completed, or a slot claimed for a flush marker, or for a record whose write then
 * throws (an {@code offerWith} writer: for as long as the writer runs); {@code pending()} is never
 * negative and never misses a record. After {@link RingProducer#flush} returned true, none of the
 * records offered before that call is pending. Once {@link RingProducer#close} has returned with
 * {@code pending() == 0}, no record counter changes any more, but for a {@code DISCARD} offer that
 * found the ring full as close began and was still running when it returned (it counts its discard
 * as it returns false), and {@link #listenerErrors()} if the listener's last report overruns the
 * close's deadline;
 * a positive {@code pending()} then counts records in a caller's hands (claimed before close, not yet
 * committed) or left to a flusher that overran the deadline, each failed and reported when the
 * flusher reaches it.
 */
public final class RingStats {
    private final long offered;
    private final long delivered;
    private final long discarded;
    private final long failed;
    private final int ringCapacity;
    private final long ringRemaining;
    private final long blockedCalls;
    private final long blockedNanos;
    private final long listenerErrors;
    private final long producerReplacements;

    RingStats(long offered, long delivered, long discarded, long failed, int ringCapacity,
              long ringRemaining, long blockedCalls, long blockedNanos, long listenerErrors,
              long producerReplacements) {
        this.offered = offered;
        this.delivered = delivered;
        this.discarded = discarded;
        this.failed = failed;
        this.ringCapacity = ringCapacity;
        this.ringRemaining = ringRemaining;
        this.blockedCalls = blockedCalls;
        this.blockedNanos = blockedNanos;
        this.listenerErrors = listenerErrors;
        this.producerReplacements = producerReplacements;
    }

    /** @return records offered: every {@code offer} call that did not throw */
    public long offered() {
        return offered;
    }

    /** @return records the broker acknowledged (under the producer's {@code acks} setting) */
    public long delivered() {
        return delivered;
    }

    /** @return records dropped because the ring was full (or a blocked caller gave up) */
    public long discarded() {
        return discarded;
    }

    /** @return records Kafka refused or that could not be sent before close; each was reported */
    public long failed() {
        return failed;
    }

    /** @return records in the ring or in flight to the broker */
    public long pending() {
        return offered - delivered - discarded - failed;
    }

    /** @return slots in the ring */
    public int ringCapacity() {
        return ringCapacity;
    }

    /** @return free slots in the ring when the snapshot was taken */
    public long ringRemaining() {
        return ringRemaining;
    }

    /** @return calls that had to wait for ring space */
    public long blockedCalls() {
        return blockedCalls;
    }

    /** @return total time callers spent waiting for ring space (finished waits) */
    public Duration blockedTime() {
        return Duration.ofNanos(blockedNanos);
    }

    /** @return exceptions thrown by the listener (caught and logged) */
    public long listenerErrors() {
        return listenerErrors;
    }

    /**
     * @return KafkaProducers replaced after a fatal error (fenced, unrecoverable idempotence error,
     *         authentication or cluster authorization failure)
     */
    public long producerReplacements() {
        return producerReplacements;
    }

    @Override
    public String toString() {
        return "RingStats{offered=" + offered + ", delivered=" + delivered + ", discarded=" + discarded
                + ", failed=" + failed + ", pending=" + pending() + ", ring=" + ringRemaining + "/" + ringCapacity
                + " free, blockedCalls=" + blockedCalls + ", blockedTime=" + blockedTime()
                + ", listenerErrors=" + listenerErrors + ", producerReplacements=" + producerReplacements + '}';
    }
}
