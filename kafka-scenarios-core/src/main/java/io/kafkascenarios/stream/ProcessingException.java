package io.kafkascenarios.stream;

import org.apache.kafka.common.TopicPartition;

/**
 * Why a {@link StreamProcessor} stopped at the record at {@link #offset()} of {@link #partition()},
 * after {@link #attempts()} attempts: its retries ran out under {@link FailurePolicy#STOP}; a handler
 * threw (or an async stage completed with) a {@link java.lang.Error}; Kafka kept failing its outputs
 * past the retries (whatever the policy: an outage is not the record's fault); its dead letter could
 * not be written (suppressed here); or the producer was closed. The original failure is the cause. The
 * partition's committed offset is at most {@link #offset()}, so a new instance resumes at this record.
 */
public final class ProcessingException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient TopicPartition partition;
    private final long offset;
    private final int attempts;

    /**
     * @param partition where the record is
     * @param offset the record's offset
     * @param attempts how many times it was tried
     * @param cause the last failure
     */
    public ProcessingException(TopicPartition partition, long offset, int attempts, Throwable cause) {
        super("handling " + partition + " at offset " + offset + " failed after " + attempts
                + (attempts == 1 ? " attempt" : " attempts") + ": " + cause, cause);
        this.partition = partition;
        this.offset = offset;
        this.attempts = attempts;
    }

    /** @return the record's partition */
    public TopicPartition partition() {
        return partition;
    }

    /** @return the record's offset: where a new instance resumes */
    public long offset() {
        return offset;
    }

    /** @return attempts made, the first included */
    public int attempts() {
        return attempts;
    }
}
