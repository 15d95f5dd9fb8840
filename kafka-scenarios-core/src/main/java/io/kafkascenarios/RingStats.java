package io.kafkascenarios;

import java.time.Duration;

/**
 * A snapshot of a {@link RingProducer}'s accounting.
 *
 * <p>Every record offered is in exactly one state:
 * {@code offered() == delivered() + discarded() + failed() + withdrawn() + pending()}. The counters are read one
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
 *
 * @param offered records offered: every {@code offer} call that did not throw
 * @param delivered records the broker acknowledged (under the producer's {@code acks} setting)
 * @param discarded records dropped because the ring was full (or a wait for space gave up)
 * @param failed records Kafka refused or that could not be sent before close; each was reported
 * @param withdrawn records of {@code send}/{@code sendAll} whose deadline passed while they waited in
 *        the ring: the flusher skipped them, so they were never written; their futures failed with a
 *        {@link SendTimeoutException} of stage {@code IN_RING} (not reported to the listener: the
 *        caller was told)
 * @param ringCapacity slots in the ring
 * @param ringRemaining free slots in the ring when the snapshot was taken
 * @param blockedCalls calls that had to wait for ring space
 * @param blockedTime total time callers spent waiting for ring space (finished waits)
 * @param listenerErrors exceptions thrown by the listener (caught, counted, distinct ones logged once)
 * @param producerReplacements KafkaProducers replaced after a fatal error (fenced, unrecoverable
 *        idempotence error, authentication or cluster authorization failure)
 * @param sendTimeoutsRingSpace {@code send}/{@code sendAll} futures failed with a
 *        {@link SendTimeoutException} of stage {@code RING_SPACE} (never enqueued)
 * @param sendTimeoutsInRing the same, stage {@code IN_RING} (enqueued, not yet handed to Kafka, and so
 *        withdrawn: they end in {@code withdrawn} once the flusher reaches them); this and the next are
 *        counted by the deadline thread just after it failed the future
 * @param sendTimeoutsAwaitingAck the same, stage {@code AWAITING_ACK} (handed to Kafka, or being handed,
 *        not acknowledged in time; the record itself still ends delivered or failed)
 */
public record RingStats(long offered, long delivered, long discarded, long failed, long withdrawn, int ringCapacity,
                        long ringRemaining, long blockedCalls, Duration blockedTime, long listenerErrors,
                        long producerReplacements, long sendTimeoutsRingSpace, long sendTimeoutsInRing,
                        long sendTimeoutsAwaitingAck) {
    /** @return records offered and not yet delivered, discarded, failed or withdrawn (in the ring, or in Kafka) */
    public long pending() {
        return offered - delivered - discarded - failed - withdrawn;
    }

    @Override
    public String toString() {
        return "RingStats{offered=" + offered + ", delivered=" + delivered + ", discarded=" + discarded
                + ", failed=" + failed + ", withdrawn=" + withdrawn + ", pending=" + pending() + ", ring=" + ringRemaining + "/" + ringCapacity
                + " free, blockedCalls=" + blockedCalls + ", blockedTime=" + blockedTime
                + ", listenerErrors=" + listenerErrors + ", producerReplacements=" + producerReplacements
                + ", sendTimeouts={ringSpace=" + sendTimeoutsRingSpace + ", inRing=" + sendTimeoutsInRing
                + ", awaitingAck=" + sendTimeoutsAwaitingAck + "}}";
    }
}
