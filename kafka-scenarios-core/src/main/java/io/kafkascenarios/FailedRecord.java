package io.kafkascenarios;

import java.util.Arrays;

/**
 * A record Kafka did not accept: what was offered, and where it was going.
 *
 * <p>The arrays are the ones the flusher copied out of the ring and handed to Kafka; they
 * are not shared with anything else, so the listener may keep them (to retry or to spool).
 *
 * @param topic the topic
 * @param partition the partition, or -1 if none was requested and Kafka had not chosen one
 * @param key the key bytes, or null
 * @param value the value bytes, or null
 */
public record FailedRecord(String topic, int partition, byte[] key, byte[] value) {
    @Override
    public String toString() {
        return "FailedRecord{topic=" + topic + ", partition=" + partition
                + ", key=" + (key == null ? "null" : key.length + " bytes")
                + ", value=" + (value == null ? "null" : value.length + " bytes") + '}';
    }

    /** Equal when topic, partition and the bytes of key and value are (a record compares arrays by reference). */
    @Override
    public boolean equals(Object o) {
        return o instanceof FailedRecord other && partition == other.partition && topic.equals(other.topic)
                && Arrays.equals(key, other.key) && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * topic.hashCode() + partition) + Arrays.hashCode(value);
    }
}
