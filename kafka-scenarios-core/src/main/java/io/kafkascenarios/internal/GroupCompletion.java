package io.kafkascenarios.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import org.apache.kafka.clients.producer.RecordMetadata;

import io.kafkascenarios.SendTimeoutException;

/**
 * The one future of a {@code sendAll}: completes normally when every record of the group is
 * acknowledged, exceptionally with the first failure or at the group's deadline. One object for the
 * whole group, so a batch of outputs costs one future, not one per record.
 *
 * <p>Threads: created on the caller thread; {@link #takeForSend} on the flusher thread; success and
 * failure on Kafka's I/O thread (or the flusher, or the closer); the deadline on the producer's
 * deadline thread.
 */
public final class GroupCompletion extends TimedCompletion<Void> {
    private static final AtomicIntegerFieldUpdater<GroupCompletion> UNACKED =
            AtomicIntegerFieldUpdater.newUpdater(GroupCompletion.class, "unacked");
    private volatile int unacked;

    /**
     * @param size records in the group, all counted before the first is published so that an early
     *             acknowledgement cannot complete the group
     * @param topic the first record's topic, for messages
     * @param startNanos when sendAll was called, on {@code clock}
     * @param clock the producer's clock
     * @param accounting counts a timeout by stage
     * @param cancels where its deadline goes to be cancelled once it completes
     */
    public GroupCompletion(int size, String topic, long startNanos, NanoClock clock, Accounting accounting,
                          DeadlineCancels cancels) {
        super(topic, startNanos, clock, accounting, cancels);
        this.unacked = size;
        if (size == 0) {
            complete(null);
        }
    }

    @Override
    public void succeed(RecordMetadata metadata) {
        if (UNACKED.decrementAndGet(this) == 0) {
            succeedWith(null);
        }
    }
}
