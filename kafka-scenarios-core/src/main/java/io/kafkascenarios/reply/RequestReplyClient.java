package io.kafkascenarios.reply;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.SendTimeoutException;
import io.kafkascenarios.internal.DeadlineCancels;

/**
 * Request→reply over Kafka: {@link #request} sends a record through a {@link RingProducer} with a
 * correlation id and the reply topic (and partition) in its headers, and completes its future with
 * the reply record a replier sends back with the same correlation id. What Spring's
 * {@code ReplyingKafkaTemplate} does, without its known pitfalls:
 * <ul>
 *   <li>The reply consumer is <b>assigned</b>, not subscribed: no group, no rebalance that stops
 *       replies for seconds, no commits. It is positioned at the end of the reply partitions before
 *       the client says it is ready ({@link #isReady()}, {@link #awaitReady}); requests before that
 *       are refused, since their replies could be missed.</li>
 *   <li><b>One deadline</b> covers the send and the reply. A request fails with a
 *       {@link SendTimeoutException} whose stage says where the time went: in the ring (withdrawn,
 *       never written), awaiting the acknowledgement, or {@code AWAITING_REPLY}.</li>
 *   <li>The correlation id is this client's random instance id and a counter: no
 *       {@code SecureRandom} on the request path.</li>
 *   <li>{@code maxPending} refuses new requests at once when that many are outstanding.</li>
 *   <li>Late replies (after their request's deadline) and foreign ones (another client's, on a
 *       shared reply topic) are counted in {@link #stats()}, not logged one by one.</li>
 * </ul>
 * Several clients may share a reply topic: give each its own {@link Builder#replyPartition}, and the
 * replier sends each reply to the requester's partition; or let each read every partition and drop
 * the others' replies (counted as foreign).
 *
 * <pre>{@code
 * RequestReplyClient client = RequestReplyClient.builder(producer, Map.of("bootstrap.servers", servers))
 *         .replyTopic("prices-replies").replyPartition(0).build();
 * client.awaitReady(Duration.ofSeconds(30));
 * ConsumerRecord<byte[], byte[]> reply = client.request("prices", key, body, Duration.ofSeconds(2)).get();
 * }</pre>
 *
 * <p>Threads: {@link #request} from any thread. A request's future completes on the reply consumer's
 * thread (the reply), Kafka's I/O thread or the producer's deadline thread (a failed send), or the
 * client's deadline thread (no reply): stages added without an executor run there, so keep them
 * short and non-blocking, or use the {@code *Async} variants. {@code join()} from a request thread is
 * the plain way. The producer is shared, not owned: {@link #close} leaves it open.
 */
public final class RequestReplyClient implements AutoCloseable {
    /** Requests outstanding before new ones are refused, by default. */
    public static final int DEFAULT_MAX_PENDING = 10_000;

    private final RingProducer producer;
    private final String replyTopic;
    private final ReplyHeaders headers;
    private final int maxPending;
    private final Duration defaultTimeout;
    private final long instanceId = ThreadLocalRandom.current().nextLong() ^ System.nanoTime();
    private final AtomicLong sequence = new AtomicLong();
    private final ConcurrentHashMap<Long, Request> pending = new ConcurrentHashMap<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final Header replyTopicHeader;
    private final Header replyPartitionHeader;
    private final ScheduledThreadPoolExecutor deadlines;
    private final ReplyConsumer replies;
    private final DeadlineCancels cancels = new DeadlineCancels();
    private final LongAdder requests = new LongAdder();
    private final LongAdder answered = new LongAdder();
    private final LongAdder timedOut = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder late = new LongAdder();
    private final LongAdder foreign = new LongAdder();
    private volatile boolean closed;

    private RequestReplyClient(Builder b) {
        this.producer = b.producer;
        this.replyTopic = b.replyTopic;
        this.headers = b.headers;
        this.maxPending = b.maxPending;
        this.defaultTimeout = b.defaultTimeout;
        this.replyTopicHeader = new RecordHeader(headers.replyTopic(), replyTopic.getBytes(StandardCharsets.UTF_8));
        this.replyPartitionHeader = b.replyPartition < 0 ? null
                : new RecordHeader(headers.replyPartition(), ByteBuffer.allocate(4).putInt(b.replyPartition).array());
        String name = b.name == null ? "request-reply-" + replyTopic : b.name;
        this.deadlines = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name + "-deadlines");
            t.setDaemon(true);
            return t;
        });
        this.deadlines.setRemoveOnCancelPolicy(true); // answered requests leave no task behind
        this.replies = new ReplyConsumer(b.consumerConfig, replyTopic, b.replyPartition, this::onReply, name + "-replies");
        this.replies.start();
    }

    /**
     * @param producer the producer requests go through (shared; not closed by the client)
     * @param consumerConfig the reply consumer's settings: {@code bootstrap.servers} at least; no
     *                       {@code group.id} is needed (the consumer is assigned)
     * @return a builder
     */
    public static Builder builder(RingProducer producer, Map<String, Object> consumerConfig) {
        return new Builder(producer, consumerConfig);
    }

    /**
     * @return true once the reply consumer is assigned and positioned, and for as long as it runs:
     *         requests are accepted
     */
    public boolean isReady() {
        return replies.isReady();
    }

    /**
     * Waits until the client is ready (the reply topic exists and its end is known).
     *
     * @param timeout how long to wait at most
     * @return true if ready; false at the timeout, or at once if the reply consumer stopped (e.g. its
     *         user may not read the reply topic: the cause is in the exception of a refused request)
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return replies.awaitReady(timeout);
    }

    /**
     * Sends a request with the builder's default deadline.
     *
     * @param topic the request topic
     * @param key the key, or null
     * @param value the value, or null
     * @return the reply's future; see {@link #request(String, byte[], byte[], Duration)}
     */
    public CompletableFuture<ConsumerRecord<byte[], byte[]>> request(String topic, byte[] key, byte[] value) {
        return request(topic, key, value, defaultTimeout);
    }

    /**
     * Sends a request and returns the future of its reply. It completes with the reply record, or
     * exceptionally with: a {@link SendTimeoutException} when the deadline passes first (its stage says
     * where: in the ring, awaiting the acknowledgement, or {@code AWAITING_REPLY}); the exception Kafka
     * failed the request's record with; a {@link RejectedExecutionException} at once when
     * {@code maxPending} requests are outstanding; an {@link IllegalStateException} at once when the
     * client is not ready yet, or when it closes before the reply.
     *
     * @param topic the request topic
     * @param key the key, or null
     * @param value the value, or null
     * @param timeout the deadline for the send and the reply together
     * @return the reply's future
     * @throws NullPointerException if topic or timeout is null
     * @throws IllegalArgumentException if the request does not fit the producer's slot
     * @throws IllegalStateException if the client or its producer is closed
     */
    public CompletableFuture<ConsumerRecord<byte[], byte[]>> request(String topic, byte[] key, byte[] value, Duration timeout) {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(timeout, "timeout");
        if (closed) {
            throw new IllegalStateException("the request-reply client of " + replyTopic + " is closed");
        }
        if (!replies.isReady()) {
            rejected.increment();
            Throwable died = replies.failure();
            return CompletableFuture.failedFuture(died != null
                    ? new IllegalStateException("not ready: the reply consumer of '" + replyTopic + "' stopped: " + died, died)
                    : new IllegalStateException("not ready: the reply consumer of '" + replyTopic
                            + "' is not assigned and positioned yet (see awaitReady); a reply could be missed"));
        }
        if (outstanding.incrementAndGet() > maxPending) {
            outstanding.decrementAndGet();
            rejected.increment();
            return CompletableFuture.failedFuture(new RejectedExecutionException(maxPending
                    + " requests outstanding (maxPending): refused at once"));
        }
        long start = System.nanoTime();
        long id = sequence.incrementAndGet();
        Request request = new Request(id, topic, start);
        pending.put(id, request); // before the send: a fast replier can answer before its future completes
        if (closed) { // close() sets the flag, then fails what is pending: one of the two sees the other
            forget(request);
            throw new IllegalStateException("the request-reply client of " + replyTopic + " is closed");
        }
        // The deadline first, from the request's start: a send that waits for ring space spends the
        // same budget, and nothing can be refused after the record may have been sent.
        try {
            cancels.drain();
            request.deadline = deadlines.schedule(() -> onDeadline(request), timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            forget(request);
            throw new IllegalStateException("the request-reply client of " + replyTopic + " is closed");
        }
        Header correlation = new RecordHeader(headers.correlation(), ByteBuffer.allocate(16).putLong(instanceId).putLong(id).array());
        Header[] h = replyPartitionHeader == null ? new Header[] {correlation, replyTopicHeader}
                : new Header[] {correlation, replyTopicHeader, replyPartitionHeader};
        CompletableFuture<RecordMetadata> sent;
        try {
            sent = producer.send(topic, RingProducer.ANY_PARTITION, RingProducer.NO_TIMESTAMP, key, value, h, timeout);
        } catch (RuntimeException | Error e) {
            if (forget(request)) {
                request.deadline.cancel(false);
            }
            throw e; // bad input or a closed producer: thrown, as send throws it
        }
        requests.increment();
        request.sent = sent;
        sent.whenComplete((md, e) -> onSent(request, e));
        return request;
    }

    /** Kafka's I/O thread or the producer's deadline thread: the request's record is settled. */
    private void onSent(Request request, Throwable e) {
        if (e != null) {
            // Its own deadline (SendTimeoutException with its stage), or Kafka's cause.
            if (settle(request)) {
                (e instanceof SendTimeoutException ? timedOut : failed).increment();
                request.completeExceptionally(e);
            }
        } else if (request.deadlinePassed) {
            replyTimedOut(request); // acknowledged just as the deadline passed
        }
    }

    /** The client's deadline thread. The send's own deadline fails a request still on its way to Kafka. */
    private void onDeadline(Request request) {
        request.deadlinePassed = true; // then read the send: see onSent, which reads them the other way round
        CompletableFuture<RecordMetadata> sent = request.sent; // null: not sent yet; its own deadline fails it
        if (sent != null && sent.isDone() && !sent.isCompletedExceptionally()) {
            replyTimedOut(request);
        }
    }

    private void replyTimedOut(Request request) {
        if (settle(request)) {
            timedOut.increment();
            request.completeExceptionally(new SendTimeoutException(SendTimeoutException.Stage.AWAITING_REPLY,
                    Duration.ofNanos(System.nanoTime() - request.startNanos), request.topic));
        }
    }

    /** The reply consumer's thread. */
    private void onReply(ConsumerRecord<byte[], byte[]> record) {
        Header h = record.headers().lastHeader(headers.correlation());
        byte[] id = h == null ? null : h.value();
        if (id == null || id.length != 16) {
            foreign.increment();
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(id);
        if (b.getLong() != instanceId) {
            foreign.increment();
            return;
        }
        Request request = pending.get(b.getLong());
        if (request == null || !settle(request)) {
            late.increment(); // its deadline passed (or the client closed) first
            return;
        }
        answered.increment();
        request.complete(record);
    }

    /** @return true for the one caller that ends the request: the map removal decides */
    private boolean settle(Request request) {
        if (!pending.remove(request.id, request)) {
            return false;
        }
        outstanding.decrementAndGet();
        java.util.concurrent.Future<?> d = request.deadline;
        if (d != null) {
            cancels.later(d); // not here: this may be Kafka's I/O thread, and cancelling takes the scheduler's lock
        }
        return true;
    }

    /** @return true if the request was still pending: it is not any more, and nothing was counted */
    private boolean forget(Request request) {
        if (pending.remove(request.id, request)) {
            outstanding.decrementAndGet();
            return true;
        }
        return false;
    }

    /** @return the counts now */
    public RequestReplyStats stats() {
        return new RequestReplyStats(requests.sum(), answered.sum(), timedOut.sum(), failed.sum(), rejected.sum(), late.sum(),
                foreign.sum(), outstanding.get());
    }

    /** @return the reply topic this client reads */
    public String replyTopic() {
        return replyTopic;
    }

    /**
     * Stops the reply consumer and fails every outstanding request with an
     * {@link IllegalStateException}. The producer stays open. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        replies.close(Duration.ofSeconds(10));
        deadlines.shutdownNow();
        for (Request r : pending.values()) {
            if (settle(r)) {
                failed.increment();
                r.completeExceptionally(new IllegalStateException("the request-reply client of " + replyTopic
                        + " closed before the reply"));
            }
        }
    }

    /** One request: its future, and what its deadline and send need to know. */
    private static final class Request extends CompletableFuture<ConsumerRecord<byte[], byte[]>> {
        final long id;
        final String topic;
        final long startNanos;
        volatile CompletableFuture<RecordMetadata> sent;
        volatile java.util.concurrent.Future<?> deadline;
        volatile boolean deadlinePassed;

        Request(long id, String topic, long startNanos) {
            this.id = id;
            this.topic = topic;
            this.startNanos = startNanos;
        }
    }

    /**
     * Configures a {@link RequestReplyClient}. Not thread-safe: configure and build on one thread.
     */
    public static final class Builder {
        private final RingProducer producer;
        private final Map<String, Object> consumerConfig;
        private String replyTopic;
        private int replyPartition = -1;
        private ReplyHeaders headers = ReplyHeaders.SPRING;
        private int maxPending = DEFAULT_MAX_PENDING;
        private Duration defaultTimeout = RingProducer.DEFAULT_SEND_TIMEOUT;
        private String name;

        private Builder(RingProducer producer, Map<String, Object> consumerConfig) {
            this.producer = Objects.requireNonNull(producer, "producer");
            this.consumerConfig = new HashMap<>(Objects.requireNonNull(consumerConfig, "consumerConfig"));
        }

        /** @param topic where replies come (required) @return this */
        public Builder replyTopic(String topic) {
            this.replyTopic = topic;
            return this;
        }

        /**
         * @param partition the one reply partition this client reads, sent in the reply-partition
         *                  header so that the replier answers there; default: every partition
         * @return this
         */
        public Builder replyPartition(int partition) {
            if (partition < 0) {
                throw new IllegalArgumentException("replyPartition must be >= 0, was " + partition);
            }
            this.replyPartition = partition;
            return this;
        }

        /** @param names the header names (default {@link ReplyHeaders#SPRING}) @return this */
        public Builder headers(ReplyHeaders names) {
            this.headers = Objects.requireNonNull(names, "headers");
            return this;
        }

        /** @param max requests outstanding before new ones are refused at once (default 10,000) @return this */
        public Builder maxPending(int max) {
            if (max <= 0) {
                throw new IllegalArgumentException("maxPending must be > 0, was " + max);
            }
            this.maxPending = max;
            return this;
        }

        /** @param timeout the deadline of {@link #request(String, byte[], byte[])} (default 10 s) @return this */
        public Builder defaultTimeout(Duration timeout) {
            this.defaultTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** @param name for the client's thread names and its consumer's {@code client.id} @return this */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /**
         * Starts the reply consumer; the client is ready once it is positioned (see
         * {@link RequestReplyClient#awaitReady}).
         *
         * @return the client
         * @throws IllegalArgumentException if the reply topic or {@code bootstrap.servers} is missing
         */
        public RequestReplyClient build() {
            if (replyTopic == null || replyTopic.isBlank()) {
                throw new IllegalArgumentException("a reply topic is required (replyTopic)");
            }
            if (!consumerConfig.containsKey("bootstrap.servers")) {
                throw new IllegalArgumentException("the reply consumer needs bootstrap.servers in its config");
            }
            return new RequestReplyClient(this);
        }
    }
}
