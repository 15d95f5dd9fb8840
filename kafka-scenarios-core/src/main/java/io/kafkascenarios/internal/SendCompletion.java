package io.kafkascenarios.internal;

import org.apache.kafka.clients.producer.RecordMetadata;

import io.kafkascenarios.SendTimeoutException;

/**
 * The future of one {@code send}: completed exactly once, by the broker's answer, a failure, or its
 * deadline, whichever comes first.
 *
 * <p>Threads: created on the caller thread; {@link #takeForSend} on the flusher thread; success and
 * failure on Kafka's I/O thread (or the flusher when Kafka throws); the deadline on the producer's
 * deadline thread.
 */
public final class SendCompletion extends TimedCompletion<RecordMetadata> {
    /**
     * @param topic the record's topic, for messages
     * @param startNanos when send was called, on {@code clock}
     * @param clock the producer's clock
     * @param accounting counts a timeout by stage
     * @param cancels where its deadline goes to be cancelled once it completes
     */
    public SendCompletion(String topic, long startNanos, NanoClock clock, Accounting accounting,
                          DeadlineCancels cancels) {
        super(topic, startNanos, clock, accounting, cancels);
    }

    @Override
    public void succeed(RecordMetadata metadata) {
        succeedWith(metadata);
    }
}
