package io.kafkascenarios;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.kafkascenarios.internal.Accounting;
import io.kafkascenarios.internal.Checks;
import io.kafkascenarios.internal.ClientGenerations;
import io.kafkascenarios.internal.Engine;
import io.kafkascenarios.internal.GroupCompletion;
import io.kafkascenarios.internal.NanoClock;
import io.kafkascenarios.internal.RecordCompletion;
import io.kafkascenarios.internal.RecordSink;
import io.kafkascenarios.internal.Ring;
import io.kafkascenarios.internal.SendCompletion;
import io.kafkascenarios.internal.Slot;

/**
 * A Kafka producer that keeps publishing off the caller's critical path: {@code offer} copies the
 * record into a pre-allocated ring slot and returns; one flusher thread drains the ring in batches
 * into a {@code KafkaProducer<byte[], byte[]>}.
 *
 * <pre>{@code
 * try (RingProducer producer = RingProducer.builder(Map.of("bootstrap.servers", "localhost:9092"))
 *         .onFull(OnFull.DISCARD)
 *         .listener(new RingProducerListener() {
 *             public void onDiscarded(long n, long total) { metrics.discarded(n); }
 *         })
 *         .build()) {
 *     producer.offer("events", key, value);     // never waits on Kafka; false = discarded
 * }
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>Publishing allocates nothing and takes no lock: one CAS to claim a slot, a copy, a publish.
 *       With {@link OnFull#DISCARD} the caller never waits on Kafka, even when the broker is down.</li>
 *   <li>Every record offered is accounted for ({@link #stats()}): delivered (acknowledged), discarded
 *       (ring full; counted and reported), failed (reported with its cause and bytes), or pending.</li>
 *   <li>Records from one caller thread to one partition keep their order.</li>
 *   <li>Bad input throws at once with a message naming the problem, before anything is enqueued:
 *       it never corrupts the ring or stops the flusher.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>Caller threads (any number): {@code offer}, {@code send}, {@code flush}, {@code stats}, {@code close}.</li>
 *   <li>The flusher thread: the only one that calls the KafkaProducer's {@code send}/{@code flush}.</li>
 *   <li>Kafka's I/O thread: completes records: counts, enqueues failures, completes {@code send}
 *       futures (never blocks).</li>
 *   <li>The reporter thread: the only one that calls the {@link RingProducerListener}.</li>
 *   <li>The deadline thread, started by the first {@link #send}: fails futures whose deadline passed.</li>
 *   <li>A producer-closer thread, each time a KafkaProducer in a fatal state is replaced: closes it.</li>
 * </ul>
 * These threads come from {@link Builder#threadFactory}, each task naming its role; by default they
 * are daemon threads named {@code kafka-scenarios-reporter-N}, {@code kafka-scenarios-flusher-N},
 * {@code kafka-scenarios-deadlines-N} and {@code kafka-scenarios-producer-closer-N}. Interrupts: see
 * each method; a stray interrupt of the flusher is cleared and changes nothing.
 */
public final class RingProducer implements AutoCloseable {
    /** Let Kafka's partitioner choose the partition. */
    public static final int ANY_PARTITION = -1;
    /** Let Kafka stamp the record when the flusher sends it (or the broker, with LogAppendTime). */
    public static final long NO_TIMESTAMP = -1L;
    /** The deadline of {@link #close()}. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** The deadline of a {@link #send} without one, unless {@link Builder#sendTimeout} says otherwise. */
    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(10);
    /** How long a topic or login Kafka refused fails records at once: {@link Builder#refusalRetryInterval}. */
    public static final Duration DEFAULT_REFUSAL_RETRY = Duration.ofSeconds(10);
    private static final java.util.concurrent.atomic.AtomicInteger INSTANCES = new java.util.concurrent.atomic.AtomicInteger();

    /** The flusher's first idle park: while records keep coming, one waits at most this long to be seen. */
    static final long FLUSHER_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** The flusher's longest idle park, reached by doubling: the first record after a quiet spell may wait this long. */
    static final long FLUSHER_MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How long the flusher stays runnable after a request's record, to take the next one at once. */
    private static final long FLUSHER_HOT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final Engine engine;
    private final Ring ring;
    private final Accounting accounting;
    private final NanoClock clock;
    private final int slotCapacity;
    private final long sendTimeoutNanos;
    private final boolean sendWaitsForSpace;
    private final String name;

    private final String clientId;
    /** Null unless set: the publish path tests it and pays nothing more. */
    private final CallerHeaders callerHeaders;

    private RingProducer(Builder b, RecordSink sink, Supplier<RecordSink> sinkFactory) {
        this.name = b.name;
        this.callerHeaders = b.callerHeaders;
        this.clientId = sink.clientId();
        this.engine = new Engine(new Engine.Settings(b.ringSize, b.slotCapacity, b.onFull == OnFull.BLOCK,
                b.blockTimeoutNanos, b.maxBatch, b.reportIntervalNanos, b.maxReportedFailures, b.flusherParkNanos,
                Math.max(b.flusherParkNanos, FLUSHER_MAX_PARK_NANOS), FLUSHER_HOT_NANOS, b.refusalRetryNanos, b.listener,
                b.threadFactory, b.clock), sink, sinkFactory);
        this.ring = engine.ring();
        this.accounting = engine.accounting();
        this.clock = engine.clock();
        this.slotCapacity = b.slotCapacity;
        this.sendTimeoutNanos = b.sendTimeoutNanos;
        this.sendWaitsForSpace = b.sendWaitsForSpace;
    }

    /** @return this producer's name ({@link Builder#name}), for metrics and logs */
    public String name() {
        return name;
    }

    /**
     * @return the {@code client.id} of its first KafkaProducer: the configured one, else its
     *         {@link #name()} (a replacement after a fatal error gets {@code <client.id>-2}, and so on);
     *         "unknown" for a {@code producerFactory}'s producer without metrics
     */
    public String clientId() {
        return clientId;
    }

    /**
     * Starts building a producer.
     *
     * @param kafkaConfig {@code KafkaProducer} settings, passed through as they are ({@code bootstrap.servers}
     *                    at least). The ring carries bytes: a {@code key.serializer} or {@code value.serializer}
     *                    other than {@code ByteArraySerializer} is refused.
     * @return a builder
     */
    public static Builder builder(Map<String, Object> kafkaConfig) {
        return new Builder(kafkaConfig);
    }

    /**
     * Offers a record with a Kafka-chosen partition and timestamp.
     *
     * @param topic the topic, not null
     * @param key the key bytes, or null
     * @param value the value bytes, or null (a tombstone)
     * @return true if the record is in the ring; false if it was discarded (ring full), which is
     *         counted in {@link RingStats#discarded()} and reported to the listener
     * @throws NullPointerException if {@code topic} is null
     * @throws IllegalArgumentException if the record does not fit a slot (the message names both sizes)
     * @throws IllegalStateException if the producer is closed, also when it closes while a
     *         {@code BLOCK} call waits for space (the record is refused, not counted)
     */
    public boolean offer(String topic, byte[] key, byte[] value) {
        return offer(topic, ANY_PARTITION, NO_TIMESTAMP, key, value, null);
    }

    /**
     * Offers a record to a chosen partition with a chosen timestamp.
     *
     * @param topic the topic, not null
     * @param partition the partition, or {@link #ANY_PARTITION}
     * @param timestamp the record's timestamp in epoch milliseconds, or {@link #NO_TIMESTAMP}
     * @param key the key bytes, or null
     * @param value the value bytes, or null
     * @return true if enqueued, false if discarded; see {@link #offer(String, byte[], byte[])}
     */
    public boolean offer(String topic, int partition, long timestamp, byte[] key, byte[] value) {
        return offer(topic, partition, timestamp, key, value, null);
    }

    /**
     * Offers a record with headers. Header keys are encoded as UTF-8 into the slot and decoded on the
     * flusher thread: no allocation on the caller's thread.
     *
     * @param topic the topic, not null
     * @param partition the partition, or {@link #ANY_PARTITION}
     * @param timestamp epoch milliseconds, or {@link #NO_TIMESTAMP}
     * @param key the key bytes, or null
     * @param value the value bytes, or null
     * @param headers headers (not null elements, not null keys), or null
     * @return true if enqueued, false if discarded; see {@link #offer(String, byte[], byte[])}
     */
    public boolean offer(String topic, int partition, long timestamp, byte[] key, byte[] value, Header[] headers) {
        checkRecord(topic, partition, timestamp, key, value, headers);
        long sequence = claim();
        if (sequence == Ring.NO_SLOT) {
            return false;
        }
        publishRecord(sequence, topic, partition, timestamp, key, value, headers, null);
        return true;
    }

    /**
     * Copies a record into a claimed slot and publishes it. If the copy throws (headers that change
     * between the size check and the copy), the slot is published as aborted: a claimed slot is never
     * left unpublished, which would stall the flusher for good.
     */
    private void publishRecord(long sequence, String topic, int partition, long timestamp, byte[] key, byte[] value,
                               Header[] headers, RecordCompletion completion) {
        try {
            Slot slot = ring.slot(sequence);
            slot.setRecord(topic, partition, timestamp, key, value, headers, completion);
            if (callerHeaders != null) {
                callerHeaders.addTo(topic, slot);
            }
        } catch (Throwable t) {
            ring.abort(sequence);
            throw t;
        }
        ring.commit(sequence);
    }

    /**
     * Caller thread. With {@link OnFull#DISCARD}, when the ring has no free slot at this moment:
     * counts one record offered and discarded (in {@link #stats()} and reported to the listener like
     * any discard) and returns true, so that a caller whose record is costly to build (a log line to
     * render, an object to serialize) can skip building it. Otherwise it counts nothing and returns
     * false: the caller offers as usual, and that offer may still find the ring full and discard.
     * Always false with {@link OnFull#BLOCK} and once closed. Allocates nothing.
     *
     * @return true if a record was counted as discarded and the caller should not offer it
     */
    public boolean discardIfFull() {
        return ring.discardIfFull();
    }

    /**
     * Offers a record whose value {@code writer} encodes straight into the slot, with no key. (Named
     * {@code offerWith}, not {@code offer}, so that {@code offer(topic, null, value)} stays unambiguous.)
     *
     * @param topic the topic, not null
     * @param writer encodes the value; use a constant, not a capturing lambda
     * @param arg what the writer encodes
     * @param <A> the argument's type
     * @return true if enqueued, false if discarded (the writer was not called)
     * @throws IllegalArgumentException if the value does not fit the slot (the record is not offered)
     */
    public <A> boolean offerWith(String topic, RecordWriter<A> writer, A arg) {
        return offerWith(topic, ANY_PARTITION, NO_TIMESTAMP, null, writer, arg);
    }

    /**
     * Offers a record whose value {@code writer} encodes straight into the slot. If the writer throws,
     * the record is not offered (not counted) and the exception reaches the caller.
     *
     * @param topic the topic, not null
     * @param partition the partition, or {@link #ANY_PARTITION}
     * @param timestamp epoch milliseconds, or {@link #NO_TIMESTAMP}
     * @param key the key bytes, or null
     * @param writer encodes the value
     * @param arg what the writer encodes
     * @param <A> the argument's type
     * @return true if enqueued, false if discarded (the writer was not called)
     */
    public <A> boolean offerWith(String topic, int partition, long timestamp, byte[] key, RecordWriter<A> writer, A arg) {
        checkRecord(topic, partition, timestamp);
        Objects.requireNonNull(writer, "writer");
        if (key != null && key.length > slotCapacity) {
            throw Checks.tooLarge(topic, key.length, slotCapacity);
        }
        long sequence = claim();
        if (sequence == Ring.NO_SLOT) {
            return false;
        }
        Slot slot = ring.slot(sequence);
        try {
            slot.beginRecord(topic, partition, timestamp, key);
            writer.writeValue(arg, slot.valueBuffer());
            slot.endRecord();
            if (callerHeaders != null) {
                callerHeaders.addTo(topic, slot);
            }
        } catch (Throwable t) {
            // The sequence is claimed and must be published; the flusher skips it.
            ring.abort(sequence);
            throw t;
        }
        ring.commit(sequence);
        return true;
    }

    /**
     * Sends a record as part of a request: the future completes when the broker acknowledges it (under
     * the producer's {@code acks}), fails with Kafka's exception, or fails with a
     * {@link SendTimeoutException} at {@link Builder#sendTimeout} ({@link #DEFAULT_SEND_TIMEOUT}),
     * whichever comes first.
     *
     * @param topic the topic, not null
     * @param key the key bytes, or null
     * @param value the value bytes, or null
     * @return the record's future
     * @see #send(String, int, long, byte[], byte[], Header[], Duration)
     */
    public CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value) {
        return send(topic, ANY_PARTITION, NO_TIMESTAMP, key, value, null, null);
    }

    /**
     * Sends a record with its own deadline.
     *
     * @param topic the topic, not null
     * @param key the key bytes, or null
     * @param value the value bytes, or null
     * @param timeout the deadline from now
     * @return the record's future
     * @see #send(String, int, long, byte[], byte[], Header[], Duration)
     */
    public CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value, Duration timeout) {
        return send(topic, ANY_PARTITION, NO_TIMESTAMP, key, value, null, timeout);
    }

    /**
     * Sends a record as part of a request, through the same ring, flusher and KafkaProducer as
     * {@code offer}, so that the request shares the record's fate.
     *
     * <p>The returned future completes exactly once, by the deadline at the latest:
     * <ul>
     *   <li>normally with the broker's {@link RecordMetadata} (partition, offset);</li>
     *   <li>exceptionally with the exception Kafka gave the record (e.g.
     *       {@code org.apache.kafka.common.errors.TimeoutException} after {@code delivery.timeout.ms},
     *       {@code RecordTooLargeException}), or the failure that {@code close} gave it;</li>
     *   <li>exceptionally with a {@link SendTimeoutException} when the deadline passes first; its
     *       {@link SendTimeoutException#stage()} says where the time went: waiting for ring space, in
     *       the ring, or waiting for the acknowledgement.</li>
     * </ul>
     * Kafka-side failures reach the caller through the future only. Argument errors throw at once.
     *
     * <p>On a full ring the caller's thread waits for a slot up to the deadline (never longer, and
     * never for Kafka itself), or, with {@link Builder#sendWaitsForSpace(boolean) sendWaitsForSpace(false)},
     * fails at once; either way the future fails with stage {@code RING_SPACE} and the record counts as
     * discarded. A record whose deadline passes while it still waits in the ring is withdrawn: the
     * flusher skips it, it is never written, and it counts as {@link RingStats#withdrawn()} (stage
     * {@code IN_RING}). One already handed to Kafka (stage {@code AWAITING_ACK}, including the one
     * record the flusher may be holding inside {@code KafkaProducer.send()}) is still delivered or
     * failed, and counted so; {@link SendTimeoutException#mayBeWritten()} tells the two apart.
     * Cancelling the future withdraws nothing. An interrupt while
     * the caller waits for space ends the wait: the future fails with Kafka's
     * {@link org.apache.kafka.common.errors.InterruptException}, the record counts as discarded, and
     * the interrupt status is kept.
     *
     * <p>Threads: call it from any thread. The future is completed on Kafka's I/O thread (the
     * acknowledgement), the flusher thread, or the producer's deadline thread, so dependent stages added
     * with {@code thenApply}/{@code whenComplete} run there: keep them short and non-blocking, or use the
     * {@code *Async} variants with your executor. {@code join()}/{@code get()} from a request thread is
     * the plain way.
     *
     * @param topic the topic, not null
     * @param partition the partition, or {@link #ANY_PARTITION}
     * @param timestamp epoch milliseconds, or {@link #NO_TIMESTAMP}
     * @param key the key bytes, or null
     * @param value the value bytes, or null
     * @param headers headers, or null
     * @param timeout the deadline from now, or null for {@link Builder#sendTimeout}
     * @return the record's future
     * @throws NullPointerException if {@code topic} is null
     * @throws IllegalArgumentException if the record does not fit a slot
     * @throws IllegalStateException if the producer is closed (also when it closes while this call waits for space)
     */
    public CompletableFuture<RecordMetadata> send(String topic, int partition, long timestamp, byte[] key,
                                                  byte[] value, Header[] headers, Duration timeout) {
        long start = clock.nanoTime();
        checkRecord(topic, partition, timestamp, key, value, headers);
        long timeoutNanos = timeout == null ? sendTimeoutNanos : toNanos(timeout);
        SendCompletion completion = new SendCompletion(topic, start, clock, accounting, engine.deadlineCancels());
        long sequence = ring.claimWaiting(start, sendWaitsForSpace ? timeoutNanos : 0, 1);
        if (sequence == Ring.CLOSED) {
            throw closed();
        }
        if (sequence == Ring.NO_SLOT) {
            Exception cause = noSpace(start, topic, false);
            if (cause instanceof SendTimeoutException noRoom) {
                completion.failTimedOut(noRoom); // counted by its stage
            } else {
                completion.fail(cause);
            }
            return completion;
        }
        publishRecord(sequence, topic, partition, timestamp, key, value, headers, completion);
        // A request waits for this record: wake the flusher if it is parked idle instead of letting
        // it sleep out its park. (offer does not: telemetry callers do not pay for a wake-up.)
        engine.wakeFlusher();
        Future<?> deadline = engine.scheduleDeadline(completion, timeoutNanos - (clock.nanoTime() - start));
        if (deadline != null) {
            completion.deadline(deadline);
        }
        return completion;
    }

    /** Why a request found no slot: its deadline passed, or its thread was interrupted while it waited. */
    private Exception noSpace(long start, String topic, boolean partWritten) {
        if (Thread.currentThread().isInterrupted()) {
            return new InterruptException("interrupted while waiting for ring space; the record was not enqueued"
                    + (partWritten ? " (the part of the group already enqueued may still be written)" : ""));
        }
        return new SendTimeoutException(SendTimeoutException.Stage.RING_SPACE,
                Duration.ofNanos(clock.nanoTime() - start), topic, partWritten);
    }

    /**
     * Sends a group of records, as a stream processor sends the outputs of one input batch: one future
     * for the group, completed normally when every record is acknowledged, exceptionally with the
     * first record's failure, or with a {@link SendTimeoutException} at the deadline. The records enter
     * the ring in list order, so records for the same partition keep that order in Kafka.
     *
     * <p>All records are checked before any is published: bad input throws and sends nothing. On a
     * full ring the caller's thread waits for space up to the deadline (whatever
     * {@link Builder#sendWaitsForSpace} says: a group has no cheaper way out); if the deadline passes
     * with part of the group enqueued, the future fails with stage {@code RING_SPACE}, the rest counts as
     * discarded, and the enqueued part is withdrawn with it, unless the flusher has already taken its
     * first record. A deadline that passes while the whole group still waits in the ring withdraws it
     * the same way (stage {@code IN_RING}): a group goes to Kafka whole or not at all, as far as the
     * ring decides. {@link SendTimeoutException#mayBeWritten()} says which: when it is true the group
     * may have been delivered in part, and retrying it can duplicate records, never lose them. The list is read
     * once, at the start; each header's key and value too. If copying a record past the first into its
     * slot throws anyway (out of memory), the future fails with that error, the records before it go
     * on, and it and the rest are not offered (not counted).
     *
     * <p>Threads: call it from any thread; the future completes on Kafka's I/O thread, the flusher or
     * the deadline thread, as for {@link #send(String, int, long, byte[], byte[], Header[], Duration) send}.
     *
     * @param records the records; an empty list gives a completed future
     * @param timeout the deadline from now, or null for {@link Builder#sendTimeout}
     * @return the group's future
     * @throws NullPointerException if the list, a record or a topic is null
     * @throws IllegalArgumentException if a record does not fit a slot, or has a negative partition or timestamp
     * @throws IllegalStateException if the producer is closed before the first record is enqueued (a
     *         close after that fails the future instead)
     */
    public CompletableFuture<Void> sendAll(List<? extends ProducerRecord<byte[], byte[]>> records, Duration timeout) {
        long start = clock.nanoTime();
        // Each element read once: a list that changes under the call cannot slip in a record that was
        // not checked.
        Object[] taken = records.toArray();
        int size = taken.length;
        Header[][] headers = new Header[size][];
        for (int i = 0; i < size; i++) {
            @SuppressWarnings("unchecked")
            ProducerRecord<byte[], byte[]> r = (ProducerRecord<byte[], byte[]>) Objects.requireNonNull(taken[i], "record");
            headers[i] = snapshot(r.headers().toArray());
            checkRecord(r.topic(), partitionOf(r), timestampOf(r), r.key(), r.value(), headers[i]);
        }
        long timeoutNanos = timeout == null ? sendTimeoutNanos : toNanos(timeout);
        GroupCompletion group = new GroupCompletion(size, size == 0 ? null : topicOf(taken[0]), start, clock, accounting,
                engine.deadlineCancels());
        for (int i = 0; i < size; i++) {
            @SuppressWarnings("unchecked")
            ProducerRecord<byte[], byte[]> r = (ProducerRecord<byte[], byte[]>) taken[i];
            long sequence = ring.claimWaiting(start, timeoutNanos, size - i);
            if (sequence == Ring.CLOSED) {
                if (i == 0) {
                    throw closed();
                }
                group.fail(closed());
                break;
            }
            if (sequence == Ring.NO_SLOT) {
                // The enqueued part is withdrawn with the group unless the flusher has taken some of it.
                boolean partWritten = i > 0 && !group.withdraw();
                Exception cause = noSpace(start, r.topic(), partWritten);
                if (cause instanceof SendTimeoutException noRoom) {
                    group.failTimedOut(noRoom); // counted only if not failed first by a flusher skipping the withdrawn part
                } else {
                    group.fail(cause);
                }
                break;
            }
            try {
                publishRecord(sequence, r.topic(), partitionOf(r), timestampOf(r), r.key(), r.value(), headers[i],
                        group);
            } catch (RuntimeException | Error t) {
                if (i == 0) {
                    throw t;
                }
                // Part of the group is in the ring and goes on: the caller learns of the failure from
                // the future that also tracks that part.
                group.fail(t);
                break;
            }
        }
        if (size > 0) {
            engine.wakeFlusher();
        }
        if (!group.isDone()) {
            Future<?> deadline = engine.scheduleDeadline(group, timeoutNanos - (clock.nanoTime() - start));
            if (deadline != null) {
                group.deadline(deadline);
            }
        }
        return group;
    }

    /**
     * Reads each header's key and value once, before anything is checked or published: a
     * {@link Header} whose {@code value()} changes or throws between the size check and the copy would
     * otherwise fail a group half-way through.
     */
    private static Header[] snapshot(Header[] headers) {
        if (headers.length == 0) {
            return null;
        }
        Header[] copy = new Header[headers.length];
        for (int i = 0; i < headers.length; i++) {
            Header h = headers[i];
            copy[i] = h == null ? null : new RecordHeader(h.key(), h.value()); // null: checkRecord names it
        }
        return copy;
    }

    private static String topicOf(Object record) {
        return ((ProducerRecord<?, ?>) record).topic();
    }

    private static int partitionOf(ProducerRecord<?, ?> r) {
        return r.partition() == null ? ANY_PARTITION : r.partition();
    }

    private static long timestampOf(ProducerRecord<?, ?> r) {
        return r.timestamp() == null ? NO_TIMESTAMP : r.timestamp();
    }

    /**
     * Waits until every record offered before this call is acknowledged or failed, or the timeout
     * passes. The flusher runs {@code KafkaProducer.flush()} when it reaches this call's marker in the
     * ring; while it waits there (up to Kafka's {@code delivery.timeout.ms} when the broker is down,
     * whatever this call's timeout) new offers fill the ring. Call it at checkpoints, not per record.
     * "Completed" includes records held by a KafkaProducer that was replaced after a fatal error: the
     * flusher waits for that producer's close, and then checks the counts, so that true means
     * {@link RingStats#pending()} holds none of the records offered before the call.
     *
     * @param timeout how long to wait at most
     * @return true if everything offered before the call has completed (delivered or failed); false on
     *         timeout, on interrupt (the interrupt status is kept), or if Kafka's flush failed. After
     *         {@link #close} it returns whether nothing is pending, without waiting.
     */
    public boolean flush(Duration timeout) {
        return engine.flush(toNanos(timeout));
    }

    /**
     * Closes with {@link #DEFAULT_CLOSE_TIMEOUT}.
     *
     * @see #close(Duration)
     */
    @Override
    public void close() {
        close(DEFAULT_CLOSE_TIMEOUT);
    }

    /**
     * Stops accepting records, drains the ring to Kafka and closes the KafkaProducer, all within
     * {@code timeout}. From the moment close starts, {@code offer} throws {@link IllegalStateException}
     * and callers waiting on a full ring are refused the same way (their records are not offered, not
     * counted; close waits for them to leave before it takes its last counts). Records that
     * could not be delivered in time are failed (with a {@link java.util.concurrent.TimeoutException}
     * cause, or the error Kafka gave them), counted in {@link RingStats#failed()} and reported to the
     * listener with their bytes.
     *
     * <p>A record whose caller had claimed its slot when close began (it was inside {@code offer},
     * {@code offerWith} or {@code send}) is never dropped: the flusher drains up to the last claimed
     * slot, however late the caller commits it; after the deadline such a record is failed and
     * reported, and a {@code send}'s future completes. The KafkaProducer is closed on the flusher
     * thread, with what is left of the deadline less a reserve (a fifth of it, at most 500 ms) in which
     * Kafka aborts what it still holds and runs those callbacks.
     *
     * <p>When close returns with {@code stats().pending() == 0}, the record counters are final, but
     * for a {@code DISCARD} offer still running then (see {@link RingStats}). A positive
     * {@code pending()} counts records still in a caller's hands, or left to a flusher that overran
     * the deadline (logged); each is failed and reported when the flusher reaches it.
     *
     * <p>Thread: any caller thread, not the listener and not a future's dependent stage running on the
     * producer's threads (close would wait for itself until its deadline). The first call does the
     * work; a concurrent or later call waits for it, up to its own timeout, and returns the same
     * result, or, if the first is still running, the records not delivered so far. An interrupt of a
     * closing thread does not shorten the close; the interrupt status is kept.
     *
     * @param timeout the deadline for the whole close
     * @return how many records pending when close started (or offered during it) were not delivered
     */
    public long close(Duration timeout) {
        return engine.close(toNanos(timeout));
    }

    /** Tests only: close has begun (the ring refuses records). */
    boolean isClosing() {
        return ring.isClosed();
    }

    /**
     * What a readiness or liveness probe needs: closed or not, connections to brokers, how full the
     * ring is, pending records, the last acknowledgement. Any thread; no lock, no I/O; allocates a
     * little. See {@link ProducerHealth} for how to map it to probes.
     *
     * @return the health now
     */
    public ProducerHealth health() {
        RingStats s = stats();
        long last = accounting.lastDeliveryMillis();
        double saturation = s.ringCapacity() == 0 ? 0 : 1.0 - (double) s.ringRemaining() / s.ringCapacity();
        return new ProducerHealth(ring.isClosed(), engine.connections(), Math.max(0, Math.min(1, saturation)),
                s.pending(), last == 0 ? java.util.Optional.empty() : java.util.Optional.of(java.time.Instant.ofEpochMilli(last)));
    }

    /**
     * A snapshot of the accounting. Allocates one small object; not for the hot path.
     *
     * @return the counters now
     */
    public RingStats stats() {
        // Completions first, offers last: a record seen completed is always seen offered.
        long delivered = accounting.delivered.sum();
        long failed = accounting.failed.sum();
        long withdrawn = accounting.withdrawn.sum();
        long discarded = accounting.discarded.sum();
        long nonRecords = accounting.nonRecords.sum();
        long claimed = ring.cursor() + 1;
        long offered = claimed - nonRecords + discarded;
        return new RingStats(offered, delivered, discarded, failed, withdrawn, ring.size(), ring.remaining(),
                accounting.blockStarted.sum(), Duration.ofNanos(accounting.blockNanos.sum()),
                accounting.listenerErrors.sum(), accounting.producerReplacements.sum(),
                accounting.sendTimeouts[0].sum(), accounting.sendTimeouts[1].sum(), accounting.sendTimeouts[2].sum());
    }

    private void checkRecord(String topic, int partition, long timestamp) {
        if (ring.isClosed()) {
            throw closed();
        }
        Checks.record(topic, partition, timestamp);
    }

    private long claim() {
        long sequence = ring.claim();
        if (sequence == Ring.CLOSED) {
            throw closed();
        }
        return sequence;
    }

    private static IllegalStateException closed() {
        return new IllegalStateException("RingProducer is closed: the record is refused, not dropped");
    }

    /** Everything {@link #checkRecord(String, int, long)} checks, and that the whole record fits a slot. */
    private void checkRecord(String topic, int partition, long timestamp, byte[] key, byte[] value, Header[] headers) {
        checkRecord(topic, partition, timestamp);
        Checks.fits(topic, Slot.encodedSize(key, value, headers), slotCapacity);
    }

    private static long toNanos(Duration d) {
        return Checks.timeoutNanos(d);
    }

    /**
     * Configures a {@link RingProducer}. Not thread-safe: configure and build on one thread. Each
     * {@link #build()} makes a new producer with its own KafkaProducer and threads.
     */
    public static final class Builder {
        private final Map<String, Object> kafkaConfig;
        private int ringSize = 4096;
        private int slotCapacity = 1024;
        private OnFull onFull = OnFull.DISCARD;
        private long blockTimeoutNanos = Long.MAX_VALUE;
        private RingProducerListener listener = RingProducerListener.LOGGING;
        private ThreadFactory threadFactory;
        private int maxBatch = 1024;
        private long reportIntervalNanos = TimeUnit.SECONDS.toNanos(1);
        private int maxReportedFailures = 10_000;
        private long refusalRetryNanos = DEFAULT_REFUSAL_RETRY.toNanos();
        private long sendTimeoutNanos = DEFAULT_SEND_TIMEOUT.toNanos();
        private boolean sendWaitsForSpace = true;
        private long flusherParkNanos = FLUSHER_PARK_NANOS;
        private NanoClock clock = NanoClock.SYSTEM;
        private Supplier<? extends Producer<byte[], byte[]>> producers;
        private String name;
        private KafkaClientListener clientListener;
        private CallerHeaders callerHeaders;

        private Builder(Map<String, Object> kafkaConfig) {
            this.kafkaConfig = new HashMap<>(Objects.requireNonNull(kafkaConfig, "kafkaConfig"));
        }

        /**
         * @param ringSize slots in the ring, a power of two (default 4096). Memory taken up front:
         *                 {@code ringSize * slotCapacity} bytes.
         * @return this builder
         */
        public Builder ringSize(int ringSize) {
            if (ringSize < 1 || Integer.bitCount(ringSize) != 1) {
                throw new IllegalArgumentException("ringSize must be a power of two, was " + ringSize);
            }
            this.ringSize = ringSize;
            return this;
        }

        /**
         * @param bytes largest record (key + value + headers, 8 bytes per header plus its key and
         *              value) a slot holds (default 1024). Larger records are refused by {@code offer}.
         * @return this builder
         */
        public Builder slotCapacity(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("slotCapacity must be positive, was " + bytes);
            }
            this.slotCapacity = bytes;
            return this;
        }

        /**
         * @param onFull what {@code offer} does on a full ring (default {@link OnFull#DISCARD})
         * @return this builder
         */
        public Builder onFull(OnFull onFull) {
            this.onFull = Objects.requireNonNull(onFull, "onFull");
            return this;
        }

        /**
         * Longest wait of a {@link OnFull#BLOCK} caller; then the record is discarded. Default: no limit.
         *
         * @param timeout the longest wait
         * @return this builder
         */
        public Builder blockTimeout(Duration timeout) {
            this.blockTimeoutNanos = toNanos(timeout);
            return this;
        }

        /**
         * @param listener hears failures, discards and waits (default {@link RingProducerListener#LOGGING})
         * @return this builder
         */
        public Builder listener(RingProducerListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * @param threadFactory makes every thread of the producer, all when it is built: the reporter,
         *                      the flusher and the deadline thread (started on the first {@code send});
         *                      later, a producer-closer thread each time a KafkaProducer in a fatal state
         *                      is replaced. The task handed to it names its role in {@code toString()}
         *                      ({@code kafka-scenarios-flusher}, {@code -reporter}, {@code -deadlines},
         *                      {@code -producer-closer}). A factory that returns null makes {@code build()}
         *                      throw; for a producer closer, the flusher closes the old producer itself.
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * @param maxBatch most slots the flusher takes from the ring at once (default 1024)
         * @return this builder
         */
        public Builder maxBatch(int maxBatch) {
            if (maxBatch < 1) {
                throw new IllegalArgumentException("maxBatch must be positive, was " + maxBatch);
            }
            this.maxBatch = maxBatch;
            return this;
        }

        /**
         * @param interval time between listener reports (default 1 s)
         * @return this builder
         */
        public Builder reportInterval(Duration interval) {
            long nanos = toNanos(interval);
            if (nanos == 0) {
                throw new IllegalArgumentException("reportInterval must be positive");
            }
            this.reportIntervalNanos = nanos;
            return this;
        }

        /**
         * @param max failed records whose bytes are held for the listener between two reports (default
         *            10 000). Past it, failures are still counted and reported, without their bytes,
         *            so a long outage cannot exhaust the heap.
         * @return this builder
         */
        public Builder maxReportedFailures(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("maxReportedFailures must not be negative, was " + max);
            }
            this.maxReportedFailures = max;
            return this;
        }

        /**
         * How long a refusal by Kafka fails the records it covers at once, with Kafka's exception,
         * instead of handing each to {@code KafkaProducer.send} (default 10 s): a topic this producer
         * may not write ({@code TopicAuthorizationException}: that topic's records) or a refused login
         * ({@code AuthenticationException}, e.g. a wrong password: every record). Kafka itself makes
         * each such record wait in {@code send} for a metadata round (up to {@code retry.backoff.max.ms},
         * 1 s by default), on the one flusher thread: one denied topic would stall every other topic,
         * and a request's clear cause would become a deadline in the ring. Once the interval has passed
         * the next record is sent to Kafka again, so a granted ACL or a created user is noticed within
         * it; that one record may wait in {@code send} as above. A refused login lasts at most 1 s:
         * it covers every record, and one broker's refusal may not be repeated by the next. A
         * delivered record ends the login's refusal and its topic's at once.
         *
         * @param interval how long; {@link Duration#ZERO} sends every record to Kafka
         * @return this builder
         */
        public Builder refusalRetryInterval(Duration interval) {
            if (interval != null && interval.isNegative()) {
                throw new IllegalArgumentException("refusalRetryInterval must not be negative: " + interval);
            }
            this.refusalRetryNanos = toNanos(Objects.requireNonNull(interval, "refusalRetryInterval"));
            return this;
        }

        /**
         * @param timeout the deadline of a {@link RingProducer#send} that names none (default
         *                {@link RingProducer#DEFAULT_SEND_TIMEOUT}, 10 s)
         * @return this builder
         */
        public Builder sendTimeout(Duration timeout) {
            this.sendTimeoutNanos = toNanos(timeout);
            return this;
        }

        /**
         * @param wait true (the default): on a full ring {@code send} waits for a slot up to its deadline;
         *             false: it fails at once with a {@link SendTimeoutException} of stage {@code RING_SPACE}
         * @return this builder
         */
        public Builder sendWaitsForSpace(boolean wait) {
            this.sendWaitsForSpace = wait;
            return this;
        }

        /**
         * Makes the Kafka producers instead of the builder: one when building, and another each time a
         * fatal error poisons the current one (see the README's producer replacement). For a producer
         * you wrap with your own instrumentation, a {@code MockProducer} in your tests, or a producer
         * that drops everything in a benchmark of the ring alone. The Kafka config given to
         * {@link RingProducer#builder} is then not used to make producers (its serializer and
         * transaction checks still apply). Each producer made belongs to the RingProducer, which
         * closes it.
         *
         * <p>Threads: called on the building thread for the first producer, then on the flusher thread.
         * It must not return null. A producer's {@code send} must behave as KafkaProducer's does: if
         * it throws {@code InterruptException}, the record was not appended (the flusher sends it
         * again after an interrupt it did not ask for).
         *
         * @param producers makes a new producer per call, with byte-array key and value types
         * @return this builder
         */
        public Builder producerFactory(Supplier<? extends Producer<byte[], byte[]>> producers) {
            this.producers = Objects.requireNonNull(producers, "producers");
            return this;
        }

        /**
         * Tests only: how long the idle flusher parks (default 1 ms), so that a test can tell a
         * flusher woken by a caller from one that slept out its park.
         */
        Builder flusherPark(Duration park) {
            this.flusherParkNanos = park.toNanos();
            return this;
        }

        /** Tests only: the clock that deadlines, block timeouts and the close budget are measured on. */
        Builder clock(NanoClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param name this producer's name, default {@code ring-producer-N}: the {@code name} tag of its
         *             metrics, and its KafkaProducer's {@code client.id} when none is configured (a
         *             replacement after a fatal error gets {@code <client.id>-2}, and so on)
         * @return this builder
         */
        public Builder name(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * @param headers adds headers to every record on the caller's thread before it is published,
         *                e.g. the caller's trace context (see {@link CallerHeaders}); none by default
         * @return this builder
         */
        public Builder callerHeaders(CallerHeaders headers) {
            this.callerHeaders = Objects.requireNonNull(headers, "headers");
            return this;
        }

        /**
         * @param listener told of every KafkaProducer this producer creates and closes (the first at
         *                 build, each replacement after a fatal error), e.g. to bind Kafka's client
         *                 metrics; called on the creating or closing thread, see {@link KafkaClientListener}
         * @return this builder
         */
        public Builder clientListener(KafkaClientListener listener) {
            this.clientListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Creates the KafkaProducer and starts the flusher and reporter threads.
         *
         * @return a running producer
         * @throws IllegalArgumentException if a serializer other than {@code ByteArraySerializer} is configured
         * @throws org.apache.kafka.common.KafkaException if Kafka refuses the configuration
         */
        public RingProducer build() {
            Checks.kafkaConfig(kafkaConfig);
            if (name == null) {
                name = "ring-producer-" + INSTANCES.incrementAndGet();
            }
            Map<String, Object> config = java.util.Collections.unmodifiableMap(new HashMap<>(kafkaConfig));
            ClientGenerations generations = new ClientGenerations(config, name, producers, clientListener);
            return build(generations::next);
        }

        /** Builds over one sink that is never replaced: the seam unit tests use. */
        RingProducer build(RecordSink sink) {
            return build(() -> sink);
        }

        /**
         * Builds over sinks from a factory: one now, another each time a fatal error poisons the
         * current one. Closes the first sink if the producer cannot start.
         */
        RingProducer build(Supplier<RecordSink> sinkFactory) {
            RecordSink sink = sinkFactory.get();
            try {
                return new RingProducer(this, sink, sinkFactory);
            } catch (RuntimeException | Error e) {
                sink.close(Duration.ZERO);
                throw e;
            }
        }
    }
}
