package io.kafkascenarios.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

/** The flusher's idle strategy with a recording parker and a manual clock: no real time decides anything. */
class FlusherIdleTest {
    private static final long MS = 1_000_000;
    private final List<Long> parks = new ArrayList<>();
    private final ManualClock clock = new ManualClock();
    private final FlusherIdle idle = new FlusherIdle(MS, 10 * MS, 2 * MS, clock, (blocker, nanos) -> parks.add(nanos));
    private final Ring ring = new Ring(4, 8, new Accounting(), false, 0,
            new FlusherIdle(MS, MS, 0, NanoClock.SYSTEM, LockSupport::parkNanos), NanoClock.SYSTEM);

    private void idle(int times) {
        for (int i = 0; i < times; i++) {
            idle.idle(ring, 0);
        }
    }

    @Test
    void spinsThenParksDoublingUpToTheLongestPark() {
        idle(FlusherIdle.SPINS);
        assertThat(parks).isEmpty();
        idle(6);
        assertThat(parks).containsExactly(MS, 2 * MS, 4 * MS, 8 * MS, 10 * MS, 10 * MS);
        idle.workDone();
        idle(FlusherIdle.SPINS + 1);
        assertThat(parks).hasSize(7).endsWith(MS);
    }

    /** Defect C: an interrupt is cleared before the park, which would otherwise return at once, forever. */
    @Test
    void aStrayInterruptIsClearedSoTheParkReallyParks() {
        idle(FlusherIdle.SPINS);
        Thread.currentThread().interrupt();
        idle(1);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertThat(parks).containsExactly(MS);
    }

    @Test
    void afterARequestItYieldsForTheHotWindowInsteadOfParking() {
        idle.requestSent();
        idle.workDone();
        idle(FlusherIdle.SPINS + 50);
        assertThat(parks).isEmpty();
        clock.advance(2 * MS);
        idle(1);
        assertThat(parks).containsExactly(MS);
    }

    @Test
    void doesNotParkWhenTheSlotWasPublishedMeanwhile() {
        ring.commit(ring.claim());
        idle(FlusherIdle.SPINS + 1);
        assertThat(parks).isEmpty();
    }
}
