package io.kafkascenarios.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;

/** A slot's encoding: what goes in comes out, byte for byte, with nothing shared with the slot. */
class SlotTest {
    private final Slot slot = new Slot(256);

    @Test
    void aRecordWithKeyValueAndHeadersRoundTrips() {
        Header[] headers = {new RecordHeader("trace-ü", "abc".getBytes(StandardCharsets.UTF_8)), new RecordHeader("none", null)};
        byte[] key = {1, 2};
        byte[] value = {3, 4, 5};
        assertThat(Slot.encodedSize(key, value, headers)).isEqualTo(2 + 3 + (8 + 8 + 3) + (8 + 4));
        slot.setRecord("topic", 3, 42L, key, value, headers, null);
        OutgoingRecord out = slot.copyOut(null);
        assertThat(out.topic()).isEqualTo("topic");
        assertThat(out.partition()).isEqualTo(3);
        assertThat(out.timestamp()).isEqualTo(42L);
        assertThat(out.key()).containsExactly(1, 2);
        assertThat(out.value()).containsExactly(3, 4, 5);
        assertThat(out.headers().toArray()).hasSize(2);
        assertThat(out.headers().lastHeader("trace-ü").value()).containsExactly('a', 'b', 'c');
        assertThat(out.headers().lastHeader("none").value()).isNull();
        // The copy shares nothing: reusing the slot does not change it.
        slot.setRecord("other", -1, -1, new byte[] {9, 9}, new byte[] {9, 9, 9}, null, null);
        assertThat(out.key()).containsExactly(1, 2);
        assertThat(out.value()).containsExactly(3, 4, 5);
    }

    @Test
    void nullKeyNullValueAndAnyPartitionComeOutAsNull() {
        slot.setRecord("t", -1, -1, null, null, null, null);
        OutgoingRecord out = slot.copyOut(null);
        assertThat(out.key()).isNull();
        assertThat(out.value()).isNull();
        assertThat(out.partition()).isNull();
        assertThat(out.timestamp()).isNull();
        assertThat(out.headers().toArray()).isEmpty();
    }

    @Test
    void aWriterEncodesTheValueAfterTheKey() {
        slot.beginRecord("t", 0, -1, new byte[] {7});
        slot.valueBuffer().putUtf8("hi").putInt(258);
        slot.endRecord();
        OutgoingRecord out = slot.copyOut(null);
        assertThat(out.key()).containsExactly(7);
        assertThat(out.value()).containsExactly('h', 'i', 0, 0, 1, 2);
    }

    @Test
    void abortingAndMarkingDropTheCompletion() {
        slot.setRecord("t", -1, -1, null, new byte[1], null, new RecordCompletion() {
            public boolean takeForSend() { return true; }
            public void failWithdrawn() { }
            public void succeed(org.apache.kafka.clients.producer.RecordMetadata metadata) { }
            public void fail(Throwable cause) { }
        });
        slot.setAborted();
        assertThat(slot.kind).isEqualTo(Slot.ABORTED);
        assertThat(slot.completion).isNull();
        slot.setFlushMarker();
        assertThat(slot.kind).isEqualTo(Slot.FLUSH);
        assertThat(slot.completion).isNull();
    }
}
