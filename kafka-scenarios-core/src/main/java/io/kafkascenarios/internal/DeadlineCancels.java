package io.kafkascenarios.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;

/**
 * Cancels a completed future's deadline later, on a caller's thread. Cancelling a scheduled task
 * removes it from the scheduler's queue under the scheduler's lock; futures mostly complete on Kafka's
 * I/O thread, which must not wait for a lock that 64 callers scheduling their own deadlines contend
 * for. So the completing thread only queues the task here (one CAS), and each caller that schedules a
 * deadline first cancels a few queued ones: it takes that lock anyway, and the queue cannot outgrow
 * the sends that feed it. A task left queued when sends stop simply runs at its deadline and finds
 * its future done.
 *
 * <p>Threads: {@link #later} on any thread; {@link #drain} on caller threads.
 */
public final class DeadlineCancels {
    /** More than one per send, so that the queue shrinks while sends keep coming. */
    static final int DRAIN_PER_SCHEDULE = 4;
    private final ConcurrentLinkedQueue<Future<?>> queue = new ConcurrentLinkedQueue<>();

    /** @param deadline a task whose future has completed: cancelled by a later {@link #drain} */
    public void later(Future<?> deadline) {
        queue.offer(deadline);
    }

    /** Caller thread, before it schedules a deadline: cancels up to a few queued tasks. */
    public void drain() {
        for (int i = 0; i < DRAIN_PER_SCHEDULE; i++) {
            Future<?> f = queue.poll();
            if (f == null) {
                return;
            }
            f.cancel(false);
        }
    }
}
