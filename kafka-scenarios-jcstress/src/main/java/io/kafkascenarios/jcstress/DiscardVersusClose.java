package io.kafkascenarios.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.locks.LockSupport;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import io.kafkascenarios.internal.Accounting;
import io.kafkascenarios.internal.FlusherIdle;
import io.kafkascenarios.internal.NanoClock;
import io.kafkascenarios.internal.Ring;

/**
 * A caller that finds the ring full racing {@code close}: the promise that makes the stats final when
 * close returns. Close waits for callers in the full ring's slow path; a caller there either sees the
 * ring closed and counts nothing, or counts its discard before close's wait ends.
 *
 * <p>{@code r1}: 1 if the caller's record was discarded ({@code NO_SLOT}), 2 if it was refused
 * ({@code CLOSED}). {@code r2}: the discard counter as the closing thread reads it once its wait for
 * such callers returned.
 *
 * <pre>
 * | r1, r2 | meaning                                                        | expect     |
 * |--------|----------------------------------------------------------------|------------|
 * | 1, 1   | discarded, counted before close finished                       | acceptable |
 * | 2, 0   | refused: the caller saw the ring closed, counted nothing        | acceptable |
 * | 1, 0   | a discard counted after close returned: stats not final        | FORBIDDEN  |
 * | 2, 1   | refused and counted                                            | FORBIDDEN  |
 * </pre>
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "discarded before close finished, counted")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "refused after close, nothing counted")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "a discard counted after close returned")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "refused and counted as discarded")
@State
public class DiscardVersusClose {
    private final Accounting accounting = new Accounting();
    private final Ring ring = new Ring(1, 8, accounting, false, 0,
            new FlusherIdle(1_000_000, 1_000_000, 0, NanoClock.SYSTEM, LockSupport::parkNanos), NanoClock.SYSTEM);

    public DiscardVersusClose() {
        ring.commit(ring.claim()); // full: the flusher never releases it here
    }

    /** The caller: a DISCARD {@code offer} on a full ring. */
    @Actor
    public void caller(JJ_Result r) {
        r.r1 = ring.claim() == Ring.CLOSED ? 2 : 1;
    }

    /** The closing thread, up to the point where close reads the final counters. */
    @Actor
    public void closer(JJ_Result r) {
        ring.close();
        ring.awaitWaitersGone(System.nanoTime(), Long.MAX_VALUE);
        r.r2 = accounting.discarded.sum();
    }
}
