package io.kafkascenarios.it;

import static io.kafkascenarios.it.StreamFixture.consumerConfig;
import static io.kafkascenarios.it.StreamFixture.group;
import static io.kafkascenarios.it.StreamFixture.producerConfig;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.SendTimeoutException;
import io.kafkascenarios.reply.ReplyHeaders;
import io.kafkascenarios.reply.RequestReplyClient;
import io.kafkascenarios.reply.RequestReplyStats;
import io.kafkascenarios.stream.StreamProcessor;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/**
 * Request→reply over Kafka against a real broker: a {@link RequestReplyClient} and a replier that is
 * a {@link StreamProcessor} answering with {@link ReplyHeaders#reply}. Round trip; replier down (the
 * deadline, then the late reply counted); replier crashing mid-stream; broker outage; clients sharing
 * a reply topic, each receiving only its own replies; maxPending; readiness.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RequestReplyClientIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvm();

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private static String bootstrap() {
        return KAFKA.cluster().bootstrapServers();
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        closing.add(c);
        return c;
    }

    private RingProducer producer() {
        return closeLater(RingProducer.builder(producerConfig(bootstrap())).build());
    }

    private RequestReplyClient client(RingProducer producer, String replyTopic, int partition) throws Exception {
        RequestReplyClient.Builder b = RequestReplyClient.builder(producer, Map.of("bootstrap.servers", bootstrap()))
                .replyTopic(replyTopic);
        if (partition >= 0) {
            b.replyPartition(partition);
        }
        RequestReplyClient client = closeLater(b.build());
        assertThat(client.awaitReady(Duration.ofSeconds(60))).as("ready").isTrue();
        return client;
    }

    /** The replier: upper-cases the request's value into the reply. */
    private StreamProcessor replier(RingProducer producer, String requests, String group) {
        return StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                .topics(requests).name("replier")
                .recordHandler(r -> List.of(ReplyHeaders.SPRING.reply(r, r.key(),
                        new String(r.value(), UTF_8).toUpperCase(Locale.ROOT).getBytes(UTF_8))))
                .start();
    }

    private static String text(ConsumerRecord<byte[], byte[]> r) {
        return new String(r.value(), UTF_8);
    }

    @Test
    void eachRequestGetsItsOwnReply() throws Exception {
        String requests = KafkaClusterExtension.uniqueTopic("rrc-requests");
        String replies = KafkaClusterExtension.uniqueTopic("rrc-replies");
        KAFKA.cluster().createTopic(requests, 3);
        KAFKA.cluster().createTopic(replies, 2);
        RingProducer producer = producer();
        closeLater(replier(producer, requests, group("rrc-replier")));
        RequestReplyClient client = client(producer, replies, 1);
        List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> futures = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            futures.add(client.request(requests, ("k" + i).getBytes(UTF_8), ("request " + i).getBytes(UTF_8), Duration.ofSeconds(30)));
        }
        for (int i = 0; i < 500; i++) {
            ConsumerRecord<byte[], byte[]> reply = futures.get(i).get(60, TimeUnit.SECONDS);
            assertThat(text(reply)).isEqualTo("REQUEST " + i);
            assertThat(new String(reply.key(), UTF_8)).isEqualTo("k" + i);
            assertThat(reply.topic()).isEqualTo(replies);
            assertThat(reply.partition()).as("the replier answered on the requester's partition").isEqualTo(1);
        }
        RequestReplyStats s = client.stats();
        assertThat(s).isEqualTo(new RequestReplyStats(500, 500, 0, 0, 0, 0, 0, 0));
    }

    @Test
    void withTheReplierDownARequestFailsByItsDeadlineAndTheLateReplyIsCounted() throws Exception {
        String requests = KafkaClusterExtension.uniqueTopic("rrc-down-requests");
        String replies = KafkaClusterExtension.uniqueTopic("rrc-down-replies");
        KAFKA.cluster().createTopic(requests, 1);
        KAFKA.cluster().createTopic(replies, 1);
        RingProducer producer = producer();
        RequestReplyClient client = client(producer, replies, -1);
        Throwable t = client.request(requests, null, "nobody answers".getBytes(UTF_8), Duration.ofSeconds(2))
                .handle((r, e) -> e).get(30, TimeUnit.SECONDS);
        assertThat(t).isInstanceOf(SendTimeoutException.class);
        assertThat(((SendTimeoutException) t).stage()).isEqualTo(SendTimeoutException.Stage.AWAITING_REPLY);
        assertThat(t).hasMessageContaining("waiting for the reply");
        closeLater(replier(producer, requests, group("rrc-late"))); // answers the old request: too late
        await().atMost(Duration.ofSeconds(60)).until(() -> client.stats().late() == 1);
        ConsumerRecord<byte[], byte[]> now = client.request(requests, null, "now".getBytes(UTF_8), Duration.ofSeconds(30)).get();
        assertThat(text(now)).isEqualTo("NOW");
        RequestReplyStats s = client.stats();
        assertThat(s.timedOut()).isEqualTo(1);
        assertThat(s.answered()).isEqualTo(1);
        assertThat(s.pending()).isZero();
    }

    @Test
    void clientsSharingAReplyTopicEachReceiveOnlyTheirOwnReplies() throws Exception {
        String requests = KafkaClusterExtension.uniqueTopic("rrc-shared-requests");
        String replies = KafkaClusterExtension.uniqueTopic("rrc-shared-replies");
        KAFKA.cluster().createTopic(requests, 3);
        KAFKA.cluster().createTopic(replies, 2);
        RingProducer producer = producer();
        closeLater(replier(producer, requests, group("rrc-shared")));
        RequestReplyClient a = client(producer, replies, 0);
        RequestReplyClient b = client(producer, replies, 1);
        RequestReplyClient everyPartition = client(producer, replies, -1); // reads both: drops the others' replies
        List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> fa = new ArrayList<>();
        List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> fb = new ArrayList<>();
        List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> fc = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            fa.add(a.request(requests, null, ("a" + i).getBytes(UTF_8), Duration.ofSeconds(30)));
            fb.add(b.request(requests, null, ("b" + i).getBytes(UTF_8), Duration.ofSeconds(30)));
            fc.add(everyPartition.request(requests, null, ("c" + i).getBytes(UTF_8), Duration.ofSeconds(30)));
        }
        for (int i = 0; i < 200; i++) {
            assertThat(text(fa.get(i).get(60, TimeUnit.SECONDS))).isEqualTo("A" + i);
            assertThat(text(fb.get(i).get(60, TimeUnit.SECONDS))).isEqualTo("B" + i);
            assertThat(text(fc.get(i).get(60, TimeUnit.SECONDS))).isEqualTo("C" + i);
        }
        // a reads partition 0: its own replies and c's sent there (counted as foreign once a's consumer
        // has read them: c's own consumer may have been faster); b the same on partition 1.
        long cOn0 = countOn(fc, 0);
        long cOn1 = countOn(fc, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.stats().foreign() >= cOn0 && b.stats().foreign() >= cOn1);
        assertThat(a.stats().foreign()).isEqualTo(cOn0);
        assertThat(b.stats().foreign()).isEqualTo(cOn1);
        await().atMost(Duration.ofSeconds(30)).until(() -> everyPartition.stats().foreign() == 400);
        for (RequestReplyClient c : List.of(a, b, everyPartition)) {
            assertThat(c.stats().answered()).isEqualTo(200);
            assertThat(c.stats().late()).isZero();
        }
    }

    private static long countOn(List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> futures, int partition) {
        return futures.stream().filter(f -> f.join().partition() == partition).count();
    }

    @Test
    void aReplierThatCrashesMidStreamIsReplacedAndEveryRequestEndsByItsDeadline() throws Exception {
        String requests = KafkaClusterExtension.uniqueTopic("rrc-crash-requests");
        String replies = KafkaClusterExtension.uniqueTopic("rrc-crash-replies");
        KAFKA.cluster().createTopic(requests, 2);
        KAFKA.cluster().createTopic(replies, 1);
        RingProducer producer = producer();
        RingProducer replierProducer = producer();
        String group = group("rrc-crash");
        StreamProcessor first = replier(replierProducer, requests, group);
        RequestReplyClient client = client(producer, replies, 0);
        List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> futures = new ArrayList<>();
        List<Long> sentAt = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            if (i == 100) {
                first.close(Duration.ZERO); // a crash: no final commit, calls in flight abandoned
            }
            if (i == 200) {
                closeLater(replier(replierProducer, requests, group)); // the replacement resumes from the checkpoint
            }
            sentAt.add(System.nanoTime());
            futures.add(client.request(requests, null, ("r" + i).getBytes(UTF_8), Duration.ofSeconds(20)));
            Thread.sleep(20);
        }
        int answered = 0;
        int timedOut = 0;
        for (int i = 0; i < futures.size(); i++) {
            Throwable e = futures.get(i).handle((r, x) -> x).get(60, TimeUnit.SECONDS);
            if (e == null) {
                assertThat(text(futures.get(i).join())).isEqualTo("R" + i);
                answered++;
            } else {
                assertThat(e).isInstanceOf(SendTimeoutException.class);
                assertThat(((SendTimeoutException) e).stage()).isEqualTo(SendTimeoutException.Stage.AWAITING_REPLY);
                timedOut++;
            }
        }
        System.out.printf("RequestReplyClientIT: replier crashed after 100 of 300 requests, replaced after 200: %d answered,"
                + " %d timed out; %s%n", answered, timedOut, client.stats());
        assertThat(answered).as("the replacement answered what was waiting, within its deadline").isGreaterThanOrEqualTo(200);
        assertThat(answered + timedOut).isEqualTo(300);
        assertThat(client.stats().pending()).isZero();
    }

    @Test
    void throughABrokerOutageRequestsFailByTheirDeadlineAndThenSucceedAgain() throws Exception {
        KAFKA.assumeFaultInjection();
        String requests = KafkaClusterExtension.uniqueTopic("rrc-outage-requests");
        String replies = KafkaClusterExtension.uniqueTopic("rrc-outage-replies");
        KAFKA.cluster().createTopic(requests, 1);
        KAFKA.cluster().createTopic(replies, 1);
        RingProducer producer = producer();
        closeLater(replier(producer, requests, group("rrc-outage")));
        RequestReplyClient client = client(producer, replies, 0);
        assertThat(text(client.request(requests, null, "before".getBytes(UTF_8), Duration.ofSeconds(30)).get())).isEqualTo("BEFORE");
        KAFKA.cluster().kill();
        List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> during = new ArrayList<>();
        long start = System.nanoTime();
        try {
            for (int i = 0; i < 20; i++) {
                during.add(client.request(requests, null, ("during" + i).getBytes(UTF_8), Duration.ofSeconds(1)));
            }
            for (CompletableFuture<ConsumerRecord<byte[], byte[]>> f : during) {
                Throwable e = f.handle((r, x) -> x).get(30, TimeUnit.SECONDS);
                assertThat(e).isInstanceOf(SendTimeoutException.class);
            }
            // Not a timing claim: a request that waited for the broker would not end until the restart.
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        } finally {
            KAFKA.cluster().restart();
        }
        assertThat(client.isReady()).isTrue();
        await().atMost(Duration.ofSeconds(120)).until(() -> {
            Throwable e = client.request(requests, null, "after".getBytes(UTF_8), Duration.ofSeconds(5)).handle((r, x) -> x).join();
            return e == null;
        });
        System.out.printf("RequestReplyClientIT: outage: %s%n", client.stats());
    }

    @Test
    void maxPendingRefusesAtOnceAndAClientIsNotReadyUntilItsReplyTopicExists() throws Exception {
        String requests = KafkaClusterExtension.uniqueTopic("rrc-max-requests");
        String replies = KafkaClusterExtension.uniqueTopic("rrc-max-replies");
        KAFKA.cluster().createTopic(requests, 1);
        RingProducer producer = producer();
        RequestReplyClient client = closeLater(RequestReplyClient.builder(producer, Map.of("bootstrap.servers", bootstrap()))
                .replyTopic(replies).maxPending(5).build());
        assertThat(client.awaitReady(Duration.ofSeconds(2))).as("no reply topic yet").isFalse();
        Throwable notReady = client.request(requests, null, new byte[1]).handle((r, e) -> e).join();
        assertThat(notReady).isInstanceOf(IllegalStateException.class).hasMessageContaining("not ready");
        KAFKA.cluster().createTopic(replies, 1);
        assertThat(client.awaitReady(Duration.ofSeconds(60))).isTrue();
        List<CompletableFuture<ConsumerRecord<byte[], byte[]>>> waiting = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            waiting.add(client.request(requests, null, new byte[1], Duration.ofSeconds(30)));
        }
        Throwable refused = client.request(requests, null, new byte[1], Duration.ofSeconds(30)).handle((r, e) -> e).join();
        assertThat(refused).isInstanceOf(RejectedExecutionException.class).hasMessageContaining("maxPending");
        assertThat(client.stats().rejected()).isEqualTo(2);
        client.close();
        for (CompletableFuture<ConsumerRecord<byte[], byte[]>> f : waiting) {
            assertThat(f.handle((r, e) -> e).join()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
        RequestReplyStats s = client.stats();
        assertThat(s.requests()).isEqualTo(s.answered() + s.timedOut() + s.failed() + s.pending());
    }
}
