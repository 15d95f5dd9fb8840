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
 * @param paused whether fetching is paused because the partition (or the processor) holds as many
 *               records as its limit
 * @param stalledFor how long the partition has held fetched records while its commit point did not
 *                   move (a stuck handler, a partition paused and never resumed, a record retried for
 *                   long), to the commit interval's precision; zero while it progresses or holds
 *                   nothing. Past the processor's {@code stallTimeout} it is listed in
 *                   {@link ProcessorHealth#stalled()}.
 */
public record PartitionHealth(long completed, long committed, long lag, int queued, boolean paused,
                              java.time.Duration stalledFor) {
}
