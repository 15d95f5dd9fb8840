package io.kafkascenarios;

import java.util.List;

/**
 * One kind of error (an exception class) and the records it failed during one report interval.
 *
 * <p>At most {@link RingProducer.Builder#maxReportedFailures(int)} failed records are held between
 * two reports; beyond that they are counted in {@link #count()} and {@link #omitted()} but their bytes
 * are not kept, so a long outage cannot exhaust the heap. Immutable.
 */
public final class FailureReport {
    private final Throwable cause;
    private final long count;
    private final List<FailedRecord> records;

    /**
     * @param cause the first exception seen for this distinct error in the interval
     * @param count how many records failed with it in the interval
     * @param records the failed records kept, at most {@code count}
     */
    public FailureReport(Throwable cause, long count, List<FailedRecord> records) {
        this.cause = cause;
        this.count = count;
        this.records = List.copyOf(records);
    }

    /** @return the first exception of this kind in the interval */
    public Throwable cause() {
        return cause;
    }

    /** @return how many records failed with this error in the interval */
    public long count() {
        return count;
    }

    /** @return the failed records whose bytes were kept */
    public List<FailedRecord> records() {
        return records;
    }

    /** @return failed records counted but not kept */
    public long omitted() {
        return count - records.size();
    }

    @Override
    public String toString() {
        return "FailureReport{count=" + count + ", cause=" + cause + ", omitted=" + omitted() + '}';
    }
}
