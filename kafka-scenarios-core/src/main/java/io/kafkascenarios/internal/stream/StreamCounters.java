package io.kafkascenarios.internal.stream;

import java.util.concurrent.atomic.LongAdder;

/** A stream processor's counters. Worker threads add; any thread reads. */
public final class StreamCounters {
    /** Input records done: handled and outputs acknowledged, dead-lettered or skipped. */
    public final LongAdder processed = new LongAdder();
    /** Output records acknowledged. */
    public final LongAdder produced = new LongAdder();
    /** Attempts after a failure. */
    public final LongAdder retries = new LongAdder();
    /** Input records sent to the dead-letter topic. */
    public final LongAdder deadLettered = new LongAdder();
    /** Input records skipped by {@code FailurePolicy.SKIP}. */
    public final LongAdder skipped = new LongAdder();
    /** Rebalances that revoked or lost partitions of this instance. */
    public final LongAdder revocations = new LongAdder();
}
