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
 * A {@code BLOCK} caller that finds the ring full racing {@code close}: the promise that a caller
 * waiting for a slot leaves a closed ring counting no discard, and that close's last counts come after
 * it left. Nobody frees a slot here, so the caller can only leave because of close.
 *
 * <p>{@code r1}: the caller's result: 2 if refused ({@code CLOSED}), 1 if discarded ({@code NO_SLOT}),
 * 0 if it got a slot. {@code r2}: blocked calls started minus stopped, as the closing thread reads them
 * once its wait for such callers returned (1: the caller was still counted as waiting).
 *
 * <pre>
 * | r1, r2 | meaning                                                        | expect     |
 * |--------|----------------------------------------------------------------|------------|
 * | 2, 0   | refused, and gone before close took its counts                 | acceptable |
 * | 2, 1   | close took its counts while the caller still waited            | FORBIDDEN  |
 * | 1, _   | a discard counted for a record refused by close                | FORBIDDEN  |
 * | 0, _   | a slot from a full ring nobody drains                          | FORBIDDEN  |
 * </pre>
 */
@JCStressTest
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "refused, gone before close took its counts")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "close took its counts while the caller still waited")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a discard counted for a refused record")
@Outcome(id = "0, .*", expect = FORBIDDEN, desc = "a slot from a full ring")
@State
public class WaiterVersusClose {
    private final Accounting accounting = new Accounting();
    private final Ring ring = new Ring(1, 8, accounting, true, Long.MAX_VALUE,
            new FlusherIdle(1_000_000, 1_000_000, 0, NanoClock.SYSTEM, LockSupport::parkNanos), NanoClock.SYSTEM);

    public WaiterVersusClose() {
        ring.commit(ring.claim()); // full, and nothing releases it
    }

    /** The caller: a {@code BLOCK} {@code offer} on a full ring. */
    @Actor
    public void caller(JJ_Result r) {
        long s = ring.claim();
        r.r1 = s == Ring.CLOSED ? 2 : s == Ring.NO_SLOT ? 1 : 0;
    }

    /** The closing thread, up to the point where close reads the final counters. */
    @Actor
    public void closer(JJ_Result r) {
        ring.close();
        ring.awaitWaitersGone(System.nanoTime(), Long.MAX_VALUE);
        r.r2 = accounting.blockStarted.sum() - accounting.blockStopped.sum();
    }
}
