package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.internal.stream.Outputs;
import io.kafkascenarios.internal.stream.PollLoop;
import io.kafkascenarios.internal.stream.StreamCounters;
import io.kafkascenarios.internal.stream.StreamSettings;
import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.ProcessingException;

/**
 * The stream processor's poll loop and partition workers against kafka-clients' {@code MockConsumer} and
 * a fake producer sink: how acknowledgement failures are classified, fast and without a broker. (The
 * real-broker behaviour is in the ITs.)
 */
class StreamWorkerTest {
    private static final TopicPartition TP = new TopicPartition("in", 0);
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final LoopFixture fx = new LoopFixture();
    private final FakeSink sink = fx.sink;
    private final StreamCounters counters = fx.counters;
    private final AtomicInteger handled = new AtomicInteger();
    /** The offset whose output is larger than a slot (1 KiB by default), or -1. */
    private volatile long oversizedOutputAt = -1;
    private PollLoop loop;

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private void start(FailurePolicy policy, int retries, int records) {
        fx.policy = policy;
        fx.retries = retries;
        loop = fx.start(batch -> {
            handled.addAndGet(batch.size());
            List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : batch) {
                out.add(new ProducerRecord<>("out", r.key(), r.offset() == oversizedOutputAt ? new byte[4096] : r.value()));
            }
            return out;
        }, records, records).loop;
    }

    private long committed() {
        return fx.committed();
    }

    @Test
    void anOutageIsRetriedAsAWholeAndNeverSkipsARecord() {
        sink.failWith = new TimeoutException("Expiring 10 record(s): delivery timeout"); // Kafka's, retriable
        start(FailurePolicy.SKIP, 50, 10);
        await().atMost(WAIT).until(() -> counters.retries.sum() >= 3);
        assertThat(counters.skipped.sum()).isZero();
        assertThat(committed()).as("nothing acknowledged, nothing committed").isLessThanOrEqualTo(0);
        sink.failWith = null; // the broker is back
        await().atMost(WAIT).until(() -> counters.processed.sum() == 10);
        await().atMost(WAIT).until(() -> committed() == 10);
        assertThat(counters.skipped.sum()).isZero();
        assertThat(loop.termination()).isNotDone();
    }

    @Test
    void anOutageLongerThanTheRetriesStopsWithKafkasCauseWhateverThePolicy() throws Exception {
        sink.failWith = new TimeoutException("Expiring 10 record(s): delivery timeout");
        start(FailurePolicy.DEAD_LETTER, 2, 10);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> loop.termination().get(20, TimeUnit.SECONDS));
        assertThat(e.getCause()).isInstanceOf(ProcessingException.class);
        ProcessingException pe = (ProcessingException) e.getCause();
        assertThat(pe.getCause()).isInstanceOf(TimeoutException.class);
        assertThat(pe.offset()).isZero();
        assertThat(pe.attempts()).as("the tries Kafka was given, not the record's own attempts").isEqualTo(3);
        assertThat(pe.getMessage()).contains("after 3 attempts");
        assertThat(counters.deadLettered.sum() + counters.skipped.sum()).isZero();
        assertThat(committed()).isLessThanOrEqualTo(0);
        assertThat(counters.retries.sum()).isEqualTo(2);
    }

    @Test
    void anOutputTheProducerRefusesMeetsThePolicyWithoutRetries() {
        oversizedOutputAt = 3;
        start(FailurePolicy.SKIP, 3, 6);
        await().atMost(WAIT).until(() -> counters.processed.sum() == 6);
        assertThat(counters.skipped.sum()).isEqualTo(1);
        assertThat(counters.retries.sum()).as("the same output would be refused again").isZero();
        assertThat(counters.produced.sum()).isEqualTo(5);
        await().atMost(WAIT).until(() -> committed() == 6);
        assertThat(loop.termination()).isNotDone();
    }

    @Test
    void anAcknowledgementFailureTheRecordCausedMeetsThePolicy() {
        sink.failWith = new SerializationException("the record's bytes"); // listed as non-retryable
        start(FailurePolicy.SKIP, 3, 5);
        await().atMost(WAIT).until(() -> counters.skipped.sum() == 5);
        assertThat(counters.retries.sum()).isZero();
        await().atMost(WAIT).until(() -> committed() == 5);
    }

    @Test
    void theFinalCommitKeepsToTheCloseDeadlineNotTheRevokeTimeout() {
        start(FailurePolicy.STOP, 3, 10);
        await().atMost(WAIT).until(() -> committed() == 10);
        fx.commitsHang = true; // the coordinator is gone: a commit takes all the time it is given
        fx.consumer.schedulePollTask(() -> fx.consumer.addRecord(LoopFixture.record(10, 11)));
        await().atMost(WAIT).until(() -> counters.processed.sum() == 11);
        fx.syncCommitTimeouts.clear();
        loop.close(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300));
        assertThat(loop.termination()).succeedsWithin(WAIT);
        assertThat(fx.syncCommitTimeouts).hasSize(1);
        assertThat(fx.syncCommitTimeouts.get(0)).as("within close's 300 ms, not the 2 s revoke timeout")
                .isLessThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void aHandlerThatLeavesItsInterruptFlagSetDoesNotMakeTheBackoffSpin() {
        fx.retries = 1;
        fx.backoff = Backoff.fixed(Duration.ofSeconds(1));
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long[] cpuAtFailure = new long[1];
        long[] cpuAtRetry = new long[1];
        AtomicInteger calls = new AtomicInteger();
        loop = fx.start(batch -> {
            if (calls.incrementAndGet() == 1) {
                Thread.currentThread().interrupt(); // e.g. a client library that restores the flag and fails
                cpuAtFailure[0] = threads.getCurrentThreadCpuTime();
                throw new IllegalStateException("failed, interrupt flag left set");
            }
            cpuAtRetry[0] = threads.getCurrentThreadCpuTime();
            return List.of();
        }, 1, 1).loop;
        await().atMost(WAIT).until(() -> counters.processed.sum() == 1);
        assertThat(calls.get()).isEqualTo(2);
        // A spinning backoff burns its whole second on the CPU; a parked one next to nothing.
        assertThat(Duration.ofNanos(cpuAtRetry[0] - cpuAtFailure[0])).isLessThan(Duration.ofMillis(250));
    }

    @Test
    void aBatchWhoseOutputsAreAcknowledgedIsCommittedWhileItsWorkerIsBusyWithTheNext() throws Exception {
        java.util.concurrent.Semaphore acks = new java.util.concurrent.Semaphore(0);
        sink.ackGate = acks; // the first batch's outputs stay unacknowledged until the second batch runs
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        loop = fx.start(batch -> {
            if (batch.get(0).offset() == 100) {
                acks.release(Integer.MAX_VALUE / 2);
                release.await(); // a slow handler: the worker does not come back to the first batch meanwhile
            }
            List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : batch) {
                out.add(new ProducerRecord<>("out", r.key(), r.value()));
            }
            return out;
        }, 200, 10).loop;
        try {
            await().atMost(WAIT).until(() -> committed() == 100);
        } finally {
            release.countDown();
        }
        await().atMost(WAIT).until(() -> committed() == 200);
        assertThat(counters.processed.sum()).isEqualTo(200);
    }
}
