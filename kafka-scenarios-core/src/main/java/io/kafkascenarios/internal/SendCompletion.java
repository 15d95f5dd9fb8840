package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.RecordMetadata;

import io.kafkascenarios.SendTimeoutException;

/**
 * The future of one {@code send}: completed exactly once, by the broker's answer, a failure, or its
 * deadline, whichever comes first.
 *
 * <p>Threads: created on the caller thread; {@link #sentToKafka} on the flusher thread; success and
 * failure on Kafka's I/O thread (or the flusher when Kafka throws); {@link #run} (the deadline) on the
 * producer's deadline thread. Completing is a CAS, so the first one wins and the others are no-ops.
 */
public final class SendCompletion extends CompletableFuture<RecordMetadata> implements RecordCompletion, Runnable {
    private final String topic;
    private final long startNanos;
    private volatile boolean sent;
    private volatile Future<?> deadline;

    /**
     * @param topic the record's topic, for messages
     * @param startNanos when send was called
     */
    public SendCompletion(String topic, long startNanos) {
        this.topic = topic;
        this.startNanos = startNanos;
    }

    /** @param deadline the scheduled {@link #run}, cancelled on completion. Caller thread, once. */
    public void deadline(Future<?> deadline) {
        this.deadline = deadline;
        if (isDone()) {
            deadline.cancel(false);
        }
    }

    /** The record was handed to Kafka. Flusher thread. */
    @Override
    public void sentToKafka() {
        sent = true;
    }

    @Override
    public void succeed(RecordMetadata metadata) {
        if (complete(metadata)) {
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
        // Scheduled only once the record is in the ring: a caller that finds no space fails at once.
        SendTimeoutException.Stage stage = sent ? SendTimeoutException.Stage.AWAITING_ACK : SendTimeoutException.Stage.IN_RING;
        completeExceptionally(new SendTimeoutException(stage, Duration.ofNanos(System.nanoTime() - startNanos), topic));
    }
}
