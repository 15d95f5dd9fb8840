package io.kafkascenarios.internal.stream;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.ProcessingException;
import io.kafkascenarios.stream.StreamProcessor;

/**
 * One assigned partition: its queue of fetched records and the in-order handling of them. Runs as a
 * task on the processor's worker pool while it has work, so a partition is never handled on two
 * threads at once and an idle partition holds no thread.
 *
 * <p>A batch is done when the handler returned and every output is acknowledged; only then does
 * {@link #completed()} move past it, batches completing strictly in offset order. Batches are pipelined:
 * the worker handles the next batch while up to {@code maxInFlightBatches} earlier ones wait for their
 * acknowledgements, so that the producer's {@code linger.ms} and the round trip overlap with handling.
 * On any failure the worker first lets everything in flight settle, then goes synchronous: a failed
 * batch is retried, then split and its records tried one by one, so a poison record is isolated and
 * the records before it still complete. A failed acknowledgement redoes its batch and every later one
 * in flight, in order.
 *
 * <p>Threads: {@link #enqueue}, {@link #revoke}, {@link #lose} and the {@code committed}/{@code lag}/
 * {@code paused} fields belong to the poll thread; {@link #run} to a worker thread; the getters may be
 * read from any thread.
 */
public final class PartitionWorker implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamProcessor.class);
    /** Returned by an attempt that was abandoned (partition lost, processor closing): not a failure. */
    private static final Throwable ABANDONED = new Throwable("abandoned", null, false, false) { };
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    /** Characters of the failure's message kept in the dead letter's header. */
    private static final int MAX_ERROR_MESSAGE = 500;

    private final TopicPartition partition;
    private final StreamSettings settings;
    private final StreamCounters counters;
    private final PollLoop loop;
    private final ThreadPoolExecutor executor;
    private final ConcurrentLinkedQueue<ConsumerRecord<byte[], byte[]>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    /** The next offset to commit: every record before it is done. -1 until the first batch is done. */
    private volatile long completed = -1;
    private volatile boolean revoked;
    private volatile boolean lost;
    /** The thread running this worker's task; guarded by {@code this} so that lose() never interrupts its next task. */
    private Thread runner;
    private boolean outputRejected;
    /** Batches handled whose outputs are not yet all acknowledged, oldest first. Worker thread only. */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    /** Set before the first enqueue (poll thread), read by whoever schedules. */
    private volatile CompletableFuture<Void> predecessor;
    private volatile long followingSinceNanos;
    /** The last offset committed for this partition, -1 if none by this instance. Poll thread writes. */
    volatile long committed = -1;
    /** Records after what is completed up to the partition's end, -1 if unknown. Poll thread writes. */
    volatile long lag = -1;
    /** The first offset fetched, -1 before any. Poll thread. */
    private long firstFetched = -1;
    /** One past the last offset fetched, -1 before any. Poll thread. */
    private long fetchedUpTo = -1;
    /** Whether the poll thread paused this partition. Poll thread writes. */
    volatile boolean paused;

    PartitionWorker(TopicPartition partition, StreamSettings settings, StreamCounters counters, PollLoop loop,
                    ThreadPoolExecutor executor) {
        this.partition = partition;
        this.settings = settings;
        this.counters = counters;
        this.loop = loop;
        this.executor = executor;
    }

    /** @return the partition */
    public TopicPartition partition() {
        return partition;
    }

    /** @return the next offset to commit, or -1 if nothing is done yet */
    public long completed() {
        return completed;
    }

    /** @return last committed offset by this instance, or -1 */
    public long committed() {
        return committed;
    }

    /** @return records after what is completed up to the partition's end, or -1 if unknown */
    public long lag() {
        return lag;
    }

    /**
     * Poll thread: the lag is what was fetched and is not done yet, plus what is not fetched yet.
     *
     * @param fetchLag the consumer's lag (end offset minus fetch position), or -1 if unknown
     */
    void updateLag(long fetchLag) {
        if (fetchLag < 0) {
            lag = -1;
            return;
        }
        long done = completed;
        long backlog = fetchedUpTo < 0 ? 0 : fetchedUpTo - (done >= 0 ? done : firstFetched);
        lag = fetchLag + Math.max(0, backlog);
    }

    /** @return records fetched and not yet handled */
    public int queued() {
        return queued.get();
    }

    /** @return whether fetching is paused for backpressure */
    public boolean paused() {
        return paused;
    }

    /** Poll thread: hands fetched records over, in offset order. */
    void enqueue(List<ConsumerRecord<byte[], byte[]>> records) {
        if (firstFetched < 0) {
            firstFetched = records.get(0).offset();
        }
        fetchedUpTo = records.get(records.size() - 1).offset() + 1;
        queued.addAndGet(records.size()); // before the records are visible: a running task may take them at once
        queue.addAll(records);
        schedule();
    }

    private void schedule() {
        if (!revoked && !lost && predecessorDone() && scheduled.compareAndSet(false, true)) {
            submit();
        }
    }

    /** Queues this task (scheduled is already true). */
    private void submit() {
        try {
            executor.execute(this);
        } catch (RejectedExecutionException shutDown) {
            dropped();
        }
    }

    /** The pool shut down with this task queued and not started: nothing is in progress. Any thread. */
    void dropped() {
        scheduled.set(false);
        stopped.complete(null);
    }

    /**
     * Poll thread, before the first {@link #enqueue}: the worker this instance had for the same partition
     * before (revoked, then assigned back) and that may still be finishing; this one starts only after
     * it stopped, so a partition is never handled on two threads.
     */
    void follow(PartitionWorker previous) {
        followingSinceNanos = System.nanoTime();
        predecessor = previous.quiescent();
        predecessor.whenComplete((v, e) -> schedule());
    }

    /**
     * @param limitNanos how long a predecessor may take
     * @return true if this worker has waited longer than that for its predecessor's handler to return
     */
    boolean stuckBehindPredecessor(long limitNanos) {
        CompletableFuture<Void> p = predecessor;
        return p != null && !p.isDone() && System.nanoTime() - followingSinceNanos > limitNanos;
    }

    /**
     * @return completes once neither this worker nor any predecessor it follows runs: what a later
     *         worker for the partition must wait for (this one may be stopped without ever having run
     *         while its predecessor still does)
     */
    CompletableFuture<Void> quiescent() {
        CompletableFuture<Void> p = predecessor;
        return p == null ? stopped : CompletableFuture.allOf(stopped, p);
    }

    private boolean predecessorDone() {
        CompletableFuture<Void> p = predecessor;
        return p == null || p.isDone();
    }

    /** @return completes once no task of this worker runs or will run */
    CompletableFuture<Void> stopped() {
        return stopped;
    }

    /**
     * Poll thread: take no new batch; the batch in progress finishes (its outputs are awaited).
     *
     * @return completes when no batch is in progress any more
     */
    CompletableFuture<Void> revoke() {
        revoked = true;
        // Idle (not scheduled): claim it so no run starts, and report it stopped. Otherwise the
        // running task reports when it exits (it re-reads the flag after clearing scheduled).
        if (scheduled.compareAndSet(false, true)) {
            scheduled.set(false);
            stopped.complete(null);
        }
        synchronized (this) {
            LockSupport.unpark(runner);
        }
        return stopped;
    }

    /** Poll thread: the partition is gone (lost, or the revoke wait ran out): abandon what is in progress. */
    void lose() {
        lost = true;
        revoke();
        synchronized (this) {
            if (runner != null) {
                runner.interrupt();
            }
        }
    }

    @Override
    public void run() {
        synchronized (this) {
            runner = Thread.currentThread();
        }
        boolean yielded = false;
        try {
            boolean go = true;
            while (go && !revoked && !lost && !loop.stopping()) {
                go = settle(false);
                if (!go) {
                    break;
                }
                if (inFlight.size() >= settings.maxInFlightBatches()) {
                    go = settle(true);
                    continue;
                }
                List<ConsumerRecord<byte[], byte[]>> batch = take();
                if (batch.isEmpty()) {
                    break;
                }
                go = dispatch(batch);
                if (go && !revoked && !loop.stopping() && !executor.getQueue().isEmpty()) {
                    // Other partitions wait for a thread: one batch per turn, so that more busy partitions
                    // than threads all progress. What is in flight stays in flight across turns.
                    yielded = true;
                    break;
                }
            }
            // Revoked, closing, or out of records: what is in flight is finished before the partition is
            // released (a lost partition or an abandoned close drops it instead).
            while (!yielded && go && !inFlight.isEmpty() && !lost && !loop.abandoning()) {
                go = settle(true);
            }
        } catch (Throwable t) {
            // A bug of ours, not the handler's (those are caught per attempt): stop loudly, never a zombie.
            yielded = false;
            if (!lost && !loop.abandoning()) {
                loop.fail(new ProcessingException(partition, completed, 0, t));
            }
        } finally {
            synchronized (this) {
                runner = null;
                Thread.interrupted(); // a lose() just before this point must not hit this thread's next task
            }
            if (yielded && !lost) {
                // Still scheduled: back to the end of the pool's queue. A revoke or close meanwhile is
                // seen by that turn, which settles what is in flight before reporting stopped.
                submit();
            } else {
                inFlight.clear();
                scheduled.set(false);
                if (revoked || lost || loop.stopping()) {
                    stopped.complete(null);
                } else if (!queue.isEmpty()) {
                    schedule();
                }
            }
        }
    }

    /**
     * The first attempt of a batch, pipelined: handle it, send its outputs and go on to the next batch
     * without waiting for the acknowledgement ({@link #settle} completes batches in order). Any failure
     * falls back to {@link #process}, after everything in flight has settled.
     *
     * @return false if the partition must stop taking batches
     */
    private boolean dispatch(List<ConsumerRecord<byte[], byte[]>> batch) {
        InFlight handled;
        try {
            handled = handleAndSend(batch);
        } catch (Throwable t) {
            Throwable failure = abandonedOr(t);
            if (failure == ABANDONED) {
                return false;
            }
            if (failure instanceof Error) {
                // Stop now, not after settling: the batches in flight stay uncommitted and are redone.
                return stop(batch.get(0), 1, failure);
            }
            boolean rejected = outputRejected;
            outputRejected = false; // settling may run attempts of earlier batches: not theirs
            if (!settleAll()) {
                return false;
            }
            outputRejected = rejected;
            return process(batch, 1, failure);
        }
        inFlight.add(handled);
        return true;
    }

    /**
     * Runs the handler on a batch and hands its outputs to the producer: the first half of every
     * attempt, pipelined ({@link #dispatch}) or not ({@link #attempt}).
     *
     * @return the batch with the acknowledgement of its outputs
     * @throws Throwable what the handler threw (an {@code ExecutionException} unwrapped),
     *         {@link #ABANDONED}, or the producer's refusal ({@code ProducerClosed}, or bad outputs with
     *         {@code outputRejected} set)
     */
    private InFlight handleAndSend(List<ConsumerRecord<byte[], byte[]>> batch) throws Throwable {
        outputRejected = false;
        List<ProducerRecord<byte[], byte[]>> outputs;
        try {
            outputs = settings.handler().handle(batch);
        } catch (ExecutionException e) {
            throw e.getCause();
        }
        if (lost || loop.abandoning()) {
            throw ABANDONED;
        }
        if (outputs == null || outputs.isEmpty()) {
            return new InFlight(batch, DONE, 0);
        }
        return new InFlight(batch, send(outputs), outputs.size());
    }

    /** @return {@link #ABANDONED} for any failure once the partition is lost or the close gave up, else the failure */
    private Throwable abandonedOr(Throwable failure) {
        return lost || loop.abandoning() ? ABANDONED : failure;
    }

    /**
     * Completes in-flight batches from the oldest while their outputs are acknowledged. If the oldest
     * failed, every batch in flight is redone in order after the rest settled: their outputs may be
     * produced twice (a key's outputs can read v1 v2 v1 v2), none is lost and none skips a record.
     *
     * @param wait wait for the oldest batch if it is not done yet
     * @return false if the partition must stop taking batches
     */
    private boolean settle(boolean wait) {
        InFlight head;
        while ((head = inFlight.peek()) != null && (wait || head.acked.isDone())) {
            Throwable failure = await(head.acked);
            if (failure != null && failure != ABANDONED) {
                failure = new OutputFailed(failure);
            }
            if (failure == null) {
                inFlight.poll();
                counters.produced.add(head.outputs);
                done(head.records);
                wait = false;
                continue;
            }
            if (failure == ABANDONED) {
                return false;
            }
            List<InFlight> redo = new ArrayList<>(inFlight);
            inFlight.clear();
            for (InFlight f : redo) {
                if (await(f.acked) == ABANDONED) {
                    return false;
                }
            }
            if (!process(redo.get(0).records, 1, failure)) {
                return false;
            }
            for (int i = 1; i < redo.size(); i++) {
                if (revoked || loop.stopping() || !process(redo.get(i).records, 1, null)) {
                    return false; // the rest stays uncommitted: the next turn or owner redoes it
                }
            }
            return true;
        }
        return true;
    }

    /** Waits for every batch in flight: @return false if the partition must stop */
    private boolean settleAll() {
        while (!inFlight.isEmpty()) {
            if (!settle(true)) {
                return false;
            }
        }
        return true;
    }

    /** @return null if acknowledged, {@link #ABANDONED}, or the failure */
    private Throwable await(CompletableFuture<Void> acked) {
        while (true) {
            try {
                acked.get();
                return null;
            } catch (InterruptedException e) {
                if (lost || loop.abandoning()) {
                    return ABANDONED;
                }
                // Only lose() interrupts this pool thread, and it sets lost first: anything else is
                // stray and must not fail outputs that are still on their way. Keep waiting (the
                // sendAll deadline bounds it).
            } catch (ExecutionException e) {
                return e.getCause();
            }
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> take() {
        List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>(Math.max(0, Math.min(queued.get(), settings.maxBatch())));
        ConsumerRecord<byte[], byte[]> r;
        while (batch.size() < settings.maxBatch() && (r = queue.poll()) != null) {
            batch.add(r);
        }
        queued.addAndGet(-batch.size());
        return batch;
    }

    /**
     * Handles a batch synchronously (or, after a failure, its records one by one) until done or given
     * up: the path of retries, with nothing else of the partition in flight.
     *
     * @param attempt the attempt this is for these records, 1 for the first
     * @param failure how attempt {@code attempt} already failed, or null to make it now
     * @return false if the partition must stop taking batches (stopped, abandoned, revoked while retrying)
     */
    private boolean process(List<ConsumerRecord<byte[], byte[]>> batch, int attempt, Throwable failure) {
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
            if (failure == ABANDONED || lost) {
                return false;
            }
            if (failure instanceof Error || failure instanceof ProducerClosed) {
                return stop(batch.get(0), attempt, failure instanceof ProducerClosed ? failure.getCause() : failure);
            }
            Throwable cause = failure instanceof OutputFailed ? failure.getCause() : failure;
            boolean transientOutput = failure instanceof OutputFailed && isTransient(cause);
            if (transientOutput) {
                if (transientRetries >= settings.retries()) {
                    // Kafka unreachable or slow for longer than the retries: no record is at fault, so
                    // no record may be skipped or dead-lettered for it. Stop; a restart resumes here.
                    return stop(batch.get(0), attempt, cause);
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
                    if (revoked || loop.stopping() || !process(List.of(r), 2, null)) {
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
        Throwable failure = await(handled.acked);
        if (failure != null) {
            return failure == ABANDONED ? ABANDONED : new OutputFailed(failure);
        }
        counters.produced.add(handled.outputs);
        return null;
    }

    private CompletableFuture<Void> send(List<ProducerRecord<byte[], byte[]>> outputs) {
        try {
            return settings.producer().sendAll(outputs, settings.outputTimeout());
        } catch (IllegalStateException closed) {
            throw new ProducerClosed(closed);
        } catch (IllegalArgumentException | NullPointerException bad) {
            outputRejected = true; // the same outputs would be refused again
            throw bad;
        }
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
        completed = records.get(records.size() - 1).offset() + 1;
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
            // The dead letter gets the same retries as the record had for transient Kafka failures; if
            // it still cannot be written (or is refused: too large for a slot), the processor stops
            // rather than move past a record that is nowhere.
            for (int tries = 1; ; tries++) {
                Throwable dlqFailure;
                try {
                    send(List.of(deadLetter(record, attempts, failure))).get();
                    LOG.warn("{}: offset {} sent to dead-letter topic {} after {} attempts: {}", partition,
                            record.offset(), settings.deadLetterTopic(), attempts, failure.toString());
                    counters.deadLettered.increment();
                    done(List.of(record));
                    return true;
                } catch (InterruptedException e) {
                    if (lost || loop.abandoning()) {
                        return false;
                    }
                    dlqFailure = e;
                } catch (ExecutionException e) {
                    dlqFailure = e.getCause();
                } catch (RuntimeException refused) {
                    // The producer refused it (closed, or too large for a slot): trying again cannot help.
                    return stop(record, attempts, failure, refused instanceof ProducerClosed ? refused.getCause() : refused);
                }
                if (!isTransient(dlqFailure) || tries > settings.retries()) {
                    return stop(record, attempts, failure, dlqFailure);
                }
                if (!pause(settings.backoff().delay(tries))) {
                    return false; // revoked or closing: the record stays uncommitted
                }
            }
        }
        return stop(record, attempts, failure);
    }

    private ProducerRecord<byte[], byte[]> deadLetter(ConsumerRecord<byte[], byte[]> record, int attempts, Throwable failure) {
        RecordHeaders headers = new RecordHeaders();
        for (Header h : record.headers()) {
            headers.add(h);
        }
        headers.add(StreamProcessor.HEADER_ERROR_CLASS, utf8(failure.getClass().getName()));
        String message = String.valueOf(failure.getMessage());
        // Bounded: a message quoting the record could make the dead letter too large for a slot.
        headers.add(StreamProcessor.HEADER_ERROR_MESSAGE, utf8(message.length() > MAX_ERROR_MESSAGE
                ? message.substring(0, MAX_ERROR_MESSAGE) + "..." : message));
        headers.add(StreamProcessor.HEADER_ORIGINAL_TOPIC, utf8(record.topic()));
        headers.add(StreamProcessor.HEADER_ORIGINAL_PARTITION, utf8(Integer.toString(record.partition())));
        headers.add(StreamProcessor.HEADER_ORIGINAL_OFFSET, utf8(Long.toString(record.offset())));
        headers.add(StreamProcessor.HEADER_ATTEMPTS, utf8(Integer.toString(attempts)));
        return new ProducerRecord<>(settings.deadLetterTopic(), null, record.key(), record.value(), headers);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private boolean stop(ConsumerRecord<byte[], byte[]> record, int attempts, Throwable failure) {
        return stop(record, attempts, failure, null);
    }

    /** @param alsoFailed a second failure to report with it (the dead letter's), or null */
    private boolean stop(ConsumerRecord<byte[], byte[]> record, int attempts, Throwable failure, Throwable alsoFailed) {
        if (lost || loop.abandoning()) {
            return false; // an abandoned task: the partition is not ours to stop the processor for
        }
        ProcessingException e = new ProcessingException(partition, record.offset(), attempts, failure);
        if (alsoFailed != null) {
            e.addSuppressed(alsoFailed);
        }
        loop.fail(e);
        return false;
    }

    /** Backoff: @return false if the partition was revoked, lost or the processor is stopping meanwhile */
    private boolean pause(Duration delay) {
        long until = System.nanoTime() + delay.toNanos();
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            if (revoked || lost || loop.stopping()) {
                return false;
            }
            LockSupport.parkNanos(this, left);
        }
        return !(revoked || lost || loop.stopping());
    }

    /** The outputs' acknowledgement failed with the cause: Kafka's side, not the handler's. */
    private static final class OutputFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OutputFailed(Throwable cause) {
            super(cause.toString(), cause, false, false);
        }
    }

    /** A batch handled, with the acknowledgement of its outputs. */
    private record InFlight(List<ConsumerRecord<byte[], byte[]>> records, CompletableFuture<Void> acked, int outputs) {
    }

    /** The producer was closed under the processor: nothing can be produced any more. */
    private static final class ProducerClosed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ProducerClosed(IllegalStateException cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }
}
