package io.kafkascenarios.jmh;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import io.kafkascenarios.reply.ReplyHeaders;
import io.kafkascenarios.reply.RequestReplyClient;

/**
 * Request→reply round trip over Kafka: {@link RequestReplyClient#request} against a hand-written
 * correlated client (a {@code KafkaProducer} and an assigned {@code KafkaConsumer} completing futures
 * from a map by correlation id: what people write instead). The same replier answers both sides: an
 * echo loop (assigned consumer, {@code KafkaProducer}) in the benchmark JVM, replying to the request's
 * reply-topic and reply-partition headers with its correlation id. Same broker, {@code linger.ms=0}
 * on every producer, 1 and 16 concurrent requests; SampleTime gives the percentiles.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
public class RoundTripBenchmark extends SideBySide {
    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final ReplyHeaders H = ReplyHeaders.SPRING;

    private String requestTopic;
    private String replyTopic;
    private Echo replier;
    private RequestReplyClient client;
    private RawClient rawClient;

    @Override
    protected void configure(Map<String, Object> config) {
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    }

    @Override
    protected void prepareTrial() {
        requestTopic = ring != null ? ringTopic : rawTopic;
        replyTopic = requestTopic + "-replies";
        cluster.createTopic(replyTopic, 1, BenchCluster.TOPIC_CONFIG);
        replier = new Echo(cluster.bootstrapServers(), requestTopic);
        Map<String, Object> consumer = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        try {
            if (ring != null) {
                client = RequestReplyClient.builder(ring, consumer).replyTopic(replyTopic).replyPartition(0).build();
                if (!client.awaitReady(Duration.ofSeconds(60))) {
                    throw new IllegalStateException("the client did not get ready");
                }
            } else {
                rawClient = new RawClient(raw, cluster.bootstrapServers(), replyTopic);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected void finishTrial() {
        if (client != null) {
            client.close();
        }
        if (rawClient != null) {
            rawClient.close();
        }
        replier.close();
    }

    @Benchmark
    @Threads(1)
    public ConsumerRecord<byte[], byte[]> ringRoundTrip1() throws ExecutionException, InterruptedException {
        return client.request(requestTopic, key, value, DEADLINE).get();
    }

    @Benchmark
    @Threads(1)
    public ConsumerRecord<byte[], byte[]> rawRoundTrip1() throws ExecutionException, InterruptedException {
        return rawClient.request(requestTopic, key, value).get();
    }

    @Benchmark
    @Threads(16)
    public ConsumerRecord<byte[], byte[]> ringRoundTrip16() throws ExecutionException, InterruptedException {
        return client.request(requestTopic, key, value, DEADLINE).get();
    }

    @Benchmark
    @Threads(16)
    public ConsumerRecord<byte[], byte[]> rawRoundTrip16() throws ExecutionException, InterruptedException {
        return rawClient.request(requestTopic, key, value).get();
    }

    private static KafkaConsumer<byte[], byte[]> assignedAtEnd(String bootstrap, String topic) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(60))) {
            partitions.add(new TopicPartition(topic, p.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(tp -> consumer.position(tp, Duration.ofSeconds(60)));
        return consumer;
    }

    /** Wakes a consumer's polling thread and waits for it to end (it closes its consumer itself). */
    private static void stop(KafkaConsumer<byte[], byte[]> consumer, Thread thread) {
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The replier both sides share: echoes each request to its reply headers, on its own thread. */
    private static final class Echo {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final KafkaProducer<byte[], byte[]> producer;
        private final Thread thread;
        private volatile boolean closing;

        Echo(String bootstrap, String topic) {
            consumer = assignedAtEnd(bootstrap, topic);
            Map<String, Object> p = BenchCluster.producerConfig(bootstrap);
            p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
            thread = new Thread(this::run, "echo-replier");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            try {
                while (!closing) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        producer.send(H.reply(r, r.key(), r.value()));
                    }
                }
            } catch (WakeupException closed) {
                // closing
            } finally {
                consumer.close(Duration.ofSeconds(5));
                producer.close(Duration.ofSeconds(5));
            }
        }

        void close() {
            closing = true;
            stop(consumer, thread);
        }
    }

    /** The hand-written client: a map of futures by correlation id, completed by an assigned consumer. */
    private static final class RawClient {
        private final KafkaProducer<byte[], byte[]> producer;
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final ConcurrentHashMap<Long, CompletableFuture<ConsumerRecord<byte[], byte[]>>> pending = new ConcurrentHashMap<>();
        private final AtomicLong ids = new AtomicLong();
        private final byte[] replyTopic;
        private final byte[] replyPartition = ByteBuffer.allocate(4).putInt(0).array();
        private final Thread thread;
        private volatile boolean closing;

        RawClient(KafkaProducer<byte[], byte[]> producer, String bootstrap, String replyTopic) {
            this.producer = producer;
            this.replyTopic = replyTopic.getBytes(StandardCharsets.UTF_8);
            this.consumer = assignedAtEnd(bootstrap, replyTopic);
            thread = new Thread(this::run, "raw-replies");
            thread.setDaemon(true);
            thread.start();
        }

        CompletableFuture<ConsumerRecord<byte[], byte[]>> request(String topic, byte[] key, byte[] value) {
            long id = ids.incrementAndGet();
            CompletableFuture<ConsumerRecord<byte[], byte[]>> f = new CompletableFuture<>();
            pending.put(id, f);
            ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, key, value);
            r.headers().add(H.correlation(), ByteBuffer.allocate(8).putLong(id).array())
                    .add(H.replyTopic(), replyTopic).add(H.replyPartition(), replyPartition);
            producer.send(r, (md, e) -> {
                if (e != null && pending.remove(id) != null) {
                    f.completeExceptionally(e);
                }
            });
            return f;
        }

        private void run() {
            try {
                while (!closing) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        Header h = r.headers().lastHeader(H.correlation());
                        CompletableFuture<ConsumerRecord<byte[], byte[]>> f = pending.remove(ByteBuffer.wrap(h.value()).getLong());
                        if (f != null) {
                            f.complete(r);
                        }
                    }
                }
            } catch (WakeupException closed) {
                // closing
            } finally {
                consumer.close(Duration.ofSeconds(5));
            }
        }

        void close() {
            closing = true;
            stop(consumer, thread);
        }
    }
}
