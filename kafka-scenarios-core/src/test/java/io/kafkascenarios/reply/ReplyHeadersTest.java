package io.kafkascenarios.reply;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** The replier's side: a reply addressed by the request's headers, in Spring's format. */
class ReplyHeadersTest {
    private static ConsumerRecord<byte[], byte[]> request(boolean topic, boolean id, byte[] partition) {
        ConsumerRecord<byte[], byte[]> r = new ConsumerRecord<>("requests", 2, 41L, null, "q".getBytes(UTF_8));
        if (topic) {
            r.headers().add("kafka_replyTopic", "replies".getBytes(UTF_8));
        }
        if (id) {
            r.headers().add("kafka_correlationId", new byte[] {1, 2, 3});
        }
        if (partition != null) {
            r.headers().add("kafka_replyPartition", partition);
        }
        return r;
    }

    @Test
    void aReplyGoesToTheRequestersTopicAndPartitionWithItsCorrelationId() {
        ProducerRecord<byte[], byte[]> reply = ReplyHeaders.SPRING.reply(request(true, true, ByteBuffer.allocate(4).putInt(7).array()),
                "k".getBytes(UTF_8), "a".getBytes(UTF_8));
        assertThat(reply.topic()).isEqualTo("replies");
        assertThat(reply.partition()).isEqualTo(7);
        assertThat(reply.key()).isEqualTo("k".getBytes(UTF_8));
        assertThat(reply.value()).isEqualTo("a".getBytes(UTF_8));
        assertThat(reply.headers().lastHeader("kafka_correlationId").value()).containsExactly(1, 2, 3);
        assertThat(ReplyHeaders.SPRING.reply(request(true, true, null), null, null).partition())
                .as("no partition header: Kafka's partitioner").isNull();
    }

    @Test
    void aRequestWithoutItsHeadersIsRefusedNamingTheHeader() {
        assertThatThrownBy(() -> ReplyHeaders.SPRING.reply(request(false, true, null), null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'kafka_replyTopic'")
                .hasMessageContaining("requests-2@41");
        assertThatThrownBy(() -> ReplyHeaders.SPRING.reply(request(true, false, null), null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'kafka_correlationId'");
        assertThatThrownBy(() -> ReplyHeaders.SPRING.reply(request(true, true, new byte[2]), null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a 4-byte int");
    }

    @Test
    void customNamesAreUsedAndBlankOnesRefused() {
        ReplyHeaders h = ReplyHeaders.of("corr", "to", "part");
        ConsumerRecord<byte[], byte[]> r = new ConsumerRecord<>("requests", 0, 0L, null, null);
        r.headers().add("to", "out".getBytes(UTF_8)).add("corr", new byte[] {9});
        assertThat(h.reply(r, null, null).topic()).isEqualTo("out");
        assertThatThrownBy(() -> ReplyHeaders.of("corr", " ", "part")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("replyTopic");
    }
}
