package io.kafkascenarios.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.messaging.handler.annotation.SendTo;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.reply.RequestReplyClient;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/**
 * A {@link RequestReplyClient} answered by an unmodified Spring for Apache Kafka replier: a
 * {@code @KafkaListener} method with a bare {@code @SendTo}, which replies to the request's
 * {@code kafka_replyTopic} / {@code kafka_replyPartition} headers and copies its
 * {@code kafka_correlationId}. The client's default header names are Spring's.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SpringReplierInteropIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvm();

    /** The replier's topic, read by the listener annotation through the environment. */
    private static final String REQUESTS_PROPERTY = "spring.interop.requests";

    /** A Spring replier as its users write it. */
    @Configuration
    @EnableKafka
    static class ReplierConfig {
        @Bean
        DefaultKafkaConsumerFactory<byte[], byte[]> consumerFactory() {
            Map<String, Object> c = new HashMap<>();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.cluster().bootstrapServers());
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            return new DefaultKafkaConsumerFactory<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        @Bean
        KafkaTemplate<byte[], byte[]> replyTemplate() {
            Map<String, Object> p = new HashMap<>();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.cluster().bootstrapServers());
            p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            return new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(p, new ByteArraySerializer(), new ByteArraySerializer()));
        }

        @Bean
        ConcurrentKafkaListenerContainerFactory<byte[], byte[]> kafkaListenerContainerFactory(
                DefaultKafkaConsumerFactory<byte[], byte[]> consumerFactory, KafkaTemplate<byte[], byte[]> replyTemplate) {
            ConcurrentKafkaListenerContainerFactory<byte[], byte[]> f = new ConcurrentKafkaListenerContainerFactory<>();
            f.setConsumerFactory(consumerFactory);
            f.setReplyTemplate(replyTemplate);
            return f;
        }

        @Bean
        Replier replier() {
            return new Replier();
        }
    }

    /** Upper-cases the request: the reply goes where the request's headers say. */
    static class Replier {
        @KafkaListener(topics = "${" + REQUESTS_PROPERTY + "}", groupId = "spring-replier")
        @SendTo
        public byte[] answer(byte[] request) {
            return new String(request, UTF_8).toUpperCase(Locale.ROOT).getBytes(UTF_8);
        }
    }

    @Test
    void aSpringSendToReplierAnswersTheClientOnItsPartition() throws Exception {
        String requests = KafkaClusterExtension.uniqueTopic("spring-requests");
        String replies = KafkaClusterExtension.uniqueTopic("spring-replies");
        KAFKA.cluster().createTopic(requests, 2);
        KAFKA.cluster().createTopic(replies, 3);
        System.setProperty(REQUESTS_PROPERTY, requests);
        try (AnnotationConfigApplicationContext spring = new AnnotationConfigApplicationContext(ReplierConfig.class);
             RingProducer producer = RingProducer.builder(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                     KAFKA.cluster().bootstrapServers())).build();
             RequestReplyClient client = RequestReplyClient.builder(producer,
                     Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.cluster().bootstrapServers()))
                     .replyTopic(replies).replyPartition(2).build()) {
            assertThat(client.awaitReady(Duration.ofSeconds(60))).isTrue();
            List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> futures = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                // Generous: the first waits for the listener's group to form.
                futures.add(client.request(requests, null, ("spring " + i).getBytes(UTF_8), Duration.ofSeconds(60)));
            }
            for (int i = 0; i < 100; i++) {
                ConsumerRecord<byte[], byte[]> reply = futures.get(i).get(90, TimeUnit.SECONDS);
                assertThat(new String(reply.value(), UTF_8)).isEqualTo("SPRING " + i);
                assertThat(reply.partition()).as("Spring honoured kafka_replyPartition").isEqualTo(2);
            }
            assertThat(client.stats().answered()).isEqualTo(100);
            assertThat(client.stats().foreign()).isZero();
        } finally {
            System.clearProperty(REQUESTS_PROPERTY);
        }
    }
}
