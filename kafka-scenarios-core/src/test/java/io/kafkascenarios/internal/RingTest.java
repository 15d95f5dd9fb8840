package io.kafkascenarios.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

/** The ring's door on its own: claim, commit, abort, close and its close sequence, the full-ring policies. */
class RingTest {
    private final Accounting accounting = new Accounting();
    private final FlusherIdle idle = new FlusherIdle(1_000_000, 10_000_000, 0, NanoClock.SYSTEM, LockSupport::parkNanos);

    private Ring ring(int size, boolean block, long blockTimeoutNanos, NanoClock clock) {
        return new Ring(size, 16, accounting, block, blockTimeoutNanos, idle, clock);
    }

    @Test
    void aClaimedSlotIsNotPublishedUntilCommitted() {
        Ring ring = ring(4, false, 0, NanoClock.SYSTEM);
        long s = ring.claim();
        assertThat(s).isZero();
        assertThat(ring.cursor()).isZero();
        assertThat(ring.isPublished(0)).isFalse(); // the cursor counts claims, not publications
        ring.slot(s).setRecord("t", -1, -1, null, new byte[1], null, null);
        ring.commit(s);
        assertThat(ring.isPublished(0)).isTrue();
        assertThat(ring.isPublished(1)).isFalse();
    }

    @Test
    void closeReturnsTheLastClaimAndLaterClaimsAbortTheirOwnSlot() {
        Ring ring = ring(8, false, 0, NanoClock.SYSTEM);
        long held = ring.claim(); // a caller between claim and commit when close begins
        long committed = ring.claim();
        ring.commit(committed);
        long closeSequence = ring.close();
        assertThat(closeSequence).isEqualTo(committed);
        assertThat(held).isLessThanOrEqualTo(closeSequence);

        assertThat(ring.claim()).isEqualTo(Ring.CLOSED);
        assertThat(ring.claimWaiting(System.nanoTime(), Long.MAX_VALUE, 1)).isEqualTo(Ring.CLOSED);
        // Both late claims took a sequence above the close sequence and published it as aborted.
        assertThat(ring.cursor()).isEqualTo(closeSequence + 2);
        assertThat(ring.isPublished(closeSequence + 1)).isTrue();
        assertThat(ring.slot(closeSequence + 1).kind).isEqualTo(Slot.ABORTED);
        assertThat(ring.slot(closeSequence + 2).kind).isEqualTo(Slot.ABORTED);
        assertThat(accounting.nonRecords.sum()).isEqualTo(2);
        assertThat(accounting.discarded.sum()).isZero();
    }

    @Test
    void discardOnFullCountsAndReturnsNoSlot() {
        Ring ring = ring(2, false, 0, NanoClock.SYSTEM);
        ring.commit(ring.claim());
        ring.commit(ring.claim());
        assertThat(ring.claim()).isEqualTo(Ring.NO_SLOT);
        assertThat(accounting.discarded.sum()).isEqualTo(1);
        ring.release(0);
        assertThat(ring.claim()).isEqualTo(2);
    }

    @Test
    void aBlockedClaimGivesUpAtItsTimeoutOnTheInjectedClock() {
        // Every read of the clock moves it 1 ms: a 50 ms timeout passes within ~50 reads, whatever the machine does.
        Ring ring = ring(1, true, TimeUnit.MILLISECONDS.toNanos(50), new ManualClock(TimeUnit.MILLISECONDS.toNanos(1)));
        ring.commit(ring.claim());
        assertThat(ring.claim()).isEqualTo(Ring.NO_SLOT);
        assertThat(accounting.blockStarted.sum()).isEqualTo(1);
        assertThat(accounting.blockGaveUp.sum()).isEqualTo(1);
        assertThat(accounting.discarded.sum()).isEqualTo(1);
        assertThat(accounting.blockNanos.sum()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
    }

    @Test
    void anInterruptedWaitGivesUpAndKeepsTheStatus() {
        Ring ring = ring(1, false, 0, NanoClock.SYSTEM);
        ring.commit(ring.claim());
        Thread.currentThread().interrupt();
        try {
            assertThat(ring.claimWaiting(System.nanoTime(), Long.MAX_VALUE, 3)).isEqualTo(Ring.NO_SLOT);
        } finally {
            assertThat(Thread.interrupted()).isTrue();
        }
        assertThat(accounting.discarded.sum()).isEqualTo(3);
    }

    /** Defect E at the door: a wait with no time at all still wakes a parked flusher before giving up. */
    @Test
    void aZeroTimeoutWaitOnAFullRingWakesTheParkedFlusher() throws Exception {
        FlusherIdle longPark = new FlusherIdle(TimeUnit.SECONDS.toNanos(60), TimeUnit.SECONDS.toNanos(60), 0,
                NanoClock.SYSTEM, LockSupport::parkNanos);
        Ring ring = new Ring(1, 16, accounting, false, 0, longPark, NanoClock.SYSTEM);
        ring.commit(ring.claim());
        ring.release(0);
        CountDownLatch woke = new CountDownLatch(1);
        Thread flusher = new Thread(() -> {
            for (int i = 0; i <= FlusherIdle.SPINS; i++) {
                longPark.idle(ring, 1); // the 101st call parks for 60 s
            }
            woke.countDown();
        });
        flusher.setDaemon(true);
        flusher.start();
        org.awaitility.Awaitility.await().until(() -> flusher.getState() == Thread.State.TIMED_WAITING);
        ring.commit(ring.claim()); // fills the ring again
        assertThat(ring.claimWaiting(System.nanoTime(), 0, 0)).isEqualTo(Ring.NO_SLOT);
        assertThat(woke.await(20, TimeUnit.SECONDS)).isTrue();
    }

    /**
     * A caller blocked on a full ring when it closes leaves with CLOSED and counts nothing, and close can
     * wait for it to be gone: after that no counter of its moves (defect found in review: it used to
     * count a discard after close had returned).
     */
    @Test
    void aCallerBlockedWhenTheRingClosesCountsNothingAndCloseWaitsForIt() throws Exception {
        Ring ring = ring(1, true, Long.MAX_VALUE, NanoClock.SYSTEM);
        ring.commit(ring.claim());
        long[] result = new long[1];
        Thread blocked = new Thread(() -> result[0] = ring.claim());
        blocked.setDaemon(true);
        blocked.start();
        org.awaitility.Awaitility.await().until(() -> ring.waiters() == 1 && accounting.blockStarted.sum() == 1);
        ring.close();
        assertThat(ring.awaitWaitersGone(System.nanoTime(), TimeUnit.SECONDS.toNanos(20))).isTrue();
        long discarded = accounting.discarded.sum();
        long blockStopped = accounting.blockStopped.sum();
        blocked.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(result[0]).isEqualTo(Ring.CLOSED);
        assertThat(discarded).isZero();
        assertThat(accounting.blockGaveUp.sum()).isZero();
        assertThat(blockStopped).isEqualTo(1); // counted before it left, so before close's wait returned
        assertThat(ring.cursor()).isZero(); // it took no slot
    }

    /** The same for a send waiting for space: CLOSED, and none of its discards counted. */
    @Test
    void aWaitingSendWhenTheRingClosesCountsNoDiscard() throws Exception {
        Ring ring = ring(1, false, 0, NanoClock.SYSTEM);
        ring.commit(ring.claim());
        long[] result = new long[1];
        Thread waiting = new Thread(() -> result[0] = ring.claimWaiting(System.nanoTime(), Long.MAX_VALUE, 5));
        waiting.setDaemon(true);
        waiting.start();
        org.awaitility.Awaitility.await().until(() -> ring.waiters() == 1);
        ring.close();
        assertThat(ring.awaitWaitersGone(System.nanoTime(), TimeUnit.SECONDS.toNanos(20))).isTrue();
        waiting.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(result[0]).isEqualTo(Ring.CLOSED);
        assertThat(accounting.discarded.sum()).isZero();
    }

    /** A discarding caller on a closed full ring is refused, not counted as a discard (found in review). */
    @Test
    void aFullClosedRingRefusesInsteadOfDiscarding() {
        Ring ring = ring(1, false, 0, NanoClock.SYSTEM);
        ring.commit(ring.claim());
        ring.close();
        assertThat(ring.claim()).isEqualTo(Ring.CLOSED);
        assertThat(ring.claimWaiting(System.nanoTime(), 0, 1)).isEqualTo(Ring.CLOSED);
        assertThat(accounting.discarded.sum()).isZero();
    }
}
