package io.kafkascenarios.internal.stream;

/**
 * A task the processor queues on its own pool: told when the pool shut down before running it, so
 * that what waits for it is released.
 */
interface PoolTask extends Runnable {
    /** The pool shut down with this task queued and not started. The closing thread. */
    void dropped();
}
