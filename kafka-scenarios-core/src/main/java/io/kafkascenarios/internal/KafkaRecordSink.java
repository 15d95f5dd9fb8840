package io.kafkascenarios.internal;

import java.time.Duration;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A {@link RecordSink} over a kafka-clients {@link Producer}. Threading as in {@link RecordSink}. */
public final class KafkaRecordSink implements RecordSink {
    private final Producer<byte[], byte[]> producer;

    /** @param producer the producer this sink owns and closes */
    public KafkaRecordSink(Producer<byte[], byte[]> producer) {
        this.producer = producer;
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
        producer.close(timeout);
    }
}
