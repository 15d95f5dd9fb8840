package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The ring producer's argument and Kafka-config checks, in one place, each failure naming the problem
 * and the way out. Nothing here touches the ring: a refused call has offered nothing.
 *
 * <p>Threads: any; no state.
 */
public final class Checks {
    private Checks() {
    }

    /**
     * @param topic not null, not empty
     * @param partition a partition, or -1 for Kafka's choice
     * @param timestamp epoch milliseconds, or -1 for the send time
     */
    public static void record(String topic, int partition, long timestamp) {
        if (topic == null) {
            throw new NullPointerException("topic must not be null");
        }
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty");
        }
        if (partition < -1) {
            throw new IllegalArgumentException("partition must be >= 0 or ANY_PARTITION (-1), was " + partition);
        }
        if (timestamp < -1) {
            throw new IllegalArgumentException("timestamp must be >= 0 or NO_TIMESTAMP (-1), was " + timestamp);
        }
    }

    /**
     * @param topic the record's topic, for the message
     * @param size the record's encoded size (key, value, headers)
     * @param slotCapacity bytes a slot holds
     */
    public static void fits(String topic, long size, int slotCapacity) {
        if (size > slotCapacity) {
            throw tooLarge(topic, size, slotCapacity);
        }
    }

    /** @return the refusal of a record that does not fit a slot */
    public static IllegalArgumentException tooLarge(String topic, long size, int slotCapacity) {
        return new IllegalArgumentException("record for topic '" + topic + "' takes " + size
                + " bytes (key + value + headers), more than the slot capacity of " + slotCapacity
                + " bytes; raise RingProducer.Builder.slotCapacity or send it another way");
    }

    /** @return the timeout in nanoseconds, saturated at {@code Long.MAX_VALUE}; not null, not negative */
    public static long timeoutNanos(Duration d) {
        Objects.requireNonNull(d, "timeout");
        if (d.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + d);
        }
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Refuses what the ring cannot honour in a Kafka config, and removes byte-array serializers (the
     * ring passes its own).
     *
     * @param config the user's Kafka config, a private copy that this may change
     */
    public static void kafkaConfig(Map<String, Object> config) {
        refuseSerializer(config, ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG);
        refuseSerializer(config, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
        if (config.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG) != null) {
            throw new IllegalArgumentException("RingProducer does not run Kafka transactions: remove "
                    + ProducerConfig.TRANSACTIONAL_ID_CONFIG + " from the Kafka config");
        }
    }

    private static void refuseSerializer(Map<String, Object> config, String key) {
        Object configured = config.remove(key);
        if (configured == null || configured == ByteArraySerializer.class
                || ByteArraySerializer.class.getName().equals(configured)) {
            return;
        }
        throw new IllegalArgumentException("RingProducer carries bytes: remove " + key + "=" + configured
                + " from the Kafka config and serialize before offer()");
    }
}
