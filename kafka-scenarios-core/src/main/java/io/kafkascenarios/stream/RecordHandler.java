package io.kafkascenarios.stream;

import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Handles one record and returns the records to produce: the per-record convenience over
 * {@link BatchHandler}. The processor still works in batches; it calls this once per record, in offset
 * order, and sends the batch's outputs together.
 *
 * <p>Threads: called on one of the processor's worker threads (or its executor's). With
 * {@link Ordering#PARTITION} never twice at once for one partition; with {@link Ordering#KEY} never
 * twice at once for one key, different keys of a partition concurrently; with
 * {@link Ordering#UNORDERED} concurrently for any records.
 */
@FunctionalInterface
public interface RecordHandler {
    /**
     * @param record the record
     * @return the outputs; null or empty for none
     * @throws Exception to fail the record's batch (retries then isolate the failing record)
     */
    List<ProducerRecord<byte[], byte[]>> handle(ConsumerRecord<byte[], byte[]> record) throws Exception;
}
