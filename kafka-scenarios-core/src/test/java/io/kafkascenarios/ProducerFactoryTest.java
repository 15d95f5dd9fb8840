package io.kafkascenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code Builder.producerFactory}: the producers the user makes, one per generation, owned and closed by the ring. */
class ProducerFactoryTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final List<MockProducer<byte[], byte[]>> made = new CopyOnWriteArrayList<>();
    private RingProducer producer;

    @AfterEach
    void tearDown() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    private MockProducer<byte[], byte[]> make() {
        MockProducer<byte[], byte[]> p = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        made.add(p);
        return p;
    }

    @Test
    void recordsGoToTheFactorysProducerWhichTheRingCloses() {
        producer = RingProducer.builder(Map.of()).listener(new RecordingListener()).producerFactory(this::make).build();
        for (int i = 0; i < 10; i++) {
            assertThat(producer.offer("t", null, new byte[] {(byte) i})).isTrue();
        }
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(producer.stats().delivered()).isEqualTo(10);
        assertThat(made).hasSize(1);
        assertThat(made.get(0).history()).hasSize(10);
        assertThat(producer.close(WAIT)).isZero();
        producer = null;
        assertThat(made.get(0).closed()).isTrue();
    }

    @Test
    void aFatalErrorMakesTheNextProducerFromTheFactory() {
        producer = RingProducer.builder(Map.of()).listener(new RecordingListener()).producerFactory(this::make).build();
        made.get(0).sendException = new ProducerFencedException("fenced"); // thrown from send(): condemned
        producer.offer("t", null, new byte[1]);
        assertThat(producer.flush(WAIT)).isTrue();
        producer.offer("t", null, new byte[1]);
        assertThat(producer.flush(WAIT)).isTrue();
        assertThat(made).hasSize(2);
        assertThat(made.get(0).closed()).isTrue();
        assertThat(made.get(1).history()).hasSize(1);
        assertThat(producer.stats().producerReplacements()).isEqualTo(1);
        assertThat(producer.stats().delivered()).isEqualTo(1);
    }

    @Test
    void aFactoryThatReturnsNullIsRefusedAtBuild() {
        assertThatThrownBy(() -> RingProducer.builder(Map.of()).producerFactory(() -> null).build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("producer factory returned null");
    }
}
