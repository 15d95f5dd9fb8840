package io.kafkascenarios.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Completed futures' deadlines are cancelled by later schedulers, and the scheduler's queue stays bounded. */
class DeadlineCancelsTest {
    @Test
    void schedulersCancelWhatCompletedFuturesLeftAndTheQueueDoesNotGrow() {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
        scheduler.setRemoveOnCancelPolicy(true);
        DeadlineCancels cancels = new DeadlineCancels();
        try {
            List<ScheduledFuture<?>> tasks = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                cancels.drain(); // as Engine.scheduleDeadline does before each schedule
                ScheduledFuture<?> t = scheduler.schedule(() -> { }, 1, TimeUnit.HOURS);
                tasks.add(t);
                cancels.later(t); // its future completed at once, on "another" thread
                assertThat(scheduler.getQueue().size()).as("after %d sends", i + 1).isLessThanOrEqualTo(2);
            }
            assertThat(tasks.stream().filter(ScheduledFuture::isCancelled).count()).isGreaterThanOrEqualTo(9_999);
        } finally {
            scheduler.shutdownNow();
        }
    }
}
