package io.kafkascenarios.internal;

import java.time.Duration;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Where the flusher hands records: the KafkaProducer in production, a fake in unit tests.
 *
 * <p>Thread: {@link #send} and {@link #flush} are called only by the flusher thread; {@link #close}
 * by the thread closing the producer, after the flusher has stopped (or been given up on). Callbacks
 * may run on any thread (Kafka's I/O thread) and must not block.
 */
public interface RecordSink {
    /**
     * Sends one record. May block (Kafka waits for metadata or buffer space up to
     * {@code max.block.ms}); may throw, in which case the callback is not called.
     */
    void send(ProducerRecord<byte[], byte[]> record, Callback callback);

    /** Blocks until every record sent so far has completed (its callback has run). */
    void flush();

    /** Closes, failing whatever is incomplete when the timeout passes (callbacks run before it returns). */
    void close(Duration timeout);

    /**
     * @return connections the producer behind this sink has open to brokers now, or -1 if it cannot
     *         tell; any thread
     */
    default int connections() {
        return -1;
    }

    /** @return the {@code client.id} of the producer behind this sink, or "unknown" */
    default String clientId() {
        return "unknown";
    }
}
