package io.kafkascenarios.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.RingProducerListener;

/** An outcome is counted whatever its waiter does: a record is never left pending by an error on the way. */
class OutcomesTest {
    private final Accounting accounting = new Accounting();
    private final Reporter reporter = new Reporter(new RingProducerListener() {
    }, accounting, TimeUnit.SECONDS.toNanos(1), 10);
    private final Sinks sinks = new Sinks(null, () -> null, accounting, new EngineThreads(null), NanoClock.SYSTEM);
    private final Outcomes outcomes = new Outcomes(accounting, reporter, sinks, new Refusals(0, NanoClock.SYSTEM));

    /** A completion that throws an Error, as an out-of-memory in a future's dependent stage would. */
    private static final class ThrowingCompletion implements RecordCompletion {
        @Override
        public boolean takeForSend() {
            return true;
        }

        @Override
        public void failWithdrawn() {
        }

        @Override
        public void succeed(RecordMetadata metadata) {
            throw new OutOfMemoryError("test: succeed");
        }

        @Override
        public void fail(Throwable cause) {
            throw new OutOfMemoryError("test: fail");
        }
    }

    private OutgoingRecord record() {
        return new OutgoingRecord(outcomes, new ThrowingCompletion(), "t", null, null, null, new byte[1], null);
    }

    @Test
    void aFailureIsCountedEvenWhenItsWaiterThrows() {
        assertThatThrownBy(() -> outcomes.fail(record(), -1, new RuntimeException("down")))
                .isInstanceOf(OutOfMemoryError.class);
        assertThat(accounting.failed.sum()).isEqualTo(1);
    }

    @Test
    void aDeliveryIsCountedEvenWhenItsWaiterThrows() {
        RecordMetadata md = new RecordMetadata(new TopicPartition("t", 0), 0, 0, 0, 1, 1);
        assertThatThrownBy(() -> outcomes.completed(record(), md, null)).isInstanceOf(OutOfMemoryError.class);
        assertThat(accounting.delivered.sum()).isEqualTo(1);
    }

    @Test
    void aRecordIsCountedOnceWhenKafkaThrowsAndCallsBack() {
        OutgoingRecord r = new OutgoingRecord(outcomes, null, "t", null, null, null, new byte[1], null);
        outcomes.fail(r, -1, new RuntimeException("thrown from send"));
        outcomes.completed(r, null, new RuntimeException("and called back"));
        assertThat(accounting.failed.sum()).isEqualTo(1);
    }
}
