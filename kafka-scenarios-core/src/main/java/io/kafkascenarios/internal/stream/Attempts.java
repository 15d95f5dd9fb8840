package io.kafkascenarios.internal.stream;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.ProcessingException;

/**
 * One partition's attempts: run the handler on a batch and hand its outputs over; on failure retry,
 * split a failed batch to isolate the record at fault, and apply the failure policy (SKIP,
 * DEAD_LETTER, STOP) once the retries are spent. Kafka's failures are told apart from the record's
 * own: an outage is retried as a whole and then stops the processor, never skips or dead-letters a
 * record.
 *
 * <p>Threads: the worker thread that runs the partition, only.
 */
final class Attempts {
    private static final Logger LOG = LoggerFactory.getLogger(Attempts.class);
    /** Returned by an attempt that was abandoned (partition lost, processor closing): not a failure. */
    static final Throwable ABANDONED = new Throwable("abandoned", null, false, false) { };
    private static final CompletableFuture<Void> NOTHING_TO_SEND = CompletableFuture.completedFuture(null);

    private final TopicPartition partition;
    private final StreamSettings settings;
    private final StreamCounters counters;
    private final WorkerScope scope;
    /** The last attempt's outputs were refused by the producer for what they are: retrying cannot help. */
    private boolean outputRejected;

    Attempts(TopicPartition partition, StreamSettings settings, StreamCounters counters, WorkerScope scope) {
        this.partition = partition;
        this.settings = settings;
        this.counters = counters;
        this.scope = scope;
    }

    /** A batch handled, with the acknowledgement of its outputs. */
    record InFlight(List<ConsumerRecord<byte[], byte[]>> records, CompletableFuture<Void> acked, int outputs) {
    }

    /** The outputs' acknowledgement failed with the cause: Kafka's side, not the handler's. */
    static final class OutputFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OutputFailed(Throwable cause) {
            super(cause.toString(), cause, false, false);
        }
    }

    /** The producer was closed under the processor: nothing can be produced any more. */
    private static final class ProducerClosed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ProducerClosed(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    boolean outputRejected() {
        return outputRejected;
    }

    void outputRejected(boolean rejected) {
        outputRejected = rejected;
    }

    /**
     * Runs the handler on a batch and hands its outputs to the producer: the first half of every
     * attempt, pipelined or not.
     *
     * @return the batch with the acknowledgement of its outputs
     * @throws Throwable what the handler threw (an {@code ExecutionException} unwrapped),
     *         {@link #ABANDONED}, or the producer's refusal ({@code ProducerClosed}, or bad outputs with
     *         {@link #outputRejected()} set)
     */
    InFlight handleAndSend(List<ConsumerRecord<byte[], byte[]>> batch) throws Throwable {
        outputRejected = false;
        List<ProducerRecord<byte[], byte[]>> outputs;
        try {
            outputs = settings.handler().handle(batch);
        } catch (ExecutionException e) {
            throw e.getCause();
        }
        if (scope.abandoned()) {
            throw ABANDONED;
        }
        if (outputs == null || outputs.isEmpty()) {
            return new InFlight(batch, NOTHING_TO_SEND, 0);
        }
        return new InFlight(batch, send(outputs), outputs.size());
    }

    private CompletableFuture<Void> send(List<ProducerRecord<byte[], byte[]>> outputs) {
        Outputs.Sent sent = settings.outputs().sendAll(outputs, settings.outputTimeout());
        if (sent instanceof Outputs.Accepted accepted) {
            return accepted.acked();
        }
        if (sent instanceof Outputs.Refused refused) {
            outputRejected = true; // the same outputs would be refused again
            throw refused.why();
        }
        throw new ProducerClosed(((Outputs.Closed) sent).why());
    }

    /** @return {@link #ABANDONED} for any failure once the partition is abandoned, else the failure */
    Throwable abandonedOr(Throwable failure) {
        return scope.abandoned() ? ABANDONED : failure;
    }

    /** @return null if acknowledged, {@link #ABANDONED}, or the failure */
    Throwable await(CompletableFuture<Void> acked) {
        while (true) {
            try {
                acked.get();
                return null;
            } catch (InterruptedException e) {
                if (scope.abandoned()) {
                    return ABANDONED;
                }
                // Only a lost partition interrupts this pool thread, and it is abandoned first: anything
                // else is stray and must not fail outputs that are still on their way. Keep waiting (the
                // sendAll deadline bounds it).
            } catch (ExecutionException e) {
                return e.getCause();
            }
        }
    }

    /** The batch's outputs are acknowledged: it is done. */
    void acknowledged(InFlight batch) {
        counters.produced.add(batch.outputs());
        done(batch.records());
    }

    /**
     * Handles a batch synchronously (or, after a failure, its records one by one) until done or given
     * up: the path of retries, with nothing else of the partition in flight.
     *
     * @param attempt the attempt this is for these records, 1 for the first
     * @param failure how attempt {@code attempt} already failed, or null to make it now
     * @return false if the partition must stop taking batches (stopped, abandoned, revoked while retrying)
     */
    boolean process(List<ConsumerRecord<byte[], byte[]>> batch, int attempt, Throwable failure) {
        // Kafka's failures are counted apart from the record's own: an outage must not use up the
        // retries a record has for its own failures, nor the other way round.
        int transientRetries = 0;
        while (true) {
            if (failure == null) {
                failure = attempt(batch);
                if (failure == null) {
                    done(batch);
                    return true;
                }
            }
            if (failure == ABANDONED || scope.abandoned()) {
                return false;
            }
            if (failure instanceof Error || failure instanceof ProducerClosed) {
                return stop(batch.get(0), attempt, failure instanceof ProducerClosed ? failure.getCause() : failure);
            }
            Throwable cause = failure instanceof OutputFailed ? failure.getCause() : failure;
            if (failure instanceof OutputFailed && isTransient(cause)) {
                if (transientRetries >= settings.retries()) {
                    // Kafka unreachable or slow for longer than the retries: no record is at fault, so
                    // no record may be skipped or dead-lettered for it. Stop; a restart resumes here.
                    // Report the tries used, which point at Kafka, not the record's own attempts.
                    return stop(batch.get(0), attempt + transientRetries, cause);
                }
                transientRetries++;
                counters.retries.increment();
                LOG.debug("{}: retry {} of offset {} after {}", partition, transientRetries, batch.get(0).offset(), cause.toString());
                if (!pause(settings.backoff().delay(transientRetries))) {
                    return false;
                }
                failure = null;
                continue;
            }
            if (batch.size() > 1) {
                // Isolate the failing record: the ones before it complete, it alone meets the policy.
                // Each starts at attempt 2 (its try inside the batch), whatever retries the batch had
                // for transient failures: those were not the record's.
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    if (scope.winding() || !process(List.of(r), 2, null)) {
                        return false;
                    }
                }
                return true;
            }
            if (outputRejected || settings.isNonRetryable(cause) || attempt > settings.retries()) {
                return terminal(batch.get(0), attempt, cause);
            }
            counters.retries.increment();
            LOG.debug("{}: retry {} of offset {} after {}", partition, attempt, batch.get(0).offset(), cause.toString());
            if (!pause(settings.backoff().delay(attempt))) {
                return false;
            }
            attempt++;
            failure = null;
        }
    }

    /** @return null on success, {@link #ABANDONED}, or the (unwrapped) failure */
    private Throwable attempt(List<ConsumerRecord<byte[], byte[]>> batch) {
        InFlight handled;
        try {
            handled = handleAndSend(batch);
        } catch (Throwable t) {
            return abandonedOr(t);
        }
        Throwable failure = await(handled.acked());
        if (failure != null) {
            return failure == ABANDONED ? ABANDONED : new OutputFailed(failure);
        }
        counters.produced.add(handled.outputs());
        return null;
    }

    /**
     * Whether an acknowledgement failure is the infrastructure's rather than a record's. Only what a
     * record's own bytes can cause (too large, invalid, not serializable, or a failure the user listed
     * as non-retryable) is the record's; every other acknowledgement failure (not acknowledged in
     * time, broker unreachable, leader moved, authorization, the producer closing) is Kafka's: retried
     * as a whole batch, then STOP, and never SKIP or DEAD_LETTER. Exceptions a handler throws are the
     * handler's and meet the policy like any other.
     */
    private boolean isTransient(Throwable failure) {
        return !(failure instanceof RecordTooLargeException || failure instanceof InvalidRecordException
                || failure instanceof SerializationException || settings.isNonRetryable(failure));
    }

    private void done(List<ConsumerRecord<byte[], byte[]>> records) {
        scope.done(records);
        counters.processed.add(records.size());
    }

    private boolean terminal(ConsumerRecord<byte[], byte[]> record, int attempts, Throwable failure) {
        FailurePolicy policy = settings.policy();
        if (policy == FailurePolicy.SKIP) {
            LOG.warn("{}: skipping offset {} after {} attempts: {}", partition, record.offset(), attempts, failure.toString());
            counters.skipped.increment();
            done(List.of(record));
            return true;
        }
        if (policy == FailurePolicy.DEAD_LETTER) {
            return deadLetter(record, attempts, failure);
        }
        return stop(record, attempts, failure);
    }

    /**
     * The dead letter gets the same retries as the record had for transient Kafka failures; if it
     * still cannot be written (or is refused: too large for a slot), the processor stops rather than
     * move past a record that is nowhere.
     */
    private boolean deadLetter(ConsumerRecord<byte[], byte[]> record, int attempts, Throwable failure) {
        ProducerRecord<byte[], byte[]> letter = DeadLetters.of(settings.deadLetterTopic(), record, attempts, failure);
        for (int tries = 1; ; tries++) {
            Outputs.Sent sent = settings.outputs().sendAll(List.of(letter), settings.outputTimeout());
            if (sent instanceof Outputs.Refused refused) {
                return stop(record, attempts, failure, refused.why()); // trying again cannot help
            }
            if (sent instanceof Outputs.Closed closed) {
                return stop(record, attempts, failure, closed.why());
            }
            Throwable dlqFailure = await(((Outputs.Accepted) sent).acked());
            if (dlqFailure == null) {
                LOG.warn("{}: offset {} sent to dead-letter topic {} after {} attempts: {}", partition,
                        record.offset(), settings.deadLetterTopic(), attempts, failure.toString());
                counters.deadLettered.increment();
                done(List.of(record));
                return true;
            }
            if (dlqFailure == ABANDONED) {
                return false;
            }
            if (!isTransient(dlqFailure) || tries > settings.retries()) {
                return stop(record, attempts, failure, dlqFailure);
            }
            if (!pause(settings.backoff().delay(tries))) {
                return false; // revoked or closing: the record stays uncommitted
            }
        }
    }

    /** Stops the processor at this record: @return false (the partition takes no more batches) */
    boolean stop(ConsumerRecord<byte[], byte[]> record, int attempts, Throwable failure) {
        return stop(record, attempts, failure, null);
    }

    /** @param alsoFailed a second failure to report with it (the dead letter's), or null */
    private boolean stop(ConsumerRecord<byte[], byte[]> record, int attempts, Throwable failure, Throwable alsoFailed) {
        if (scope.abandoned()) {
            return false; // an abandoned task: the partition is not ours to stop the processor for
        }
        ProcessingException e = new ProcessingException(partition, record.offset(), attempts, failure);
        if (alsoFailed != null) {
            e.addSuppressed(alsoFailed);
        }
        scope.fail(e);
        return false;
    }

    /** Backoff: @return false if the partition was revoked, lost or the processor is stopping meanwhile */
    private boolean pause(Duration delay) {
        long until = System.nanoTime() + delay.toNanos();
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            if (scope.winding()) {
                return false;
            }
            // A flag the handler left set would make parkNanos return at once: a spin until the deadline.
            // lose() marks the scope before it interrupts, so clearing the flag here never hides it.
            if (Thread.interrupted()) {
                continue;
            }
            LockSupport.parkNanos(this, left);
        }
        return !scope.winding();
    }
}
