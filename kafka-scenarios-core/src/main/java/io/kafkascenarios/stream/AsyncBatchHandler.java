package io.kafkascenarios.stream;

import java.util.List;
import java.util.concurrent.CompletionStage;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Handles a batch of records from one partition and returns its outputs later, for handlers that call
 * an asynchronous service. The partition's next batch ({@link Ordering#PARTITION}), or the key's
 * ({@link Ordering#KEY}), waits for this stage.
 *
 * <p>Threads: called on one of the processor's worker threads, which then waits for the stage (up to
 * the processor's handler timeout); the stage may complete on any thread.
 */
@FunctionalInterface
public interface AsyncBatchHandler {
    /**
     * @param records one partition's records, offsets ascending, never empty (of one key with
     *                {@link Ordering#KEY})
     * @return the outputs when ready; completing with null or an empty list means none. An exceptional
     *         completion (or a throw from this method) fails the batch like a {@link BatchHandler} throw.
     */
    CompletionStage<List<ProducerRecord<byte[], byte[]>>> handle(List<ConsumerRecord<byte[], byte[]>> records);
}
