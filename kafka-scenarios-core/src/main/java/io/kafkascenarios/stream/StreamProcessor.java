package io.kafkascenarios.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.LoggerFactory;

import io.kafkascenarios.KafkaClientListener;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.internal.ClientGenerations;
import io.kafkascenarios.internal.stream.AssignedPartition;
import io.kafkascenarios.internal.stream.DeadLetters;
import io.kafkascenarios.internal.stream.Outputs;
import io.kafkascenarios.internal.stream.PartitionProgress;
import io.kafkascenarios.internal.stream.PollLoop;
import io.kafkascenarios.internal.stream.StreamCounters;
import io.kafkascenarios.internal.stream.StreamSettings;

/**
 * Consumes topics, hands each partition's records in order to a handler, produces the handler's
 * outputs through a {@link RingProducer}, and commits an input offset only once the handler succeeded
 * for every record up to it and all their outputs were acknowledged by Kafka: at-least-once, with
 * crash-and-resume from the last checkpoint.
 *
 * <pre>{@code
 * try (RingProducer out = RingProducer.builder(producerConfig).build()) {
 *     StreamProcessor p = StreamProcessor.builder(consumerConfig, out)    // group.id required
 *             .topics("orders")
 *             .recordHandler(r -> List.of(new ProducerRecord<>("orders-enriched", r.key(), enrich(r.value()))))
 *             .retries(3)
 *             .onFailure(FailurePolicy.DEAD_LETTER).deadLetterTopic("orders-dlq")
 *             .start();
 *     ...
 *     p.close(Duration.ofSeconds(30));      // finishes in-flight batches, commits, leaves the group
 * }
 * }</pre>
 *
 * <p>How it runs:
 * <ul>
 *   <li><b>Threads and ordering.</b> One poll thread owns the {@code KafkaConsumer} and never runs user
 *       code other than rebalance bookkeeping. With {@link Ordering#PARTITION} (the default) each
 *       assigned partition is handled in offset order on a pool of {@link Builder#maxConcurrency}
 *       threads, different partitions in parallel; while a batch's outputs await acknowledgement the
 *       partition's next batches are handled and sent (up to {@link Builder#maxInFlightBatches}),
 *       batches complete strictly in offset order, and any failure makes the partition settle what is
 *       in flight and go one batch at a time. With {@link Ordering#KEY} one partition's keys are
 *       handled concurrently (a key's records in offset order, one call at a time per key), with
 *       {@link Ordering#UNORDERED} any of its records; at most {@link Builder#maxConcurrency} calls at
 *       once across the processor, on its pool or on the {@link Builder#executor} given.
 *       Acknowledgements are settled on one settler thread, never on Kafka's I/O thread.</li>
   <li><b>Backpressure.</b> A partition holding {@link Builder#maxQueuedPerPartition} records, or any
 *       partition holding records while the processor holds {@link Builder#maxQueuedPerProcessor}, is
 *       paused and resumed when half drained; {@code poll()} keeps running, so a slow handler never
 *       exceeds {@code max.poll.interval.ms} and never causes a rebalance. A partition that holds
 *       records without progress for {@link Builder#stallTimeout} shows in
 *       {@link ProcessorHealth#stalled()}.</li>
 *   <li><b>Checkpoints.</b> Per partition, the offset after the contiguous prefix of records that are
 *       done (in any ordering: a record done early never lets the checkpoint pass one still running) is
 *       committed every {@link Builder#commitInterval}, on revoke and on close.</li>
 *   <li><b>Failures.</b> A failed batch is retried up to {@link Builder#retries} times with
 *       {@link Builder#backoff}; a failing batch of several records is split and its records tried one
 *       by one, so a poison record alone meets the {@link FailurePolicy}. Failures in
 *       {@link Builder#nonRetryable} skip the retries. A {@link java.lang.Error} from a handler stops
 *       the processor at once.</li>
 *   <li><b>Rebalances.</b> On revoke: stop feeding the partitions, wait up to
 *       {@link Builder#revokeTimeout} for their in-flight batch, commit what is done, release. On lost:
 *       drop in-flight work, commit nothing. Works with the cooperative-sticky assignor (the default
 *       here for the classic protocol) and with {@code group.protocol=consumer}.</li>
 * </ul>
 * Outputs can be produced twice, never lost: those of a batch that was retried, of the batches
 * in flight after it when its outputs failed (so a key's outputs can read v1 v2 v1 v2), of the
 * records before a poison record when a failed batch is split, and of records reprocessed after a
 * crash or a lost partition. The processor does not own the producer: close the
 * processor first, then the producer.
 *
 * <p>Threads: build, start, close and read health from any thread.
 */
public final class StreamProcessor implements AutoCloseable {
    /** Dead-letter header: the class name of the failure. */
    public static final String HEADER_ERROR_CLASS = DeadLetters.ERROR_CLASS;
    /** Dead-letter header: the failure's message. */
    public static final String HEADER_ERROR_MESSAGE = DeadLetters.ERROR_MESSAGE;
    /** Dead-letter header: the input record's topic. */
    public static final String HEADER_ORIGINAL_TOPIC = DeadLetters.ORIGINAL_TOPIC;
    /** Dead-letter header: the input record's partition, as a decimal string. */
    public static final String HEADER_ORIGINAL_PARTITION = DeadLetters.ORIGINAL_PARTITION;
    /** Dead-letter header: the input record's offset, as a decimal string. */
    public static final String HEADER_ORIGINAL_OFFSET = DeadLetters.ORIGINAL_OFFSET;
    /** Dead-letter header: how many times the record was tried, as a decimal string. */
    public static final String HEADER_ATTEMPTS = DeadLetters.ATTEMPTS;
    /** The deadline {@link #close()} uses. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final Duration MAX_CLOSE_WAIT = Duration.ofDays(365);

    private final PollLoop loop;
    private final StreamCounters counters;
    private final Thread pollThread;
    private final Duration stallTimeout;
    private final String name;

    private StreamProcessor(StreamSettings settings) {
        this.counters = new StreamCounters();
        this.stallTimeout = settings.stallTimeout();
        this.name = settings.name();
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings.consumerConfig());
        if (settings.clientListener() != null) {
            try {
                settings.clientListener().consumerCreated(consumer, ClientGenerations.clientIdOf(consumer.metrics()));
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(StreamProcessor.class).warn("{}: the KafkaClientListener threw; ignored: {}",
                        settings.name(), e.toString(), e);
            }
        }
        this.loop = new PollLoop(settings, counters, consumer);
        this.pollThread = settings.threadFactory().newThread(loop);
        pollThread.setName(settings.name() + "-poll");
        pollThread.start();
    }

    /**
     * @param consumerConfig Kafka consumer configuration: {@code bootstrap.servers} and {@code group.id}
     *                       required; deserializers are bytes (other deserializers are refused);
     *                       {@code enable.auto.commit=true} is refused; {@code auto.offset.reset}
     *                       defaults to {@code earliest} (not Kafka's {@code latest}: a partition
     *                       nobody committed yet is read from its start, so a first owner that
     *                       crashed before its first commit loses nothing)
     * @param producer where outputs (and dead letters) go; not closed by the processor
     * @return a builder
     */
    public static Builder builder(Map<String, Object> consumerConfig, RingProducer producer) {
        return new Builder(consumerConfig, producer);
    }

    /** @return this processor's name ({@link Builder#name}), for metrics, threads and logs */
    public String name() {
        return name;
    }

    /**
     * @param partition an input partition
     * @return its health now if it is assigned to this instance, else null: one partition's figures
     *         without the whole snapshot (what a per-partition gauge reads)
     */
    public PartitionHealth partitionHealth(TopicPartition partition) {
        long now = System.nanoTime();
        for (AssignedPartition w : loop.partitions()) {
            if (w.partition().equals(partition)) {
                PartitionProgress p = w.progress();
                return new PartitionHealth(p.completed(), p.committed(), p.lag(), w.queued(), p.paused(),
                        Duration.ofNanos(p.stalledNanos(now)));
            }
        }
        return null;
    }

    /**
     * @return a snapshot of state, failure, per-partition progress and counters. Allocates; call it
     *         from a health endpoint, not per record.
     */
    public ProcessorHealth health() {
        Map<TopicPartition, PartitionHealth> parts = new HashMap<>();
        Map<TopicPartition, Duration> stalled = new HashMap<>();
        long now = System.nanoTime();
        for (AssignedPartition w : loop.partitions()) {
            PartitionProgress p = w.progress();
            Duration stalledFor = Duration.ofNanos(p.stalledNanos(now));
            parts.put(w.partition(), new PartitionHealth(p.completed(), p.committed(), p.lag(), w.queued(), p.paused(),
                    stalledFor));
            if (stalledFor.compareTo(stallTimeout) >= 0) {
                stalled.put(w.partition(), stalledFor);
            }
        }
        CompletableFuture<Void> t = loop.termination();
        ProcessorHealth.State state = !t.isDone() ? (loop.stopping() ? ProcessorHealth.State.STOPPING : ProcessorHealth.State.RUNNING)
                : t.isCompletedExceptionally() ? ProcessorHealth.State.FAILED : ProcessorHealth.State.CLOSED;
        return new ProcessorHealth(state, Optional.ofNullable(loop.failure()), Map.copyOf(parts),
                counters.processed.sum(), counters.produced.sum(), counters.retries.sum(),
                counters.deadLettered.sum(), counters.skipped.sum(), counters.revocations.sum(), Map.copyOf(stalled));
    }

    /**
     * @return a future that completes normally once the processor is closed, or exceptionally with why it
     *         stopped: a {@link ProcessingException} (retries spent under {@link FailurePolicy#STOP}, or an
     *         {@code Error} from a handler) or the consumer's own failure. Completing the returned
     *         future does not affect the processor.
     */
    public CompletableFuture<Void> termination() {
        return loop.termination().copy();
    }

    /**
     * Stops consuming, lets in-flight batches finish (their outputs acknowledged) for up to the smaller
     * of {@code timeout} and {@link Builder#revokeTimeout} (longer would let the group expel this member
     * while it still works), commits every completed offset, and closes the consumer (leaving the
     * group). Batches still running then are abandoned uncommitted: the next owner reprocesses them.
     * Idempotent. If it returns false, the final commit and leaving the group go on in the background.
     *
     * @param timeout how long to wait
     * @return true if the processor terminated within the timeout (cleanly or with a failure it had before)
     */
    public boolean close(Duration timeout) {
        // Saturated: close(Duration.ofDays(100_000)) means "as long as it takes", not an overflow.
        long nanos = timeout.compareTo(MAX_CLOSE_WAIT) > 0 ? MAX_CLOSE_WAIT.toNanos() : Math.max(0, timeout.toNanos());
        long deadline = System.nanoTime() + nanos;
        loop.close(deadline);
        try {
            loop.termination().get(Math.max(0, deadline - System.nanoTime()) + TimeUnit.SECONDS.toNanos(1),
                    TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException failedBefore) {
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Closes with {@link #DEFAULT_CLOSE_TIMEOUT}. */
    @Override
    public void close() {
        close(DEFAULT_CLOSE_TIMEOUT);
    }

    /**
     * Configures a {@link StreamProcessor}. Not thread-safe; use it on one thread, then {@link #start()}.
     */
    public static final class Builder {
        private final Map<String, Object> consumerConfig;
        private final RingProducer producer;
        private List<String> topics;
        private Pattern pattern;
        private BatchHandler handler;
        private AsyncBatchHandler asyncHandler;
        private int retries = 3;
        private Backoff backoff = Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5));
        private FailurePolicy policy = FailurePolicy.STOP;
        private String deadLetterTopic;
        private final Set<Class<? extends Throwable>> nonRetryable = new LinkedHashSet<>(
                List.of(SerializationException.class, RecordTooLargeException.class));
        private Ordering ordering = Ordering.PARTITION;
        private int maxConcurrency = 8;
        private Executor executor;
        private int maxBatch = 500;
        private int maxQueued = 2000;
        private int maxQueuedTotal = 20_000;
        private Duration stallTimeout = Duration.ofMinutes(1);
        private KafkaClientListener clientListener;
        private ConsumerRebalanceListener rebalanceListener;
        private int maxInFlightBatches = 4;
        private Duration commitInterval = Duration.ofMillis(200);
        private Duration pollTimeout = Duration.ofMillis(100);
        private Duration revokeTimeout = Duration.ofSeconds(15);
        private Duration outputTimeout = Duration.ofSeconds(60);
        private Duration handlerTimeout = Duration.ofSeconds(60);
        private ThreadFactory threadFactory;
        private String name;

        private Builder(Map<String, Object> consumerConfig, RingProducer producer) {
            this.consumerConfig = new HashMap<>(Objects.requireNonNull(consumerConfig, "consumerConfig"));
            this.producer = Objects.requireNonNull(producer, "producer");
        }

        /** @param topics the topics to consume @return this */
        public Builder topics(String... topics) {
            return topics(List.of(topics));
        }

        /** @param topics the topics to consume @return this */
        public Builder topics(Collection<String> topics) {
            if (topics.isEmpty()) {
                throw new IllegalArgumentException("topics must not be empty");
            }
            this.topics = List.copyOf(topics);
            this.pattern = null;
            return this;
        }

        /** @param pattern consume every topic whose name matches, including ones created later @return this */
        public Builder topicPattern(Pattern pattern) {
            this.pattern = Objects.requireNonNull(pattern, "pattern");
            this.topics = null;
            return this;
        }

        /** @param handler the batch handler (exactly one handler is set) @return this */
        public Builder handler(BatchHandler handler) {
            this.handler = Objects.requireNonNull(handler, "handler");
            this.asyncHandler = null;
            return this;
        }

        /**
         * @param handler a handler that answers with a stage; its worker thread waits for the stage up to
         *                {@link #handlerTimeout}, then the attempt fails with a {@link TimeoutException}
         * @return this
         */
        public Builder asyncHandler(AsyncBatchHandler handler) {
            Objects.requireNonNull(handler, "handler");
            this.asyncHandler = handler;
            this.handler = null;
            return this;
        }

        /** @param handler a per-record handler, called in offset order @return this */
        public Builder recordHandler(RecordHandler handler) {
            Objects.requireNonNull(handler, "handler");
            this.asyncHandler = null;
            this.handler = records -> {
                List<ProducerRecord<byte[], byte[]>> outputs = new ArrayList<>(records.size());
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    List<ProducerRecord<byte[], byte[]>> out = handler.handle(r);
                    if (out != null) {
                        outputs.addAll(out);
                    }
                }
                return outputs;
            };
            return this;
        }

        /** @param retries attempts after the first, default 3; 0 for none @return this */
        public Builder retries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must be >= 0, was " + retries);
            }
            this.retries = retries;
            return this;
        }

        /** @param backoff wait before each retry, default exponential from 100 ms to 5 s @return this */
        public Builder backoff(Backoff backoff) {
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            return this;
        }

        /** @param policy what happens once a record's retries are spent, default {@link FailurePolicy#STOP} @return this */
        public Builder onFailure(FailurePolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** @param topic where {@link FailurePolicy#DEAD_LETTER} sends records (required for that policy) @return this */
        public Builder deadLetterTopic(String topic) {
            if (topic == null || topic.isBlank()) {
                throw new IllegalArgumentException("dead-letter topic must be a topic name");
            }
            this.deadLetterTopic = topic;
            return this;
        }

        /**
         * Failures retrying cannot fix: they go straight to the policy. Kafka's
         * {@code SerializationException} and {@code RecordTooLargeException} are in the set already; an
         * output the producer refuses (too large for its slot) always is.
         *
         * @param failures more failure classes (subclasses match too)
         * @return this
         */
        @SafeVarargs
        public final Builder nonRetryable(Class<? extends Throwable>... failures) {
            nonRetryable.addAll(List.of(failures));
            return this;
        }

        /**
         * @param ordering which records of a partition may be handled at once, default
         *                 {@link Ordering#PARTITION} (offset order); {@link Ordering#KEY} and
         *                 {@link Ordering#UNORDERED} handle one partition concurrently
         * @return this
         */
        public Builder ordering(Ordering ordering) {
            this.ordering = Objects.requireNonNull(ordering, "ordering");
            return this;
        }

        /**
         * @param calls handler calls at once across the processor, default 8. With
         *              {@link Ordering#PARTITION} that is partitions handled at once; with
         *              {@link Ordering#KEY} or {@link Ordering#UNORDERED}, calls of any partitions, several
         *              per partition. Without an {@link #executor}, the processor's pool has this many
         *              threads.
         * @return this
         */
        public Builder maxConcurrency(int calls) {
            this.maxConcurrency = positive("maxConcurrency", calls);
            return this;
        }

        /**
         * The same as {@link #maxConcurrency}, by its older name.
         *
         * @param threads handler threads, default 8
         * @return this
         */
        public Builder workerThreads(int threads) {
            return maxConcurrency(threads);
        }

        /**
         * Runs handler calls on this executor instead of the processor's own pool (which is then not
         * created); the processor still calls the handler at most {@link #maxConcurrency} times at once
         * in the key and unordered orderings. For I/O-bound handlers on Java 21 or later, pass
         * {@code Executors.newVirtualThreadPerTaskExecutor()} with a high {@code maxConcurrency}. The
         * executor must hand tasks to other threads (never run them in {@code execute}), must not
         * refuse them while the processor runs (a refusal stops the processor), and is not shut down by
         * the processor: close the processor first, then the executor. Calls abandoned at a lost
         * partition or a timed-out close are interrupted.
         *
         * @param executor where handler calls run
         * @return this
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** @param records most records per handler call, default 500 @return this */
        public Builder maxBatch(int records) {
            this.maxBatch = positive("maxBatch", records);
            return this;
        }

        /**
         * @param batches batches of one partition whose outputs may await acknowledgement while the next
         *                is handled, default 4; 1 handles a partition strictly one batch at a time
         * @return this
         */
        public Builder maxInFlightBatches(int batches) {
            this.maxInFlightBatches = positive("maxInFlightBatches", batches);
            return this;
        }

        /**
         * @param records records a partition may hold before it is paused (resumed at half), default
         *                2000: with {@link Ordering#PARTITION} those waiting for the handler; with the
         *                concurrent orderings every record from the commit point on, done or not, so that
         *                one slow record bounds how far its partition runs ahead (and how much a crash
         *                redoes)
         * @return this
         */
        public Builder maxQueuedPerPartition(int records) {
            this.maxQueued = positive("maxQueuedPerPartition", records);
            return this;
        }

        /**
         * @param records records all partitions together may hold (counted as for
         *                {@link #maxQueuedPerPartition}) before every partition holding records is paused,
         *                default 20,000; resumed at half. At least twice {@link #maxQueuedPerPartition}.
         * @return this
         */
        public Builder maxQueuedPerProcessor(int records) {
            this.maxQueuedTotal = positive("maxQueuedPerProcessor", records);
            return this;
        }

        /**
         * @param timeout how long a partition may hold fetched records while its commit point does not
         *                move before {@link ProcessorHealth#stalled()} lists it, default 1 minute: a handler
         *                stuck on a record, a partition paused and never resumed
         * @return this
         */
        public Builder stallTimeout(Duration timeout) {
            this.stallTimeout = positive("stallTimeout", timeout);
            return this;
        }

        /**
         * @param interval how often completed offsets are committed, default 200 ms (one async commit per
         *                 interval, only when something completed). After a crash the next owner redoes
         *                 what completed since the last commit: about {@code interval x records/s} of the
         *                 crashed instance's partitions, plus their in-flight batches.
         * @return this
         */
        public Builder commitInterval(Duration interval) {
            this.commitInterval = positive("commitInterval", interval);
            return this;
        }

        /** @param timeout the consumer's poll timeout, default 100 ms @return this */
        public Builder pollTimeout(Duration timeout) {
            this.pollTimeout = positive("pollTimeout", timeout);
            return this;
        }

        /**
         * @param timeout how long a revoke (and a failure stop) waits for in-flight batches, default 15 s;
         *                keep it well under {@code max.poll.interval.ms}
         * @return this
         */
        public Builder revokeTimeout(Duration timeout) {
            this.revokeTimeout = positive("revokeTimeout", timeout);
            return this;
        }

        /**
         * @param timeout how long a batch's outputs may take to be acknowledged, default 60 s; past it the
         *                attempt fails with a {@link io.kafkascenarios.SendTimeoutException} and is retried
         * @return this
         */
        public Builder outputTimeout(Duration timeout) {
            this.outputTimeout = positive("outputTimeout", timeout);
            return this;
        }

        /** @param timeout how long an {@link AsyncBatchHandler}'s stage may take, default 60 s @return this */
        public Builder handlerTimeout(Duration timeout) {
            this.handlerTimeout = positive("handlerTimeout", timeout);
            return this;
        }

        /** @param threadFactory makes the poll thread and the worker threads @return this */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * @param listener told when the processor's KafkaConsumer is created (in {@link #start}) and
         *                 closed (on the poll thread), e.g. to bind Kafka's client metrics. The outputs'
         *                 producers are the {@link RingProducer}'s: give it its own listener.
         * @return this
         */
        public Builder clientListener(KafkaClientListener listener) {
            this.clientListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * @param listener told of partitions assigned, revoked and lost, on the poll thread, after the
         *                 processor's own handling of them (a revoked partition's work is finished and
         *                 committed, or abandoned when lost). Keep it quick: it runs inside
         *                 {@code poll}. What it throws is logged and ignored. Not called for the
         *                 partitions a closing processor gives up.
         * @return this
         */
        public Builder rebalanceListener(ConsumerRebalanceListener listener) {
            this.rebalanceListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** @param name for thread names and log lines, default {@code stream-processor-N} @return this */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * Checks the configuration, creates the consumer and starts the poll thread.
         *
         * @return the running processor
         * @throws IllegalArgumentException if the configuration is incomplete or contradicts what the
         *         processor guarantees (the message names the key)
         */
        public StreamProcessor start() {
            if (topics == null && pattern == null) {
                throw new IllegalArgumentException("no topics: call topics(...) or topicPattern(...)");
            }
            BatchHandler h = asyncHandler != null ? awaiting(asyncHandler, handlerTimeout) : handler;
            if (h == null) {
                throw new IllegalArgumentException("no handler: call handler, asyncHandler or recordHandler");
            }
            if (maxQueuedTotal < 2L * maxQueued) {
                // One partition stuck at its limit would keep the total above half, and every other
                // partition paused, for as long as it stays stuck.
                throw new IllegalArgumentException("maxQueuedPerProcessor " + maxQueuedTotal
                        + " must be at least twice maxQueuedPerPartition " + maxQueued);
            }
            if (policy == FailurePolicy.DEAD_LETTER && deadLetterTopic == null) {
                throw new IllegalArgumentException("FailurePolicy.DEAD_LETTER needs deadLetterTopic(...)");
            }
            // A revoke waits up to revokeTimeout for in-flight batches, then commits with the same
            // timeout, all inside one poll: both must fit in max.poll.interval.ms.
            if (revokeTimeout.multipliedBy(2).compareTo(maxPollInterval()) >= 0) {
                throw new IllegalArgumentException("revokeTimeout " + revokeTimeout + " must be shorter than half of "
                        + ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG + " " + maxPollInterval());
            }
            String n = name != null ? name : "stream-processor-" + INSTANCES.incrementAndGet();
            ThreadFactory tf = threadFactory != null ? threadFactory : daemonThreads(n);
            Outputs outputs = Outputs.adapting(producer::sendAll);
            return new StreamProcessor(new StreamSettings(consumerConfig(), outputs, topics, pattern, h, retries,
                    backoff, policy, deadLetterTopic, Set.copyOf(nonRetryable), ordering, maxConcurrency, executor,
                    maxBatch, maxQueued, maxQueuedTotal, maxInFlightBatches, commitInterval, pollTimeout, revokeTimeout,
                    outputTimeout, stallTimeout, tf, n, clientListener, rebalanceListener));
        }

        /**
         * The async handler as a batch handler: the worker thread waits for the stage. A stage that
         * times out is cancelled, which completes it but cannot stop work it started: a handler whose
         * work must not overlap its retry makes that work cancellable itself. An {@code Error} the stage
         * completes with is rethrown as itself, so that it stops the processor like a thrown one.
         */
        private static BatchHandler awaiting(AsyncBatchHandler async, Duration timeout) {
            long timeoutNanos = timeout.toNanos();
            return records -> {
                CompletableFuture<List<ProducerRecord<byte[], byte[]>>> stage = async.handle(records).toCompletableFuture();
                try {
                    return stage.get(timeoutNanos, TimeUnit.NANOSECONDS);
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof Error error) {
                        throw error;
                    }
                    throw cause instanceof Exception ex ? ex : e;
                } catch (TimeoutException | InterruptedException e) {
                    stage.cancel(true);
                    throw e;
                }
            };
        }

        private Duration maxPollInterval() {
            Object v = consumerConfig.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
            return Duration.ofMillis(v == null ? 300_000 : Long.parseLong(v.toString()));
        }

        private Map<String, Object> consumerConfig() {
            Map<String, Object> c = new HashMap<>(consumerConfig);
            Object group = c.get(ConsumerConfig.GROUP_ID_CONFIG);
            if (group == null || group.toString().isBlank()) {
                throw new IllegalArgumentException(ConsumerConfig.GROUP_ID_CONFIG
                        + " is required: partitions are owned and checkpoints kept per consumer group");
            }
            Object autoCommit = c.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
            if (autoCommit != null && Boolean.parseBoolean(autoCommit.toString())) {
                throw new IllegalArgumentException(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG
                        + "=true is refused: it would commit offsets whose outputs are not yet acknowledged; "
                        + "the processor commits itself");
            }
            c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            // Kafka's default, latest, would make a partition whose first owner crashed before its
            // first commit resume at the end, skipping what was written meanwhile (Kafka Streams
            // defaults to earliest for the same reason).
            c.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            refuseDeserializer(c, ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG);
            refuseDeserializer(c, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);
            Object protocol = c.get(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
            boolean classic = protocol == null || "classic".equalsIgnoreCase(protocol.toString());
            if (classic) {
                c.putIfAbsent(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
            }
            return c;
        }

        private static void refuseDeserializer(Map<String, Object> c, String key) {
            Object d = c.get(key);
            if (d != null && !ByteArrayDeserializer.class.getName().equals(d.toString().replace("class ", ""))
                    && d != ByteArrayDeserializer.class) {
                throw new IllegalArgumentException(key + "=" + d + " is refused: handlers receive bytes "
                        + "(ByteArrayDeserializer); decode in the handler, where a failure is retried and handled by policy");
            }
            c.put(key, ByteArrayDeserializer.class);
        }

        private static int positive(String what, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be > 0, was " + v);
            }
            return v;
        }

        private static Duration positive(String what, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be > 0, was " + d);
            }
            return d;
        }

        private static ThreadFactory daemonThreads(String name) {
            AtomicInteger n = new AtomicInteger();
            return r -> {
                Thread t = new Thread(r, name + "-worker-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
        }
    }
}
