package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;

/**
 * The race between a send's deadline and the flusher, hammered: a sink that lets records through in
 * uneven bursts, callers with deadlines of 0-3 ms, so that deadlines pass in the ring, inside send()
 * and while awaiting the acknowledgement. Whatever the interleaving: a future that says its record
 * will never be written finds it absent from what Kafka got, a record acknowledged is there once,
 * and the counts add up with the withdrawn ones.
 */
class RingProducerWithdrawalStressTest {
    private final FakeSink sink = new FakeSink();
    private RingProducer producer;

    @AfterEach
    void tearDown() {
        sink.unblock();
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    @RepeatedTest(3)
    void aWithdrawnRecordIsNeverWrittenAndEveryRecordIsAccounted() throws Exception {
        producer = RingProducer.builder(Map.of()).ringSize(256).listener(new RecordingListener()).build(sink);
        Semaphore gate = new Semaphore(0);
        sink.gate = gate;
        AtomicBoolean pacing = new AtomicBoolean(true);
        Thread pacer = new Thread(() -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            while (pacing.get()) {
                gate.release(r.nextInt(1, 40));
                LockSupport.parkNanos(r.nextLong(20_000, 400_000));
            }
        }, "pacer");
        pacer.start();
        int threads = 3;
        int perThread = 3000;
        List<List<CompletableFuture<RecordMetadata>>> futures = new ArrayList<>();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<CompletableFuture<RecordMetadata>> mine = new ArrayList<>();
            futures.add(mine);
            int thread = t;
            Thread caller = new Thread(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                for (int i = 0; i < perThread; i++) {
                    byte[] id = ByteBuffer.allocate(8).putInt(thread).putInt(i).array();
                    mine.add(producer.send("t", null, id, Duration.ofNanos(r.nextLong(0, 3_000_000))));
                    if ((i & 15) == 0) {
                        LockSupport.parkNanos(r.nextLong(0, 200_000));
                    }
                }
            });
            callers.add(caller);
            caller.start();
        }
        for (Thread c : callers) {
            c.join();
        }
        pacing.set(false);
        pacer.join();
        sink.gate = null;
        gate.release(1_000_000);
        assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();

        Set<ByteBuffer> written = new HashSet<>();
        for (ProducerRecord<byte[], byte[]> r : sink.sent()) {
            assertThat(written.add(ByteBuffer.wrap(r.value()))).as("each record written once").isTrue();
        }
        long neverWritten = 0;
        long inRing = 0;
        long acknowledged = 0;
        long mayBe = 0;
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                ByteBuffer id = ByteBuffer.wrap(ByteBuffer.allocate(8).putInt(t).putInt(i).array());
                CompletableFuture<RecordMetadata> f = futures.get(t).get(i);
                Throwable e = f.handle((m, x) -> x).get();
                if (e == null) {
                    acknowledged++;
                    assertThat(written).as("an acknowledged record was written").contains(id);
                } else {
                    assertThat(e).isInstanceOf(SendTimeoutException.class);
                    SendTimeoutException timeout = (SendTimeoutException) e;
                    if (timeout.mayBeWritten()) {
                        mayBe++;
                    } else {
                        neverWritten++;
                        assertThat(written).as("%s: a record said never written was written", timeout.getMessage()).doesNotContain(id);
                        if (timeout.stage() == SendTimeoutException.Stage.IN_RING) {
                            inRing++;
                        }
                    }
                }
            }
        }
        RingStats s = producer.stats();
        System.out.printf("withdrawal stress: %d acknowledged, %d may be written, %d never written (%d withdrawn in the ring); %s%n",
                acknowledged, mayBe, neverWritten, inRing, s);
        assertThat(inRing).as("the race was exercised").isPositive();
        assertThat(mayBe).as("the race was exercised").isPositive();
        assertThat(s.withdrawn()).isEqualTo(inRing);
        assertThat(s.pending()).isZero();
        assertThat(s.offered()).isEqualTo((long) threads * perThread);
        assertThat(s.delivered() + s.discarded() + s.failed() + s.withdrawn()).isEqualTo(s.offered());
        assertThat(s.delivered()).isEqualTo(written.size());
    }
}
