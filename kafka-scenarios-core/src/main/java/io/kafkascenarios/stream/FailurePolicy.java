package io.kafkascenarios.stream;

/**
 * What a {@link StreamProcessor} does with a record whose handling still fails after its retries (or at
 * once, for a failure in {@link StreamProcessor.Builder#nonRetryable}).
 */
public enum FailurePolicy {
    /**
     * The default. The processor stops: its termination future fails with a
     * {@link ProcessingException} naming the record, nothing from that record on is committed in its
     * partition, and a new instance resumes at that record (crash and resume).
     */
    STOP,
    /**
     * The input record is produced, unchanged, to the dead-letter topic with headers naming the error
     * and where the record came from ({@link StreamProcessor#HEADER_ERROR_CLASS} and the others); once
     * that is acknowledged the record counts as done and the partition moves on.
     */
    DEAD_LETTER,
    /** The record is logged, counted in {@link ProcessorHealth#skipped()}, and counts as done. */
    SKIP
}
