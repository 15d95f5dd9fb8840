package io.kafkascenarios;

import java.util.List;

/**
 * One kind of error (an exception class) and the records it failed during one report interval.
 *
 * <p>At most {@link RingProducer.Builder#maxReportedFailures(int)} failed records are held between
 * two reports; beyond that they are counted in {@link #count()} and {@link #omitted()} but their bytes
 * are not kept, so a long outage cannot exhaust the heap. Immutable (the list is copied).
 *
 * @param cause the first exception seen for this distinct error in the interval
 * @param count how many records failed with it in the interval
 * @param records the failed records kept, at most {@code count}
 */
public record FailureReport(Throwable cause, long count, List<FailedRecord> records) {
    /** Copies the list: a report never changes. */
    public FailureReport {
        records = List.copyOf(records);
    }

    /** @return failed records counted but not kept (past {@code maxReportedFailures}) */
    public long omitted() {
        return count - records.size();
    }

    @Override
    public String toString() {
        return "FailureReport{count=" + count + ", cause=" + cause + ", omitted=" + omitted() + '}';
    }
}
