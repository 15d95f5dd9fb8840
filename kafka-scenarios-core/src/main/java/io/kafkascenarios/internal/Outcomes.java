package io.kafkascenarios.internal;

import org.apache.kafka.clients.producer.RecordMetadata;

import io.kafkascenarios.FailedRecord;

/**
 * Gives each record that left the ring its one outcome: delivered, failed or withdrawn. The only place
 * where {@link Accounting#delivered}, {@link Accounting#failed} and {@link Accounting#withdrawn} move.
 *
 * <p>Order within an outcome: the waiter's future first, the report next, the counter last. A record
 * seen settled in the counters therefore has its future completed, and the flusher can tell that
 * every record it handled before a flush marker is settled by comparing counts (see {@link #settled}).
 *
 * <p>Threads: {@link #completed} on Kafka's I/O thread (or the thread closing a producer, when Kafka
 * aborts records); the failure methods on the flusher too. Never blocks: counts, completes and
 * enqueues.
 */
public final class Outcomes {
    private final Accounting accounting;
    private final Reporter reporter;
    private final Sinks sinks;
    private final Refusals refusals;

    /**
     * @param accounting counters to move
     * @param reporter where failures are queued for the listener
     * @param sinks told of fatal errors, so that the flusher replaces the producer
     * @param refusals told of Kafka's refusals, so that the flusher fails what they cover at once
     */
    public Outcomes(Accounting accounting, Reporter reporter, Sinks sinks, Refusals refusals) {
        this.accounting = accounting;
        this.reporter = reporter;
        this.sinks = sinks;
        this.refusals = refusals;
    }

    /** @return what Kafka refused, for the flusher */
    Refusals refusals() {
        return refusals;
    }

    /** Kafka's callback for one record. */
    void completed(OutgoingRecord record, RecordMetadata metadata, Exception exception) {
        if (exception == null) {
            if (!record.finish()) {
                return;
            }
            // Before the future completes: a caller that saw its send acknowledged sees it in health().
            accounting.deliveredNow();
            refusals.delivered(record.topic());
            try {
                if (record.completion != null) {
                    record.completion.succeed(metadata);
                }
            } finally {
                accounting.delivered.increment();
            }
        } else {
            try {
                // A late error from a producer already replaced must not condemn its successor.
                sinks.noteIfFatal(record.sentTo, exception);
                refusals.note(record.topic(), exception);
            } finally { // an Error while noting (out of memory) must not leave the record pending
                fail(record, metadata == null ? -1 : metadata.partition(), exception);
            }
        }
    }

    /**
     * Fails a copied-out record, once: a record Kafka threw for and may still call back is counted once.
     *
     * @param record the record
     * @param partition the partition Kafka chose, or -1
     * @param cause why
     */
    void fail(OutgoingRecord record, int partition, Throwable cause) {
        if (!record.finish()) {
            return;
        }
        // Each step in its own finally: an Error in one (out of memory while reporting) must not leave
        // the record uncounted, which would make it pending forever.
        try {
            if (record.completion != null) {
                record.completion.fail(cause);
            }
        } finally {
            try {
                Integer requested = record.partition();
                int p = partition >= 0 ? partition : requested == null ? -1 : requested;
                reporter.recordFailure(new FailedRecord(record.topic(), p, record.key(), record.value()), cause);
            } finally {
                accounting.failed.increment();
            }
        }
    }

    /**
     * Fails a record whose bytes could not be copied out of its slot (out of memory, most likely).
     * Flusher thread, before it releases the slot: the slot's fields are still the record's.
     *
     * @param slot the record's slot, not yet released
     * @param cause why
     */
    void failUncopied(Slot slot, Throwable cause) {
        try {
            if (slot.completion != null) {
                slot.completion.fail(cause);
            }
        } finally {
            try {
                reporter.recordFailure(new FailedRecord(slot.topic, slot.partition, null, null), cause);
            } finally {
                accounting.failed.increment();
            }
        }
    }

    /**
     * Flusher thread: a record its deadline withdrew from the ring, skipped. Its future fails with a
     * {@code SendTimeoutException} of stage {@code IN_RING} (here, if the deadline has not yet); nothing
     * is reported.
     */
    void withdrawn(RecordCompletion completion) {
        try {
            completion.failWithdrawn(); // the future first: the deadline that won may still be on its way
        } finally {
            accounting.withdrawn.increment();
        }
    }

    /**
     * Flusher thread: whether every record handed out so far has its outcome. Exact when no record is
     * being handed out meanwhile (the flusher is the only one that does): the counters only grow, and
     * never past {@code handled}.
     *
     * @param handled records the flusher has taken from the ring
     * @return true if all of them are delivered, failed or withdrawn
     */
    boolean settled(long handled) {
        return accounting.delivered.sum() + accounting.failed.sum() + accounting.withdrawn.sum() >= handled;
    }
}
