package io.kafkascenarios.internal.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/** The window against a model (a sorted set of offsets not done) over random adds, dones, gaps and growth. */
class OffsetWindowFuzzTest {
    @Test
    void interleavedAddsAndDonesWithWrapAndGrowthMatchAModel() {
        for (long seed = 0; seed < 300; seed++) {
            Random rnd = new Random(seed);
            OffsetWindow w = new OffsetWindow();
            TreeSet<Long> notDone = new TreeSet<>();
            List<Long> pending = new ArrayList<>();
            long next = 0;
            long lastAdded = -1;
            for (int step = 0; step < 5000; step++) {
                if (rnd.nextInt(3) != 0 || pending.isEmpty()) {
                    int n = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 200 : 5);
                    for (int i = 0; i < n; i++) {
                        next += 1 + (rnd.nextInt(5) == 0 ? rnd.nextInt(3) : 0);
                        w.add(next);
                        notDone.add(next);
                        pending.add(next);
                        lastAdded = next;
                    }
                } else {
                    long o = pending.remove(rnd.nextInt(pending.size()));
                    w.markDone(o);
                    notDone.remove(o);
                }
                long expected = notDone.isEmpty() ? lastAdded + 1 : notDone.first();
                assertThat(w.committable()).as("seed %d step %d", seed, step).isEqualTo(expected);
            }
        }
    }
}
