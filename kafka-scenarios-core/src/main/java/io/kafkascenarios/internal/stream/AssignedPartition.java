package io.kafkascenarios.internal.stream;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One partition assigned to this instance, as the poll loop sees it whatever the ordering: it takes
 * fetched records, reports how far it is and how much it holds, and winds down on revoke or loss.
 * {@link PartitionWorker} handles it in offset order; {@link ConcurrentPartition} by key or unordered.
 *
 * <p>Threads: {@link #enqueue}, {@link #follow}, {@link #revoke} and {@link #lose} on the poll thread;
 * the getters from any thread.
 */
public interface AssignedPartition {
    /** @return the partition */
    TopicPartition partition();

    /** @return how far the partition is */
    PartitionProgress progress();

    /** @return records fetched and waiting for a handler call */
    int queued();

    /** @return records fetched and not yet behind the commit point: what backpressure bounds */
    int backlog();

    /** Hands fetched records over, in offset order, never empty. Poll thread. */
    void enqueue(List<ConsumerRecord<byte[], byte[]>> records);

    /**
     * Poll thread, before the first {@link #enqueue}: the previous owner on this instance (revoked,
     * then assigned back) may still be finishing; handling starts only after it stopped, so a record is
     * never handled by two owners at once.
     */
    void follow(AssignedPartition previous);

    /**
     * @return completes once neither this partition's handling nor any predecessor's it follows runs
     */
    CompletableFuture<Void> quiescent();

    /**
     * @param limitNanos how long a predecessor may take
     * @return true if this partition has waited longer than that for its predecessor
     */
    boolean stuckBehindPredecessor(long limitNanos);

    /**
     * Poll thread: take no new work; what is in progress finishes (its outputs are awaited).
     *
     * @return completes when nothing is in progress any more
     */
    CompletableFuture<Void> revoke();

    /** Poll thread: the partition is gone (lost, or the revoke wait ran out): abandon what is in progress. */
    void lose();
}
