package io.kafkascenarios.internal.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The commit point moves over the contiguous prefix of done records only, whatever order they finish in. */
class OffsetWindowTest {
    @Test
    void theCommitPointMovesOnlyOverTheDonePrefixAcrossGaps() {
        OffsetWindow w = new OffsetWindow();
        assertThat(w.committable()).isEqualTo(-1);
        for (long o : new long[] {10, 11, 13, 17}) { // gaps: compacted records, transaction markers
            w.add(o);
        }
        assertThat(w.committable()).isEqualTo(10);
        assertThat(w.markDone(13)).isFalse();
        assertThat(w.markDone(11)).isFalse();
        assertThat(w.committable()).isEqualTo(10);
        assertThat(w.markDone(10)).isTrue();
        assertThat(w.committable()).as("past 10, 11 and 13, at the first not done").isEqualTo(17);
        assertThat(w.size()).isEqualTo(1);
        assertThat(w.markDone(12)).as("never added").isFalse();
        assertThat(w.markDone(17)).isTrue();
        assertThat(w.committable()).isEqualTo(18);
        assertThat(w.size()).isZero();
        w.add(25);
        assertThat(w.committable()).isEqualTo(25);
    }

    @Test
    void recordsDoneInAnyOrderEndAtOnePastTheLastAndTheWindowGrows() {
        OffsetWindow w = new OffsetWindow();
        List<Long> offsets = new ArrayList<>();
        for (long o = 0; o < 1000; o++) {
            w.add(o * 2);
            offsets.add(o * 2);
        }
        Collections.shuffle(offsets, new Random(42));
        long lastPoint = -1;
        for (long o : offsets) {
            w.markDone(o);
            assertThat(w.committable()).isGreaterThanOrEqualTo(lastPoint);
            lastPoint = w.committable();
            assertThat(offsets.subList(0, offsets.indexOf(o) + 1)).as("everything before the point is done")
                    .containsAll(range(0, lastPoint));
        }
        assertThat(w.committable()).isEqualTo(1999);
        assertThat(w.size()).isZero();
    }

    private static List<Long> range(long from, long toExclusive) {
        List<Long> l = new ArrayList<>();
        for (long o = from; o < toExclusive; o += 2) {
            l.add(o);
        }
        return l;
    }
}
