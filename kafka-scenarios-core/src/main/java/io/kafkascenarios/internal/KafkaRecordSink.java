package io.kafkascenarios.internal;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A {@link RecordSink} over a kafka-clients {@link Producer}. Threading as in {@link RecordSink}. */
public final class KafkaRecordSink implements RecordSink {
    private static final Runnable NOTHING = () -> { };
    private final Producer<byte[], byte[]> producer;
    private final String clientId;
    private final Runnable afterClose;

    /** @param producer the producer this sink owns and closes */
    public KafkaRecordSink(Producer<byte[], byte[]> producer) {
        this(producer, "unknown", NOTHING);
    }

    /**
     * @param producer the producer this sink owns and closes
     * @param clientId its {@code client.id}
     * @param afterClose run on the closing thread once the producer's close returned (or threw)
     */
    public KafkaRecordSink(Producer<byte[], byte[]> producer, String clientId, Runnable afterClose) {
        this.producer = producer;
        this.clientId = clientId;
        this.afterClose = afterClose;
    }

    @Override
    public String clientId() {
        return clientId;
    }

    /** Kafka's own {@code producer-metrics:connection-count}; its metrics are safe to read from any thread. */
    @Override
    public int connections() {
        try {
            for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
                MetricName n = e.getKey();
                if ("connection-count".equals(n.name()) && "producer-metrics".equals(n.group())) {
                    Object v = e.getValue().metricValue();
                    return v instanceof Number number ? number.intValue() : -1;
                }
            }
        } catch (RuntimeException e) {
            // a producer without metrics (a test double)
        }
        return -1;
    }

    @Override
    public void send(ProducerRecord<byte[], byte[]> record, Callback callback) {
        producer.send(record, callback);
    }

    @Override
    public void flush() {
        producer.flush();
    }

    @Override
    public void close(Duration timeout) {
        try {
            producer.close(timeout);
        } finally {
            afterClose.run();
        }
    }
}
