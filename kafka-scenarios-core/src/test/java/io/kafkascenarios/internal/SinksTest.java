package io.kafkascenarios.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Test;

/** Replacement of a producer in a fatal state, its back-off on the injected clock, and the wait for old producers. */
class SinksTest {
    private final ManualClock clock = new ManualClock();
    private final Accounting accounting = new Accounting();
    private final List<TestSink> made = new ArrayList<>();
    private final Sinks sinks = new Sinks(sink(), this::sink, accounting, new EngineThreads(null), clock);

    private TestSink sink() {
        TestSink s = new TestSink();
        made.add(s);
        return s;
    }

    @Test
    void onlyFatalErrorsOfTheCurrentProducerCondemnIt() {
        TestSink first = made.get(0);
        sinks.noteIfFatal(first, new NetworkException("transient"));
        assertThat(sinks.usableOrFailure()).isNull();
        sinks.noteIfFatal(new TestSink(), new ProducerFencedException("someone else's"));
        assertThat(sinks.usableOrFailure()).isNull();
        assertThat(sinks.current()).isSameAs(first);
    }

    @Test
    void aCondemnedProducerIsReplacedAndClosed() {
        TestSink first = made.get(0);
        sinks.noteIfFatal(first, new ProducerFencedException("fenced"));
        assertThat(sinks.usableOrFailure()).isNull();
        assertThat(sinks.current()).isNotSameAs(first);
        assertThat(sinks.awaitRetired(() -> false)).isTrue();
        assertThat(first.closed).isTrue();
        assertThat(accounting.producerReplacements.sum()).isEqualTo(1);
    }

    @Test
    void replacementsBackOffOnTheClock() {
        sinks.noteIfFatal(made.get(0), new ProducerFencedException("1"));
        assertThat(sinks.usableOrFailure()).isNull(); // first replacement at once
        clock.advance(Sinks.MIN_REPLACEMENT_BACKOFF_NANOS / 2);
        ProducerFencedException again = new ProducerFencedException("2");
        sinks.noteIfFatal(made.get(1), again);
        assertThat(sinks.usableOrFailure()).isSameAs(again); // within the back-off: records fail with the cause
        assertThat(made).hasSize(2);
        clock.advance(Sinks.MIN_REPLACEMENT_BACKOFF_NANOS);
        assertThat(sinks.usableOrFailure()).isNull();
        assertThat(made).hasSize(3);
    }

    @Test
    void awaitRetiredWaitsForAnOldProducersCloseOrGivesUp() throws Exception {
        TestSink first = made.get(0);
        first.closeGate = new CountDownLatch(1);
        sinks.noteIfFatal(first, new ProducerFencedException("fenced"));
        assertThat(sinks.usableOrFailure()).isNull();
        assertThat(sinks.awaitRetired(() -> true)).isFalse();
        first.closeGate.countDown();
        assertThat(sinks.awaitRetired(() -> false)).isTrue();
    }

    private static final class TestSink implements RecordSink {
        volatile boolean closed;
        volatile CountDownLatch closeGate;

        @Override
        public void send(ProducerRecord<byte[], byte[]> record, Callback callback) {
        }

        @Override
        public void flush() {
        }

        @Override
        public void close(Duration timeout) {
            CountDownLatch g = closeGate;
            if (g != null) {
                try {
                    g.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            closed = true;
        }
    }
}
