package io.kafkascenarios;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.sun.management.ThreadMXBean;

/**
 * The telemetry publish path allocates nothing on the caller's thread, measured with the JVM's
 * per-thread allocation counter: on the accepted path, on the discard path, with headers and with a
 * writer.
 */
class RingProducerAllocationTest {
    private static final int WARM_UP = 300_000;
    private static final int MEASURED = 1_000_000;
    private static final RecordWriter<CharSequence> UTF8 = (text, value) -> value.putUtf8(text);

    private final ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final FakeSink sink = new FakeSink();
    private final byte[] key = "key-1".getBytes(UTF_8);
    private final byte[] value = new byte[100];
    private final Header[] headers = {new RecordHeader("trace-id", "0af7651916cd43dd".getBytes(UTF_8))};
    private final StringBuilder text = new StringBuilder("GET /orders/42 200 ünïcödé");
    private RingProducer producer;

    @AfterEach
    void tearDown() {
        sink.unblock();
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    private long run(int n) {
        long accepted = 0;
        for (int i = 0; i < n; i++) {
            accepted += producer.offer("telemetry", key, value) ? 1 : 0;
            accepted += producer.offer("telemetry", 0, 1_700_000_000_000L, key, value, headers) ? 1 : 0;
            accepted += producer.offerWith("telemetry", UTF8, text) ? 1 : 0;
            accepted += producer.discardIfFull() ? 0 : 1; // counts a discard only on a full ring
        }
        return accepted;
    }

    private long allocatedBy(int n) {
        long before = threads.getCurrentThreadAllocatedBytes();
        run(n);
        return threads.getCurrentThreadAllocatedBytes() - before;
    }

    /**
     * Nothing allocated per call: under 1 KiB for millions of calls, where allocating anything per
     * call (at least 16 bytes) would be tens of megabytes, and even once per 100,000 calls over 1 KiB.
     * Not "exactly 0 bytes in the window": the JIT can allocate once on the thread it runs (a
     * deoptimization rematerializes scalar-replaced objects there), seen as 96 bytes in one window
     * out of many.
     */
    private void assertNothingAllocatedPerCall(long bytes, long calls) {
        assertThat(bytes).as("bytes allocated by %d calls", calls).isLessThan(1024);
    }

    @Test
    void theMeterSeesAllocation() {
        long before = threads.getCurrentThreadAllocatedBytes();
        byte[][] kept = new byte[1000][];
        for (int i = 0; i < kept.length; i++) {
            kept[i] = new byte[100];
        }
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).isGreaterThanOrEqualTo(100L * kept.length);
    }

    @Test
    void offerAllocatesNothingWhileRecordsFlow() {
        // BLOCK, so that every offer takes the accepted path (and, when the flusher lags, the wait).
        sink.keepRecords = false;
        producer = RingProducer.builder(Map.of()).ringSize(4096).onFull(OnFull.BLOCK)
                .listener(new RecordingListener()).build(sink);
        run(WARM_UP);
        assertNothingAllocatedPerCall(allocatedBy(MEASURED), 3L * MEASURED);
        assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
        RingStats stats = producer.stats();
        assertThat(stats.offered()).isEqualTo(3L * (WARM_UP + MEASURED));
        assertThat(stats.delivered()).isEqualTo(stats.offered());
    }

    @Test
    void offerAllocatesNothingOnAFullRingInDiscardMode() {
        producer = RingProducer.builder(Map.of()).ringSize(64).listener(new RecordingListener()).build(sink);
        sink.block();
        run(WARM_UP);
        assertNothingAllocatedPerCall(allocatedBy(MEASURED), 4L * MEASURED);
        // All but the first fill: 64 slots and the flusher's one, plus discardIfFull's false answers while it filled.
        assertThat(producer.stats().discarded()).isGreaterThanOrEqualTo(4L * (WARM_UP + MEASURED) - 65 - 64 / 3 - 1);
    }

    @Test
    void aCallerHeadersHookThatAllocatesNothingKeepsOfferAllocationFree() {
        byte[] tenant = "tenant-7".getBytes(UTF_8);
        sink.keepRecords = false;
        producer = RingProducer.builder(Map.of()).ringSize(4096).onFull(OnFull.BLOCK).listener(new RecordingListener())
                .callerHeaders((topic, h) -> h.add("tenant", tenant)).build(sink);
        run(WARM_UP);
        assertNothingAllocatedPerCall(allocatedBy(MEASURED), 3L * MEASURED);
        assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
    }
}
