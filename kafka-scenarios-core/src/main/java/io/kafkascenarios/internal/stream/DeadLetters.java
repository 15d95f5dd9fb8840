package io.kafkascenarios.internal.stream;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The dead letter of a record: its key, value and headers, plus headers that say why and where it
 * came from. The header names are public through {@code StreamProcessor}'s constants.
 *
 * <p>Threads: any (no state).
 */
public final class DeadLetters {
    /** Header: the failure's class name. */
    public static final String ERROR_CLASS = "ks.error.class";
    /** Header: the failure's message, at most {@value #MAX_ERROR_MESSAGE} characters. */
    public static final String ERROR_MESSAGE = "ks.error.message";
    /** Header: the record's topic. */
    public static final String ORIGINAL_TOPIC = "ks.original.topic";
    /** Header: the record's partition. */
    public static final String ORIGINAL_PARTITION = "ks.original.partition";
    /** Header: the record's offset. */
    public static final String ORIGINAL_OFFSET = "ks.original.offset";
    /** Header: attempts made. */
    public static final String ATTEMPTS = "ks.attempts";
    /** Characters of the failure's message kept: a message quoting the record could make the dead letter too large for a slot. */
    static final int MAX_ERROR_MESSAGE = 500;

    private DeadLetters() {
    }

    /**
     * @param topic the dead-letter topic
     * @param record the record that failed
     * @param attempts attempts made
     * @param failure the last failure
     * @return the dead letter
     */
    static ProducerRecord<byte[], byte[]> of(String topic, ConsumerRecord<byte[], byte[]> record, int attempts,
                                             Throwable failure) {
        RecordHeaders headers = new RecordHeaders();
        for (Header h : record.headers()) {
            headers.add(h);
        }
        headers.add(ERROR_CLASS, utf8(failure.getClass().getName()));
        String message = String.valueOf(failure.getMessage());
        headers.add(ERROR_MESSAGE, utf8(message.length() > MAX_ERROR_MESSAGE
                ? message.substring(0, MAX_ERROR_MESSAGE) + "..." : message));
        headers.add(ORIGINAL_TOPIC, utf8(record.topic()));
        headers.add(ORIGINAL_PARTITION, utf8(Integer.toString(record.partition())));
        headers.add(ORIGINAL_OFFSET, utf8(Long.toString(record.offset())));
        headers.add(ATTEMPTS, utf8(Integer.toString(attempts)));
        return new ProducerRecord<>(topic, null, record.key(), record.value(), headers);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
