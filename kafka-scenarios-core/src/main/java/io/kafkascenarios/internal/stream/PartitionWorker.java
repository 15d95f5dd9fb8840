package io.kafkascenarios.internal.stream;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
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
 * {@link #completed()} move past it. A failed batch is split and its records tried one by one, so a
 * poison record is isolated and the records before it still complete.
 *
 * <p>Threads: {@link #enqueue}, {@link #revoke}, {@link #lose} and the {@code committed}/{@code lag}/
 * {@code paused} fields belong to the poll thread; {@link #run} to a worker thread; the getters may be
 * read from any thread.
 */
public final class PartitionWorker implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamProcessor.class);
    /** Returned by an attempt that was abandoned (partition lost, processor closing): not a failure. */
    private static final Throwable ABANDONED = new Throwable("abandoned", null, false, false) { };

    private final TopicPartition partition;
    private final StreamSettings settings;
    private final StreamCounters counters;
    private final PollLoop loop;
    private final Executor executor;
    private final ConcurrentLinkedQueue<ConsumerRecord<byte[], byte[]>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    /** The next offset to commit: every record before it is done. -1 until the first batch is done. */
    private volatile long completed = -1;
    private volatile boolean revoked;
    private volatile boolean lost;
    private volatile Thread runner;
    private boolean outputRejected;
    /** The last offset committed for this partition, -1 if none by this instance. Poll thread writes. */
    volatile long committed = -1;
    /** The consumer's lag for this partition, -1 if unknown. Poll thread writes. */
    volatile long lag = -1;
    /** Whether the poll thread paused this partition. Poll thread writes. */
    volatile boolean paused;

    PartitionWorker(TopicPartition partition, StreamSettings settings, StreamCounters counters, PollLoop loop,
                    Executor executor) {
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

    /** @return the consumer's lag, or -1 if unknown */
    public long lag() {
        return lag;
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
        queue.addAll(records);
        queued.addAndGet(records.size());
        schedule();
    }

    private void schedule() {
        if (!revoked && !lost && scheduled.compareAndSet(false, true)) {
            try {
                executor.execute(this);
            } catch (RejectedExecutionException shutDown) {
                scheduled.set(false);
                stopped.complete(null);
            }
        }
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
        LockSupport.unpark(runner);
        return stopped;
    }

    /** Poll thread: the partition is gone (lost, or the revoke wait ran out): abandon what is in progress. */
    void lose() {
        lost = true;
        revoke();
        Thread t = runner;
        if (t != null) {
            t.interrupt();
        }
    }

    @Override
    public void run() {
        runner = Thread.currentThread();
        try {
            while (!revoked && !lost && !loop.stopping()) {
                List<ConsumerRecord<byte[], byte[]>> batch = take();
                if (batch.isEmpty() || !process(batch, 1)) {
                    break;
                }
            }
        } catch (Throwable t) {
            // A bug of ours, not the handler's (those are caught per attempt): stop loudly, never a zombie.
            loop.fail(new ProcessingException(partition, completed, 0, t));
        } finally {
            runner = null;
            Thread.interrupted(); // a lose() that raced the end of the batch must not hit the next task
            scheduled.set(false);
            if (revoked || lost || loop.stopping()) {
                stopped.complete(null);
            } else if (!queue.isEmpty()) {
                schedule();
            }
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> take() {
        List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>(Math.min(queued.get(), settings.maxBatch()));
        ConsumerRecord<byte[], byte[]> r;
        while (batch.size() < settings.maxBatch() && (r = queue.poll()) != null) {
            batch.add(r);
        }
        queued.addAndGet(-batch.size());
        return batch;
    }

    /**
     * Handles a batch (or, after a failure, its records one by one) until done or given up.
     *
     * @param attempt the attempt this is for these records, 1 for the first
     * @return false if the partition must stop taking batches (stopped, abandoned, revoked while retrying)
     */
    private boolean process(List<ConsumerRecord<byte[], byte[]>> batch, int attempt) {
        while (true) {
            Throwable failure = attempt(batch);
            if (failure == null) {
                done(batch);
                return true;
            }
            if (failure == ABANDONED || lost) {
                return false;
            }
            if (failure instanceof Error || failure instanceof ProducerClosed) {
                return stop(batch.get(0), attempt, failure instanceof ProducerClosed ? failure.getCause() : failure);
            }
            if (batch.size() > 1) {
                // Isolate the failing record: the ones before it complete, it alone meets the policy.
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    if (!process(List.of(r), attempt + 1)) {
                        return false;
                    }
                }
                return true;
            }
            if (outputRejected || settings.isNonRetryable(failure) || attempt > settings.retries()) {
                return terminal(batch.get(0), attempt, failure);
            }
            counters.retries.increment();
            LOG.debug("{}: retry {} of offset {} after {}", partition, attempt, batch.get(0).offset(), failure.toString());
            if (!pause(settings.backoff().delay(attempt))) {
                return false;
            }
            attempt++;
        }
    }

    /** @return null on success, {@link #ABANDONED}, or the (unwrapped) failure */
    private Throwable attempt(List<ConsumerRecord<byte[], byte[]>> batch) {
        outputRejected = false;
        try {
            List<ProducerRecord<byte[], byte[]>> outputs = settings.handler().handle(batch);
            if (lost || loop.abandoning()) {
                return ABANDONED;
            }
            if (outputs != null && !outputs.isEmpty()) {
                send(outputs).get();
                counters.produced.add(outputs.size());
            }
            return null;
        } catch (InterruptedException e) {
            return lost || loop.abandoning() ? ABANDONED : e;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Throwable t) {
            return t;
        }
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
                failure.addSuppressed(e);
            } catch (ExecutionException e) {
                failure.addSuppressed(e.getCause());
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
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
        headers.add(StreamProcessor.HEADER_ERROR_MESSAGE, utf8(String.valueOf(failure.getMessage())));
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
        loop.fail(new ProcessingException(partition, record.offset(), attempts, failure));
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

    /** The producer was closed under the processor: nothing can be produced any more. */
    private static final class ProducerClosed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ProducerClosed(IllegalStateException cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }
}
