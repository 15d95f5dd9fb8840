/**
 * Machinery of the stream processor, not API: the consumer loop that owns the {@code KafkaConsumer}
 * and commits ({@code PollLoop}), the per-partition in-order handling on the worker pool
 * ({@code PartitionWorker}), and the settings and counters they share. Each class says which thread
 * calls it.
 */
package io.kafkascenarios.internal.stream;
