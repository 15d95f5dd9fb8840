package io.kafkascenarios.reply;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The three headers of a request: its correlation id, the topic to reply to and, optionally, the
 * partition. {@link #SPRING} uses Spring for Apache Kafka's names ({@code kafka_correlationId},
 * {@code kafka_replyTopic}, {@code kafka_replyPartition} as a 4-byte big-endian int), so that an
 * existing {@code @KafkaListener @SendTo} replier answers a {@link RequestReplyClient} as it answers
 * Spring's {@code ReplyingKafkaTemplate}. On the replier's side, {@link #reply} builds the answer to a
 * request. Immutable; any thread.
 */
public final class ReplyHeaders {
    /** Spring for Apache Kafka's header names: interoperates with {@code @SendTo} repliers. */
    public static final ReplyHeaders SPRING = new ReplyHeaders("kafka_correlationId", "kafka_replyTopic", "kafka_replyPartition");

    private final String correlation;
    private final String replyTopic;
    private final String replyPartition;

    private ReplyHeaders(String correlation, String replyTopic, String replyPartition) {
        this.correlation = correlation;
        this.replyTopic = replyTopic;
        this.replyPartition = replyPartition;
    }

    /**
     * @param correlation the correlation id's header name
     * @param replyTopic the reply topic's header name
     * @param replyPartition the reply partition's header name (a 4-byte big-endian int)
     * @return headers of these names
     */
    public static ReplyHeaders of(String correlation, String replyTopic, String replyPartition) {
        return new ReplyHeaders(requireName(correlation, "correlation"), requireName(replyTopic, "replyTopic"),
                requireName(replyPartition, "replyPartition"));
    }

    private static String requireName(String name, String what) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("the " + what + " header needs a name");
        }
        return name;
    }

    /** @return the correlation id's header name */
    public String correlation() {
        return correlation;
    }

    /** @return the reply topic's header name */
    public String replyTopic() {
        return replyTopic;
    }

    /** @return the reply partition's header name */
    public String replyPartition() {
        return replyPartition;
    }

    /**
     * The replier's side: the reply to a request, addressed by the request's reply-topic and
     * reply-partition headers and carrying its correlation id. A
     * {@link io.kafkascenarios.stream.StreamProcessor} handler returns it as its output, so the reply
     * is sent, and the request committed, as any output is.
     *
     * @param request the request as consumed
     * @param key the reply's key, or null
     * @param value the reply's value, or null
     * @return the reply record
     * @throws IllegalArgumentException if the request has no reply-topic or correlation header (it was
     *         not sent by a request-reply client), or a reply-partition header that is not 4 bytes
     */
    public ProducerRecord<byte[], byte[]> reply(ConsumerRecord<byte[], byte[]> request, byte[] key, byte[] value) {
        Objects.requireNonNull(request, "request");
        Header topic = request.headers().lastHeader(replyTopic);
        Header id = request.headers().lastHeader(correlation);
        if (topic == null || topic.value() == null || id == null) {
            throw new IllegalArgumentException("the request at " + request.topic() + "-" + request.partition() + "@"
                    + request.offset() + " has no '" + (topic == null || topic.value() == null ? replyTopic : correlation)
                    + "' header: it was not sent by a request-reply client");
        }
        Integer partition = null;
        Header p = request.headers().lastHeader(replyPartition);
        if (p != null) {
            if (p.value() == null || p.value().length != 4) {
                throw new IllegalArgumentException("the request at " + request.topic() + "-" + request.partition() + "@"
                        + request.offset() + " has a '" + replyPartition + "' header that is not a 4-byte int");
            }
            partition = ByteBuffer.wrap(p.value()).getInt();
        }
        ProducerRecord<byte[], byte[]> reply = new ProducerRecord<>(new String(topic.value(), StandardCharsets.UTF_8),
                partition, key, value);
        reply.headers().add(correlation, id.value());
        return reply;
    }

    @Override
    public String toString() {
        return "ReplyHeaders{" + correlation + ", " + replyTopic + ", " + replyPartition + "}";
    }
}
