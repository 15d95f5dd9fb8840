package io.kafkascenarios.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.SendTimeoutException;
import io.kafkascenarios.it.example.ProduceService;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/** The request-reply scenario against a real broker, through the example HTTP service. */
class RequestReplyIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvm();

    private static final Duration DEADLINE = Duration.ofSeconds(2);
    /** How late the server may see a future complete after its deadline: the deadline thread's wake-up. */
    private static final Duration SERVER_SLACK = Duration.ofMillis(500);
    /** HTTP and scheduling overhead on a loaded 2-core machine; a hung request exceeds it by far. */
    private static final Duration SLACK = Duration.ofSeconds(2);

    private static Map<String, Object> config() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.cluster().bootstrapServers());
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return config;
    }

    private static final class Answer {
        final String body;
        final int status;
        final String text;
        final Duration took;
        final Duration kafka;
        final long endedNanos;

        Answer(String body, HttpResponse<String> response, Duration took) {
            this.body = body;
            this.status = response.statusCode();
            this.text = response.body();
            this.took = took;
            this.kafka = Duration.ofNanos(Long.parseLong(response.headers().firstValue("X-Kafka-Nanos").orElse("-1")));
            this.endedNanos = System.nanoTime();
        }
    }

    @Test
    void eachRequestIsAnsweredWithThePartitionAndOffsetOfItsRecord() throws Exception {
        String topic = KafkaClusterExtension.uniqueTopic("rr-happy");
        KAFKA.cluster().createTopic(topic, 3);
        // A generous deadline: the first request also waits for metadata and a producer id.
        try (RingProducer producer = RingProducer.builder(config()).build();
             ProduceService service = new ProduceService(producer, topic, Duration.ofSeconds(30))) {
            HttpClient client = HttpClient.newHttpClient();
            Map<String, String> offsets = new HashMap<>();
            for (int i = 0; i < 200; i++) {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(service.uri() + "/events"))
                        .header("X-Key", "k" + i).POST(HttpRequest.BodyPublishers.ofString("event-" + i)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                offsets.put("event-" + i, response.body());
            }
            List<ConsumerRecord<byte[], byte[]>> records = ReadBack.all(KAFKA.cluster().bootstrapServers(), topic);
            assertThat(records).hasSize(200);
            for (ConsumerRecord<byte[], byte[]> r : records) {
                assertThat(offsets.get(new String(r.value(), UTF_8))).isEqualTo(r.partition() + "/" + r.offset());
            }
        }
    }

    @Test
    void throughABrokerCrashEveryRequestIsAnsweredByItsDeadlineAndEvery200IsInKafka() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("rr-crash");
        KAFKA.cluster().createTopic(topic, 3);
        RingProducer producer = RingProducer.builder(config()).build();
        ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> unanswered = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ids = new AtomicLong();
        long restartedAt;
        try (ProduceService service = new ProduceService(producer, topic, DEADLINE)) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI uri = URI.create(service.uri() + "/events");
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int w = 0; w < 16; w++) {
                workers.add(CompletableFuture.runAsync(() -> {
                    while (!stop.get()) {
                        String body = "req-" + ids.incrementAndGet();
                        long start = System.nanoTime();
                        try {
                            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri)
                                    .timeout(DEADLINE.plus(SLACK).plus(Duration.ofSeconds(10)))
                                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            answers.add(new Answer(body, r, Duration.ofNanos(System.nanoTime() - start)));
                        } catch (Exception e) {
                            unanswered.add(e);
                        }
                    }
                }, r -> new Thread(r, "http-client").start()));
            }
            awaitOk(answers, 100, 0);
            KAFKA.cluster().kill();
            Thread.sleep(DEADLINE.toMillis() + 1_000); // requests now fail by their deadline
            KAFKA.cluster().restart();
            restartedAt = System.nanoTime();
            awaitOk(answers, 100, restartedAt);
            stop.set(true);
            CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get();
        }
        assertThat(producer.flush(Duration.ofSeconds(60))).isTrue();
        RingStats stats = producer.stats();
        producer.close(Duration.ofSeconds(30));

        assertThat(unanswered).as("requests without an answer").isEmpty();
        Duration slowest = answers.stream().map(a -> a.took).max(Duration::compareTo).orElseThrow();
        Duration slowestKafka = answers.stream().map(a -> a.kafka).max(Duration::compareTo).orElseThrow();
        assertThat(answers).allSatisfy(a -> assertThat(a.kafka).isPositive());
        assertThat(slowestKafka).as("longest wait for Kafka in the handler").isLessThanOrEqualTo(DEADLINE.plus(SERVER_SLACK));
        assertThat(slowest).as("slowest answer").isLessThanOrEqualTo(DEADLINE.plus(SLACK));
        List<Answer> failed = answers.stream().filter(a -> a.status != 200).toList();
        assertThat(failed).as("the outage was felt").isNotEmpty();
        assertThat(failed).allSatisfy(a -> assertThat(a.status).isIn(503, 504));
        assertThat(failed).allSatisfy(a -> assertThat(a.text).contains(SendTimeoutException.class.getName()));
        assertThat(stats.producerReplacements()).as("a broker crash is not a fatal producer error").isZero();
        assertThat(answers.stream().filter(a -> a.status == 200 && a.endedNanos > restartedAt)).hasSizeGreaterThanOrEqualTo(100);

        Map<String, String> inKafka = new HashMap<>();
        ReadBack.all(KAFKA.cluster().bootstrapServers(), topic)
                .forEach(r -> inKafka.put(new String(r.value(), UTF_8), r.partition() + "/" + r.offset()));
        List<String> ok = answers.stream().filter(a -> a.status == 200).map(a -> a.body).toList();
        // Every 200 is in Kafka, at the partition and offset the service answered with.
        assertThat(answers.stream().filter(a -> a.status == 200))
                .allSatisfy(a -> assertThat(inKafka.get(a.body)).as(a.body).isEqualTo(a.text));
        // Shared fate both ways: a 503 (withdrawn in the ring) was never written, not even after the restart.
        List<Answer> withdrawn = failed.stream().filter(a -> a.status == 503).toList();
        List<Answer> unknown = failed.stream().filter(a -> a.status == 504).toList();
        assertThat(withdrawn).as("requests failed while their records waited in the ring").isNotEmpty();
        assertThat(withdrawn).allSatisfy(a -> assertThat(inKafka).as("%s answered 503: %s", a.body, a.text).doesNotContainKey(a.body));
        long unknownWritten = unknown.stream().filter(a -> inKafka.containsKey(a.body)).count();
        assertThat(inKafka).as("the topic holds the 200s and some 504s, nothing else").hasSize((int) (ok.size() + unknownWritten));
        assertThat(stats.withdrawn() + stats.discarded()).as("503s: withdrawn in the ring, or never enqueued").isEqualTo(withdrawn.size());
        assertThat(stats.offered()).isEqualTo(stats.delivered() + stats.failed() + stats.discarded() + stats.withdrawn() + stats.pending());
        assertThat(stats.pending()).isZero();
        System.out.printf("request-reply crash: %d answers (%d x 200, %d x 503 withdrawn, of them 0 in Kafka; %d x 504 may be written,"
                + " of them %d in Kafka), slowest %s (Kafka wait %s); %d records in Kafka; %s%n", answers.size(), ok.size(),
                withdrawn.size(), unknown.size(), unknownWritten, slowest, slowestKafka, inKafka.size(), stats);
    }

    @Test
    void sendFailsByItsDeadlineWhenTheBrokerIsGone() throws Exception {
        KAFKA.assumeFaultInjection();
        String topic = KafkaClusterExtension.uniqueTopic("rr-down");
        KAFKA.cluster().createTopic(topic, 1);
        try (RingProducer producer = RingProducer.builder(config()).build()) {
            RecordMetadata md = producer.send(topic, null, "first".getBytes(UTF_8)).get();
            assertThat(md.offset()).isZero();
            KAFKA.cluster().kill();
            long start = System.nanoTime();
            CompletableFuture<RecordMetadata> f = producer.send(topic, null, "during".getBytes(UTF_8), Duration.ofSeconds(1));
            Throwable failure = f.handle((m, e) -> e).get();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(failure).isInstanceOf(SendTimeoutException.class);
            assertThat(took).isLessThan(Duration.ofSeconds(1).plus(SLACK));
            KAFKA.cluster().restart();
            // The service keeps serving once the broker is back.
            assertThat(producer.send(topic, null, "after".getBytes(UTF_8), Duration.ofSeconds(30)).get().topic()).isEqualTo(topic);
        }
    }

    private static void awaitOk(ConcurrentLinkedQueue<Answer> answers, int count, long afterNanos) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (answers.stream().filter(a -> a.status == 200 && a.endedNanos > afterNanos).count() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("fewer than " + count + " successful requests within 60 s");
            }
            Thread.sleep(50);
        }
    }

}
