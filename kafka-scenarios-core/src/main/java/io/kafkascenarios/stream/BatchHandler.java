package io.kafkascenarios.stream;

import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Handles a batch of records from one partition, in offset order, and returns the records to produce.
 *
 * <p>Threads: called on one of the processor's worker threads (or its executor's). With
 * {@link Ordering#PARTITION} never twice at once for the same partition, possibly at once for
 * different partitions; with {@link Ordering#KEY} a batch holds records of one key, never twice at
 * once for that key; with {@link Ordering#UNORDERED} batches of any records, concurrently. A call may
 * block (it holds a thread while it does; the consumer keeps polling).
 */
@FunctionalInterface
public interface BatchHandler {
    /**
     * @param records one partition's records, offsets ascending, never empty (of one key with
     *                {@link Ordering#KEY})
     * @return the outputs, in the order to produce them; null or empty for none (e.g. the handler wrote
     *         to a non-Kafka sink)
     * @throws Exception to fail the batch: it is retried, then the processor's {@link FailurePolicy} applies
     */
    List<ProducerRecord<byte[], byte[]>> handle(List<ConsumerRecord<byte[], byte[]>> records) throws Exception;
}
