package io.kafkascenarios.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import io.kafkascenarios.internal.FlusherIdle;
import io.kafkascenarios.internal.NanoClock;
import io.kafkascenarios.internal.Ring;
import io.kafkascenarios.internal.Slot;

/**
 * A caller that has claimed a slot writes and commits it, racing the flusher that looks at that slot
 * and, finding it unpublished, takes its park decision. The flusher waits on publication, not on the
 * cursor (which already counts the claim): it must never take a claimed-but-uncommitted slot, and when
 * it sees the slot published it must see what the caller wrote before the commit. The park decision
 * announces the flusher as parked, then re-checks publication; here a park is recorded, not slept, so
 * each trial ends.
 *
 * <p>{@code r1}: what the flusher read: -1 nothing (it parks), otherwise the slot's kind as read: the
 * caller writes a flush marker ({@link Slot#FLUSH}, 2) over a fresh slot (0). {@code r2}: 1 if it parked.
 *
 * <pre>
 * | r1, r2 | meaning                                                          | expect     |
 * |--------|------------------------------------------------------------------|------------|
 * | -1, 1  | not published at the re-check: the flusher parks; the commit     | acceptable |
 * |        | waits out one park (an offer) or unparks it (send, flush, close)  |            |
 * |  2, 0  | published before the first look or the re-check: the flusher     | acceptable |
 * |        | takes it, whole                                                   |            |
 * |  0, 0  | a published slot read without the caller's write: a torn record  | FORBIDDEN  |
 * </pre>
 * Any other outcome is unexpected and fails the run.
 */
@JCStressTest
@Outcome(id = "-1, 1", expect = ACCEPTABLE, desc = "not published yet: the flusher parks")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "published: the flusher takes the whole slot")
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "a published slot without the caller's write")
@State
public class CommitVersusFlusherPark {
    private boolean parked;
    private final FlusherIdle idle = new FlusherIdle(1, 1, 0, NanoClock.SYSTEM, (blocker, nanos) -> parked = true);
    private final Ring ring = Rings.small(idle);
    private final long sequence = ring.claim(); // the cursor moves now; publication comes with the commit

    /** Uses up the idle strategy's spins, so that the flusher's next idle step is its park decision. */
    public CommitVersusFlusherPark() {
        for (int i = 0; i < FlusherIdle.SPINS; i++) {
            idle.idle(ring, sequence);
        }
    }

    /** The caller: writes and commits the slot it claimed. */
    @Actor
    public void caller() {
        ring.slot(sequence).setFlushMarker();
        ring.commit(sequence);
    }

    /** The flusher: looks; if nothing is published, takes its idle step, then looks again unless it parked. */
    @Actor
    public void flusher(II_Result r) {
        if (!ring.isPublished(sequence)) {
            idle.idle(ring, sequence);
            if (parked) {
                r.r1 = -1;
                r.r2 = 1;
                return;
            }
            if (!ring.isPublished(sequence)) {
                r.r1 = -1; // unexpected: the idle step saw it published
                return;
            }
        }
        r.r1 = ring.slot(sequence).kind;
    }
}
