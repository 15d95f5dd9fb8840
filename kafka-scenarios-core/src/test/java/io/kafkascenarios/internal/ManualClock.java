package io.kafkascenarios.internal;

import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to, or by a fixed step on every read. */
final class ManualClock implements NanoClock {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final long stepPerRead;

    ManualClock() {
        this(0);
    }

    ManualClock(long stepPerRead) {
        this.stepPerRead = stepPerRead;
    }

    @Override
    public long nanoTime() {
        return now.getAndAdd(stepPerRead);
    }

    void advance(long nanos) {
        now.addAndGet(nanos);
    }
}
