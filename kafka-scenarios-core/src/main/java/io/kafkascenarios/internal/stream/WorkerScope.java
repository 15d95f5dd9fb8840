package io.kafkascenarios.internal.stream;

import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.kafkascenarios.stream.ProcessingException;

/**
 * What a partition's attempts need to know about the world around them: whether to give up, whether
 * to stop taking work, where done records go, and how to stop the processor. Implemented by
 * {@link PartitionWorker} and {@link ConcurrentPartition}.
 *
 * <p>Threads: read and called on the worker thread; the answers change under it (the poll thread
 * revokes or loses the partition, close abandons).
 */
interface WorkerScope {
    /** @return true once the partition is lost or the close gave up: drop everything, report nothing */
    boolean abandoned();

    /** @return true once the partition is revoked or lost, or the processor is stopping: take no new work */
    boolean winding();

    /**
     * These records are done: handled with their outputs acknowledged, dead-lettered or skipped.
     *
     * @param records offsets ascending
     */
    void done(List<ConsumerRecord<byte[], byte[]>> records);

    /** Stops the processor with this failure (the first one wins). */
    void fail(ProcessingException e);
}
