package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The KafkaProducer the flusher sends to, and its replacement after a fatal error: a new producer is
 * made, the old one is closed on a producer-closer thread (Kafka's close joins its I/O thread, which
 * runs every aborted record's callback), and the flusher never waits for that close, except at a flush
 * marker or at the end of close, where "settled" must include the old producer's records.
 * Replacements back off exponentially while the cause persists; in between, records fail at once
 * with the fatal cause.
 *
 * <p>Threads: {@link #current}, {@link #usableOrFailure}, {@link #awaitRetired}, {@link #closeCurrent}
 * on the flusher only; {@link #noteIfFatal} from any thread (Kafka's I/O thread included): it only
 * records the error against the producer that gave it.
 */
public final class Sinks {
    private static final Logger LOG = LoggerFactory.getLogger(Sinks.class);
    static final long MIN_REPLACEMENT_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long MAX_REPLACEMENT_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final long RETIRED_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

    private final Supplier<RecordSink> factory;
    private final Accounting accounting;
    private final EngineThreads threads;
    private final NanoClock clock;
    /** Written by the flusher only; volatile so that {@link #noteIfFatal} compares against the current one. */
    private volatile RecordSink current;
    private final AtomicReference<Condemned> condemned = new AtomicReference<>();
    /** Replaced producers whose close has not returned yet. */
    private final AtomicInteger retiring = new AtomicInteger();
    private long backoffNanos = MIN_REPLACEMENT_BACKOFF_NANOS;
    private long nextReplacementNanos;

    /**
     * @param first the producer to start with
     * @param factory makes a new producer when a fatal error poisoned the current one
     * @param accounting counts replacements
     * @param threads makes producer-closer threads
     * @param clock time for the back-off
     */
    public Sinks(RecordSink first, Supplier<RecordSink> factory, Accounting accounting, EngineThreads threads,
                 NanoClock clock) {
        this.current = first;
        this.factory = factory;
        this.accounting = accounting;
        this.threads = threads;
        this.clock = clock;
        this.nextReplacementNanos = clock.nanoTime() - MAX_REPLACEMENT_BACKOFF_NANOS - 1;
    }

    /** A producer in a fatal state and why. Allocated only when that happens. */
    private static final class Condemned {
        final RecordSink sink;
        final Throwable cause;

        Condemned(RecordSink sink, Throwable cause) {
            this.sink = sink;
            this.cause = cause;
        }
    }

    /** @return the producer to send to (flusher thread) */
    public RecordSink current() {
        return current;
    }

    /**
     * Any thread: remembers a fatal error of {@code from}, if {@code from} is still the current producer.
     *
     * @param from the producer that gave the error
     * @param t the error
     */
    public void noteIfFatal(RecordSink from, Throwable t) {
        if (condemned.get() == null && from == current && isFatal(t)) {
            condemned.compareAndSet(null, new Condemned(from, t));
        }
    }

    /**
     * Flusher thread, before a send: replaces a condemned producer if the back-off allows.
     *
     * @return null if {@link #current()} may be sent to; otherwise the failure to give the record
     */
    public Throwable usableOrFailure() {
        Condemned c = condemned.get();
        if (c == null) {
            return null;
        }
        if (c.sink != current) {
            condemned.compareAndSet(c, null); // a late error from a producer already replaced
            return null;
        }
        long now = clock.nanoTime();
        if (now - nextReplacementNanos < 0) {
            return c.cause;
        }
        RecordSink old = current;
        try {
            current = factory.get();
        } catch (Throwable t) {
            t.addSuppressed(c.cause);
            LOG.error("the Kafka producer is in a fatal state ({}) and a new one could not be made; retrying in {} ms",
                    c.cause.toString(), TimeUnit.NANOSECONDS.toMillis(backoffNanos), t);
            backOff(now);
            return t;
        }
        condemned.compareAndSet(c, null);
        accounting.producerReplacements.increment();
        LOG.warn("replaced the Kafka producer after a fatal error: {}", c.cause.toString());
        backOff(now);
        retire(old);
        return null;
    }

    private void retire(RecordSink old) {
        retiring.incrementAndGet();
        Runnable close = () -> {
            try {
                old.close(Duration.ZERO);
            } catch (Throwable t) {
                LOG.warn("closing the failed Kafka producer: {}", t.toString());
            } finally {
                retiring.decrementAndGet();
            }
        };
        Thread closer = null;
        try {
            closer = threads.newThread(EngineThreads.Role.PRODUCER_CLOSER, close);
            if (closer != null) {
                closer.start();
            }
        } catch (Throwable t) {
            LOG.warn("no producer-closer thread ({}); the flusher closes the failed producer itself", t.toString());
            closer = null;
        }
        if (closer == null) {
            close.run();
        }
    }

    /** The next replacement waits twice as long as the last, up to 30 s, unless the last was long ago. */
    private void backOff(long now) {
        if (now - nextReplacementNanos > MAX_REPLACEMENT_BACKOFF_NANOS) {
            backoffNanos = MIN_REPLACEMENT_BACKOFF_NANOS;
        } else {
            backoffNanos = Math.min(backoffNanos * 2, MAX_REPLACEMENT_BACKOFF_NANOS);
        }
        nextReplacementNanos = now + backoffNanos;
    }

    /**
     * Flusher thread: waits until every replaced producer is closed, so that their records have their
     * outcomes, or until {@code giveUp} says so.
     *
     * @param giveUp checked between polls
     * @return true if none is left closing
     */
    public boolean awaitRetired(BooleanSupplier giveUp) {
        while (retiring.get() > 0) {
            if (giveUp.getAsBoolean()) {
                return false;
            }
            Thread.interrupted(); // the flusher is stopped by flags, never by an interrupt; see FlusherIdle
            LockSupport.parkNanos(this, RETIRED_POLL_NANOS);
        }
        return true;
    }

    /**
     * Flusher thread, at the end: closes the current producer, failing what is incomplete after
     * {@code timeout} (Kafka runs those callbacks before it returns).
     *
     * @param timeout how long Kafka may take
     */
    public void closeCurrent(Duration timeout) {
        current.close(timeout);
    }

    /**
     * Errors after which a KafkaProducer with idempotence accepts nothing more: the ones kafka-clients
     * 4.x's TransactionManager turns into its fatal state. Others (an out-of-order sequence, an expired
     * authentication) it recovers from by itself.
     */
    static boolean isFatal(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ProducerFencedException || c instanceof ClusterAuthorizationException
                    || c instanceof TransactionalIdAuthorizationException || c instanceof UnsupportedVersionException
                    || c instanceof InvalidPidMappingException) {
                return true;
            }
        }
        return false;
    }
}
