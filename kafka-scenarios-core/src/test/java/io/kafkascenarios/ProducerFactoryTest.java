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

    @Test
    void theClientListenerHearsOfEveryGenerationMadeAndClosed() {
        List<String> heard = new CopyOnWriteArrayList<>();
        KafkaClientListener listener = new KafkaClientListener() {
            @Override
            public void producerCreated(org.apache.kafka.clients.producer.Producer<byte[], byte[]> p, String clientId) {
                heard.add("created " + made.indexOf(p));
            }

            @Override
            public void producerClosed(org.apache.kafka.clients.producer.Producer<byte[], byte[]> p) {
                heard.add("closed " + made.indexOf(p));
            }
        };
        producer = RingProducer.builder(Map.of()).name("orders").listener(new RecordingListener()).clientListener(listener)
                .producerFactory(this::make).build();
        assertThat(producer.name()).isEqualTo("orders");
        assertThat(heard).containsExactly("created 0");
        made.get(0).sendException = new ProducerFencedException("fenced");
        producer.offer("t", null, new byte[1]);
        assertThat(producer.flush(WAIT)).isTrue();
        producer.offer("t", null, new byte[1]);
        assertThat(producer.flush(WAIT)).isTrue();
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> heard.contains("closed 0"));
        assertThat(heard).containsExactly("created 0", "created 1", "closed 0");
        assertThat(producer.close(WAIT)).isZero();
        producer = null;
        assertThat(heard).containsExactly("created 0", "created 1", "closed 0", "closed 1");
    }

    @Test
    void eachGenerationOfKafkaProducerHasItsOwnClientId() {
        List<String> ids = new CopyOnWriteArrayList<>();
        KafkaClientListener listener = new KafkaClientListener() {
            @Override
            public void producerCreated(org.apache.kafka.clients.producer.Producer<byte[], byte[]> p, String clientId) {
                ids.add(clientId);
            }
        };
        Map<String, Object> config = Map.of("bootstrap.servers", "localhost:1", "max.block.ms", 10);
        RingProducer named = RingProducer.builder(config).name("orders").clientListener(listener).build();
        named.close(Duration.ofSeconds(2));
        Map<String, Object> withId = new java.util.HashMap<>(config);
        withId.put("client.id", "checkout");
        RingProducer configured = RingProducer.builder(withId).clientListener(listener).build();
        configured.close(Duration.ofSeconds(2));
        RingProducer unnamed = RingProducer.builder(config).clientListener(listener).build();
        unnamed.close(Duration.ofSeconds(2));
        assertThat(ids).hasSize(3);
        assertThat(ids.get(0)).isEqualTo("orders");
        assertThat(ids.get(1)).isEqualTo("checkout");
        assertThat(ids.get(2)).isEqualTo(unnamed.name()).startsWith("ring-producer-");
        assertThat(unnamed.clientId()).isEqualTo(unnamed.name());
    }
}
