package io.kafkascenarios;

/**
 * What {@link RingProducer#offer} does when the ring has no free slot.
 *
 * <p>Either way the caller is told: {@code offer} returns {@code false} for a discarded record, the
 * record is counted in {@link RingStats#discarded()}, and the listener hears about discards and
 * waits from the reporter thread ({@link RingProducerListener#onDiscarded},
 * {@link RingProducerListener#onBlocked}).
 */
public enum OnFull {
    /**
     * Drop the new record at once: the caller never waits, not even when the broker is down. This
     * costs the caller one counter increment. The default.
     */
    DISCARD,
    /**
     * Wait for a free slot, up to {@link RingProducer.Builder#blockTimeout(java.time.Duration)}
     * (unbounded by default); on timeout or interruption the record is discarded as in
     * {@link #DISCARD}. The caller then depends on the broker's speed: use it where losing a record
     * costs more than a stalled caller.
     */
    BLOCK
}
