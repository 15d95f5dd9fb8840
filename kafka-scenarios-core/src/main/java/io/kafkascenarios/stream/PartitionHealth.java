package io.kafkascenarios.stream;

/**
 * One assigned partition in a {@link ProcessorHealth} snapshot. Immutable.
 *
 * @param completed the next offset to commit: every record before it was handled and its outputs
 *                  acknowledged; -1 if this instance has completed nothing in the partition yet
 * @param committed the last offset this instance committed, -1 if none yet
 * @param lag records from {@code completed} to the end of the partition: fetched and not done yet,
 *            plus not fetched yet; refreshed every commit interval; -1 until the consumer knows the
 *            end offset
 * @param queued records fetched and waiting for the handler
 * @param paused whether fetching is paused because {@code queued} reached the processor's limit
 */
public record PartitionHealth(long completed, long committed, long lag, int queued, boolean paused) {
}
