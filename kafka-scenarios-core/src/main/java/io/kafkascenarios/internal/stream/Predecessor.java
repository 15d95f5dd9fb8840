package io.kafkascenarios.internal.stream;

import java.util.concurrent.CompletableFuture;

/**
 * The previous owner, on this instance, of a partition assigned back to it (revoked, then assigned
 * again) that may still be finishing: the new owner starts only once it is quiescent, so a partition
 * is never handled by two owners at once.
 *
 * <p>Threads: {@link #follow} on the poll thread before the new owner's first records; the rest from
 * any thread.
 */
final class Predecessor {
    private volatile CompletableFuture<Void> quiescent;
    private volatile long sinceNanos;

    /**
     * @param previous the previous owner
     * @param whenDone run (on whichever thread completes it) once the previous owner is quiescent
     */
    void follow(AssignedPartition previous, Runnable whenDone) {
        sinceNanos = System.nanoTime();
        CompletableFuture<Void> q = previous.quiescent();
        quiescent = q;
        q.whenComplete((v, e) -> whenDone.run());
    }

    /** @return true if there is none, or it is quiescent */
    boolean done() {
        CompletableFuture<Void> q = quiescent;
        return q == null || q.isDone();
    }

    /** @return true if it has not become quiescent within {@code limitNanos} */
    boolean stuck(long limitNanos) {
        CompletableFuture<Void> q = quiescent;
        return q != null && !q.isDone() && System.nanoTime() - sinceNanos > limitNanos;
    }

    /**
     * @param stopped when the owner itself stopped
     * @return completes once the owner stopped and the predecessor is quiescent (an owner may stop
     *         without ever having run while its predecessor still does)
     */
    CompletableFuture<Void> and(CompletableFuture<Void> stopped) {
        CompletableFuture<Void> q = quiescent;
        return q == null ? stopped : CompletableFuture.allOf(stopped, q);
    }
}
