package io.kafkascenarios.internal;

import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind {@code RingStats}. Writers increment; readers only read.
 *
 * <p>{@code offered} has no counter of its own: it is derived from the ring's cursor (every claim is a
 * sequence) minus slots that carry no record (markers, aborted writes) plus discards, so the
 * publish fast path pays for no counter at all.
 *
 * <p>Writers: {@link #discarded} and the block counters by caller threads; {@link #delivered} and
 * {@link #failed} by Kafka's I/O thread (and the flusher or closer for records that never reach
 * Kafka); {@link #withdrawn} by the flusher. Thread-safe.
 */
public final class Accounting {
    public final LongAdder discarded = new LongAdder();
    public final LongAdder delivered = new LongAdder();
    public final LongAdder failed = new LongAdder();
    /** Records their send deadline withdrew from the ring: the flusher skipped them. */
    public final LongAdder withdrawn = new LongAdder();
    /** Claimed sequences that carry no record: flush markers and writes that threw. */
    public final LongAdder nonRecords = new LongAdder();
    public final LongAdder blockStarted = new LongAdder();
    public final LongAdder blockStopped = new LongAdder();
    public final LongAdder blockGaveUp = new LongAdder();
    public final LongAdder blockNanos = new LongAdder();
    public final LongAccumulator blockMaxNanos = new LongAccumulator(Math::max, 0);
    public final LongAdder listenerErrors = new LongAdder();
    /** KafkaProducers replaced after a fatal error. */
    public final LongAdder producerReplacements = new LongAdder();
    /** send/sendAll futures failed by their deadline, by {@code SendTimeoutException.Stage} ordinal. */
    public final LongAdder[] sendTimeouts = newAdders(io.kafkascenarios.SendTimeoutException.Stage.values().length);

    private static LongAdder[] newAdders(int n) {
        LongAdder[] adders = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            adders[i] = new LongAdder();
        }
        return adders;
    }

    /** Epoch ms of the last acknowledgement, 0 before any: for health probes. */
    private volatile long lastDeliveryMillis;

    /** Kafka's I/O thread, per acknowledged record: a volatile write only when the millisecond changed. */
    public void deliveredNow() {
        long now = System.currentTimeMillis();
        if (now != lastDeliveryMillis) {
            lastDeliveryMillis = now;
        }
    }

    /** @return epoch ms of the last acknowledgement, 0 before any */
    public long lastDeliveryMillis() {
        return lastDeliveryMillis;
    }

    /** @param stage where a send's deadline found the record */
    public void sendTimedOut(io.kafkascenarios.SendTimeoutException.Stage stage) {
        sendTimeouts[stage.ordinal()].increment();
    }
}
