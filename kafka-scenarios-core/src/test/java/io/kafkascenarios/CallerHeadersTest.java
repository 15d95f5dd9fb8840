package io.kafkascenarios;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code CallerHeaders}: headers written on the caller's thread travel with every kind of record,
 * after the record's own; one that does not fit, or a hook that throws, refuses that record alone.
 */
class CallerHeadersTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final FakeSink sink = new FakeSink();
    private RingProducer producer;
    /** The thread the hook ran on, per call. */
    private final List<String> hookThreads = new java.util.concurrent.CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void everyKindOfRecordCarriesTheCallersHeadersAfterItsOwn() throws Exception {
        producer = RingProducer.builder(Map.of()).listener(new RecordingListener())
                .callerHeaders((topic, h) -> {
                    hookThreads.add(Thread.currentThread().getName());
                    h.add("traceparent", ("00-" + Thread.currentThread().getName() + "-" + topic).getBytes(UTF_8));
                    h.add("empty", null);
                    h.addUtf8("user", new StringBuilder("zoë"));
                })
                .build(sink);
        Thread.currentThread().setName("caller");
        producer.offer("a", null, new byte[1]);
        producer.offer("b", 0, RingProducer.NO_TIMESTAMP, null, new byte[1], new Header[] {new RecordHeader("own", new byte[] {1})});
        producer.offerWith("c", (String text, ValueBuffer v) -> v.putUtf8(text), "v");
        producer.send("d", null, new byte[1]).get(20, java.util.concurrent.TimeUnit.SECONDS);
        producer.sendAll(List.of(new ProducerRecord<>("e", new byte[1])), WAIT).get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(producer.flush(WAIT)).isTrue();
        List<ProducerRecord<byte[], byte[]>> sent = sink.sent();
        assertThat(sent).hasSize(5);
        for (ProducerRecord<byte[], byte[]> r : sent) {
            assertThat(new String(r.headers().lastHeader("traceparent").value(), UTF_8)).isEqualTo("00-caller-" + r.topic());
            assertThat(r.headers().lastHeader("empty").value()).isNull();
            assertThat(new String(r.headers().lastHeader("user").value(), UTF_8)).isEqualTo("zoë");
        }
        Header[] b = sent.get(1).headers().toArray();
        assertThat(b).extracting(Header::key).containsExactly("own", "traceparent", "empty", "user");
        assertThat(hookThreads).containsOnly("caller");
    }

    @Test
    void aHeaderThatDoesNotFitOrAHookThatThrowsRefusesThatRecordAloneAndNamesIt() {
        boolean[] big = {false};
        producer = RingProducer.builder(Map.of()).slotCapacity(128).listener(new RecordingListener())
                .callerHeaders((topic, h) -> {
                    if (topic.equals("boom")) {
                        throw new IllegalStateException("no context");
                    }
                    h.add("trace", new byte[big[0] ? 100 : 10]);
                })
                .build(sink);
        big[0] = true;
        assertThatThrownBy(() -> producer.offer("t", null, new byte[50])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("header 'trace'").hasMessageContaining("slotCapacity");
        assertThatThrownBy(() -> producer.offer("boom", null, new byte[1])).isInstanceOf(IllegalStateException.class);
        big[0] = false;
        assertThat(producer.offer("t", null, new byte[50])).isTrue();
        assertThat(producer.flush(WAIT)).isTrue();
        RingStats s = producer.stats();
        assertThat(s.offered()).as("refused records are not counted").isEqualTo(1);
        assertThat(s.delivered()).isEqualTo(1);
        assertThat(sink.sent()).hasSize(1);
    }

    @Test
    void aHookThatThrowsMidGroupFailsTheGroupAndTheRecordsBeforeItStillGo() {
        producer = RingProducer.builder(Map.of()).listener(new RecordingListener())
                .callerHeaders((topic, h) -> {
                    if (topic.equals("boom")) {
                        throw new IllegalStateException("no context for " + topic);
                    }
                })
                .build(sink);
        java.util.concurrent.CompletableFuture<Void> group = producer.sendAll(List.of(
                new ProducerRecord<>("ok", new byte[1]), new ProducerRecord<>("boom", new byte[1])), WAIT);
        assertThat(group).failsWithin(WAIT).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .withCauseInstanceOf(IllegalStateException.class);
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().offered()).as("the refused record is not counted").isEqualTo(1);
        assertThat(producer.stats().delivered()).isEqualTo(1);
        assertThat(sink.sent()).extracting(ProducerRecord::topic).containsExactly("ok");
    }
}
