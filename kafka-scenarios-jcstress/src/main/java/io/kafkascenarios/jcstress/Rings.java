package io.kafkascenarios.jcstress;

import java.util.concurrent.locks.LockSupport;

import io.kafkascenarios.internal.Accounting;
import io.kafkascenarios.internal.FlusherIdle;
import io.kafkascenarios.internal.NanoClock;
import io.kafkascenarios.internal.Ring;

/** Small rings for the stress tests: a new one per trial. */
final class Rings {
    private Rings() {
    }

    static Ring small() {
        return small(new FlusherIdle(1_000_000, 1_000_000, 0, NanoClock.SYSTEM, LockSupport::parkNanos));
    }

    static Ring small(FlusherIdle idle) {
        return new Ring(4, 8, new Accounting(), false, 0, idle, NanoClock.SYSTEM);
    }
}
