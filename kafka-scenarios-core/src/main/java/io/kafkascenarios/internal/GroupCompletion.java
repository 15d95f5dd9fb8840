package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import org.apache.kafka.clients.producer.RecordMetadata;

import io.kafkascenarios.SendTimeoutException;

/**
 * The one future of a {@code sendAll}: completes normally when every record of the group is
 * acknowledged, exceptionally with the first failure or at the group's deadline. One object for the
 * whole group, so a batch of outputs costs one future, not one per record.
 *
 * <p>Threads: created on the caller thread; {@link #sentToKafka} on the flusher thread; success and
 * failure on Kafka's I/O thread (or the flusher, or the closer); {@link #run} (the deadline) on the
 * producer's deadline thread. Completing is a CAS: the first outcome wins.
 */
public final class GroupCompletion extends CompletableFuture<Void> implements RecordCompletion, Runnable {
    private static final AtomicIntegerFieldUpdater<GroupCompletion> UNACKED =
            AtomicIntegerFieldUpdater.newUpdater(GroupCompletion.class, "unacked");
    private static final AtomicIntegerFieldUpdater<GroupCompletion> UNSENT =
            AtomicIntegerFieldUpdater.newUpdater(GroupCompletion.class, "unsent");
    private final String topic;
    private final long startNanos;
    private volatile int unacked;
    private volatile int unsent;
    private volatile Future<?> deadline;

    /**
     * @param size records in the group, all counted before the first is published so that an early
     *             acknowledgement cannot complete the group
     * @param topic the first record's topic, for messages
     * @param startNanos when sendAll was called
     */
    public GroupCompletion(int size, String topic, long startNanos) {
        this.unacked = size;
        this.unsent = size;
        this.topic = topic;
        this.startNanos = startNanos;
        if (size == 0) {
            complete(null);
        }
    }

    /** @param deadline the scheduled {@link #run}, cancelled on completion. Caller thread, once. */
    public void deadline(Future<?> deadline) {
        this.deadline = deadline;
        if (isDone()) {
            deadline.cancel(false);
        }
    }

    @Override
    public void sentToKafka() {
        UNSENT.decrementAndGet(this);
    }

    @Override
    public void succeed(RecordMetadata metadata) {
        if (UNACKED.decrementAndGet(this) == 0 && complete(null)) {
            cancelDeadline();
        }
    }

    @Override
    public void fail(Throwable cause) {
        if (completeExceptionally(cause)) {
            cancelDeadline();
        }
    }

    private void cancelDeadline() {
        Future<?> d = deadline;
        if (d != null) {
            d.cancel(false);
        }
    }

    /** The deadline passed. */
    @Override
    public void run() {
        SendTimeoutException.Stage stage = unsent <= 0 ? SendTimeoutException.Stage.AWAITING_ACK
                : SendTimeoutException.Stage.IN_RING;
        completeExceptionally(new SendTimeoutException(stage, Duration.ofNanos(System.nanoTime() - startNanos), topic));
    }
}
