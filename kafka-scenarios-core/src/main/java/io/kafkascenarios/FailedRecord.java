package io.kafkascenarios;

import java.util.Arrays;

/**
 * A record Kafka did not accept: what was offered, and where it was going.
 *
 * <p>Immutable. The arrays are the ones the flusher copied out of the ring and handed to Kafka; they
 * are not shared with anything else, so the listener may keep them (to retry or to spool).
 */
public final class FailedRecord {
    private final String topic;
    private final int partition;
    private final byte[] key;
    private final byte[] value;

    /**
     * @param topic the topic
     * @param partition the partition, or -1 if none was requested and Kafka had not chosen one
     * @param key the key bytes, or null
     * @param value the value bytes, or null
     */
    public FailedRecord(String topic, int partition, byte[] key, byte[] value) {
        this.topic = topic;
        this.partition = partition;
        this.key = key;
        this.value = value;
    }

    /** @return the topic */
    public String topic() {
        return topic;
    }

    /** @return the partition, or -1 when it was never known */
    public int partition() {
        return partition;
    }

    /** @return the key bytes, or null */
    public byte[] key() {
        return key;
    }

    /** @return the value bytes, or null */
    public byte[] value() {
        return value;
    }

    @Override
    public String toString() {
        return "FailedRecord{topic=" + topic + ", partition=" + partition
                + ", key=" + (key == null ? "null" : key.length + " bytes")
                + ", value=" + (value == null ? "null" : value.length + " bytes") + '}';
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FailedRecord)) {
            return false;
        }
        FailedRecord other = (FailedRecord) o;
        return partition == other.partition && topic.equals(other.topic)
                && Arrays.equals(key, other.key) && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * topic.hashCode() + partition) + Arrays.hashCode(value);
    }
}
