package io.kafkascenarios.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.FailedRecord;
import io.kafkascenarios.FailureReport;
import io.kafkascenarios.RingProducerListener;

/** The reporter's coalescing, driven one round at a time on the test thread. */
class ReporterTest {
    private final Accounting accounting = new Accounting();
    private final List<FailureReport> failures = new CopyOnWriteArrayList<>();
    private final List<Long> discards = new CopyOnWriteArrayList<>();
    private final RingProducerListener listener = new RingProducerListener() {
        @Override
        public void onFailed(FailureReport report) {
            failures.add(report);
        }

        @Override
        public void onDiscarded(long discarded, long totalDiscarded) {
            discards.add(discarded);
        }
    };

    private static FailedRecord record(String topic) {
        return new FailedRecord(topic, 0, null, new byte[1]);
    }

    @Test
    void failuresAreGroupedByExceptionClassOneCallPerClassPerRound() {
        Reporter reporter = new Reporter(listener, accounting, 1, 100);
        reporter.recordFailure(record("a"), new NetworkException("down 1"));
        reporter.recordFailure(record("b"), new RecordTooLargeException("big"));
        reporter.recordFailure(record("c"), new NetworkException("down 2"));
        reporter.reportOnce();
        assertThat(failures).hasSize(2);
        assertThat(failures.get(0).cause()).hasMessage("down 1");
        assertThat(failures.get(0).count()).isEqualTo(2);
        assertThat(failures.get(0).records()).extracting(FailedRecord::topic).containsExactly("a", "c");
        assertThat(failures.get(1).count()).isEqualTo(1);
        reporter.reportOnce();
        assertThat(failures).hasSize(2); // nothing new, nothing said
    }

    @Test
    void pastTheBoundFailuresAreCountedWithoutTheirBytes() {
        Reporter reporter = new Reporter(listener, accounting, 1, 2);
        for (int i = 0; i < 5; i++) {
            reporter.recordFailure(record("t" + i), new NetworkException("down"));
        }
        reporter.reportOnce();
        assertThat(failures).hasSize(1);
        assertThat(failures.get(0).count()).isEqualTo(5);
        assertThat(failures.get(0).records()).hasSize(2);
        assertThat(failures.get(0).omitted()).isEqualTo(3);
    }

    @Test
    void discardsAreReportedAsDeltas() {
        Reporter reporter = new Reporter(listener, accounting, 1, 2);
        accounting.discarded.add(3);
        reporter.reportOnce();
        accounting.discarded.add(4);
        reporter.reportOnce();
        reporter.reportOnce();
        assertThat(discards).containsExactly(3L, 4L);
    }

    @Test
    void aThrowingListenerIsCountedAndTheRoundGoesOn() {
        Reporter reporter = new Reporter(new RingProducerListener() {
            @Override
            public void onFailed(FailureReport report) {
                throw new IllegalStateException("listener bug");
            }

            @Override
            public void onDiscarded(long discarded, long totalDiscarded) {
                discards.add(discarded);
            }
        }, accounting, 1, 10);
        reporter.recordFailure(record("a"), new NetworkException("x"));
        reporter.recordFailure(record("b"), new RecordTooLargeException("y"));
        accounting.discarded.add(1);
        reporter.reportOnce();
        assertThat(accounting.listenerErrors.sum()).isEqualTo(2);
        assertThat(discards).containsExactly(1L);
    }
}
