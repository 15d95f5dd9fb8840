package io.kafkascenarios.stream;

/**
 * Which records of one partition a {@link StreamProcessor} may handle at once. Whatever the mode, a
 * partition's checkpoint is the contiguous prefix of records whose handler succeeded and whose outputs
 * were acknowledged: a record handled early never lets the commit pass one still running.
 */
public enum Ordering {
    /**
     * The default: a partition's records are handled in offset order, one batch at a time per
     * partition; partitions in parallel. The fastest per record (big batches, no per-key
     * bookkeeping) and the only mode in which a handler may rely on the order across keys. Concurrency
     * is at most the number of assigned partitions.
     */
    PARTITION,
    /**
     * Records with the same key are handled in offset order, one call at a time per key; different
     * keys of the same partition concurrently (up to {@link StreamProcessor.Builder#maxConcurrency}
     * calls across the processor). A key's next records wait until its previous ones are done, outputs
     * acknowledged, so a key's outputs keep their order even when outputs fail and are retried. Records
     * without a key are one key among themselves. A key is per partition: the same key in two
     * partitions (or topics) may be handled at once, as Kafka's partitioner never does for one topic.
     * For I/O-bound handlers whose state is per key.
     */
    KEY,
    /**
     * No order: any records of a partition are handled concurrently, in batches sized so that every
     * call slot stays busy. For handlers where each record stands alone.
     */
    UNORDERED
}
