package io.kafkascenarios.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import io.kafkascenarios.internal.Ring;

/**
 * A caller's claim racing {@code close}: the promise that makes close lose nothing. Close drains up to
 * the close sequence it reads; so a claim that keeps its slot (the caller goes on to write and commit
 * a record) must have a sequence at or below it. A claim above it must see the ring closed and abort.
 *
 * <p>{@code r1}: 1 if the caller kept its slot, 2 if the ring refused it ({@code CLOSED}).
 * {@code r2}: 1 if the caller's sequence is at or below the close sequence, 0 if above.
 *
 * <pre>
 * | r1, r2 | meaning                                                        | expect     |
 * |--------|----------------------------------------------------------------|------------|
 * | 1, 1   | claimed before close: the flusher drains it                    | acceptable |
 * | 2, 0   | claimed after close saw the cursor: aborted by its claimer     | acceptable |
 * | 2, 1   | claimed before close read the cursor, saw the flag: aborted,   | acceptable |
 * |        | the flusher skips the aborted slot                             |            |
 * | 1, 0   | a record past the close sequence: never drained, lost          | FORBIDDEN  |
 * </pre>
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "claimed before close; the drain covers it")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "claimed after close; aborted by its claimer")
@Outcome(id = "2, 1", expect = ACCEPTABLE_INTERESTING, desc = "claim and close overlapped; the claimer saw the flag and aborted")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "a record past the close sequence would be lost")
@State
public class ClaimVersusClose {
    private final Ring ring = Rings.small();
    private long claimed;
    private long closeSequence;

    /** The caller: {@code offer}'s claim. */
    @Actor
    public void caller(II_Result r) {
        long s = ring.claim();
        if (s == Ring.CLOSED) {
            r.r1 = 2;
            claimed = ring.cursor(); // the claimer's own aborted sequence: nobody else claims here
        } else {
            r.r1 = 1;
            claimed = s;
            ring.commit(s);
        }
    }

    /** The closing thread. */
    @Actor
    public void closer() {
        closeSequence = ring.close();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        r.r2 = claimed <= closeSequence ? 1 : 0;
    }
}
