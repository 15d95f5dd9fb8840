package io.kafkascenarios.it;

import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;
import static org.apache.kafka.common.acl.AclPermissionType.ALLOW;
import static org.apache.kafka.common.resource.PatternType.LITERAL;
import static org.apache.kafka.common.resource.ResourceType.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.ResourcePattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.FailureReport;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;
import io.kafkascenarios.testkit.EmbeddedKafkaCluster;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/**
 * The scenarios on a three-node cluster's SCRAM-SHA-512 listener with ACLs ({@code StandardAuthorizer},
 * nothing allowed unless granted): a producer's user may write one topic and not another; a wrong
 * password; a processor's user without READ on its group. Read-backs use the cluster's unrestricted
 * plain listener.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterSecurityIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.childJvmCluster(3).saslScram();

    @Test
    void aUserDeniedOneTopicFailsItsRecordsWithTheCauseAndKeepsServingTheOthers() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String allowed = KafkaClusterExtension.uniqueTopic("secure-allowed");
        String denied = KafkaClusterExtension.uniqueTopic("secure-denied");
        cluster.createTopic(allowed, 1);
        cluster.createTopic(denied, 1);
        cluster.createAcls(List.of(allow("alice", TOPIC, allowed, WRITE), allow("alice", TOPIC, allowed, DESCRIBE)));
        cluster.createScramUser("alice", "alice-secret");

        ConcurrentLinkedQueue<FailureReport> reports = new ConcurrentLinkedQueue<>();
        RingProducerListener listener = collecting(reports);
        int perTopic = 1_000;
        long t0 = System.nanoTime();
        RingStats stats;
        Throwable sendFailure;
        try (RingProducer producer = RingProducer.builder(cluster.saslClientConfig("alice", "alice-secret"))
                .listener(listener).reportInterval(Duration.ofMillis(100)).build()) {
            for (int i = 0; i < perTopic; i++) {
                assertThat(producer.offer(allowed, null, ("ok-" + i).getBytes(StandardCharsets.UTF_8))).isTrue();
                assertThat(producer.offer(denied, null, ("no-" + i).getBytes(StandardCharsets.UTF_8))).isTrue();
            }
            assertThat(producer.flush(Duration.ofSeconds(60))).as("every record delivered or failed").isTrue();
            // Shared fate: a request's own record fails with the cause, the allowed topic still serves.
            CompletableFuture<RecordMetadata> refused = producer.send(denied, null, new byte[] {1}, Duration.ofSeconds(10));
            CompletableFuture<RecordMetadata> served = producer.send(allowed, null, new byte[] {2}, Duration.ofSeconds(10));
            sendFailure = failureOf(refused);
            assertThat(served.get(15, TimeUnit.SECONDS).topic()).isEqualTo(allowed);
            // A future completes just before its record is counted: the counts are exact after a flush.
            assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();
            stats = producer.stats();
        }
        System.out.printf("ClusterSecurityIT: a denied topic and an allowed one, %d records each, settled in %d ms: %s;"
                + " reports %s%n", perTopic, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), stats, reports);
        assertThat(sendFailure).isInstanceOf(TopicAuthorizationException.class);
        assertThat(stats.delivered()).isEqualTo(perTopic + 1);
        assertThat(stats.failed()).isEqualTo(perTopic + 1);
        assertThat(reports).isNotEmpty().allSatisfy(r -> assertThat(r.cause()).isInstanceOf(TopicAuthorizationException.class));
        assertThat(reports.stream().mapToLong(FailureReport::count).sum()).isEqualTo(perTopic + 1);
        assertThat(reports.stream().flatMap(r -> r.records().stream()).allMatch(r -> r.topic().equals(denied))).isTrue();
        assertThat(ReadBack.all(cluster.bootstrapServers(), allowed)).hasSize(perTopic + 1);
        assertThat(ReadBack.all(cluster.bootstrapServers(), denied)).isEmpty();
    }

    @Test
    void aWrongPasswordFailsEveryRecordWithTheCauseAndCloseKeepsItsDeadline() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String topic = KafkaClusterExtension.uniqueTopic("secure-wrong-password");
        cluster.createTopic(topic, 1);
        cluster.createAcls(List.of(allow("carol", TOPIC, topic, WRITE), allow("carol", TOPIC, topic, DESCRIBE)));
        cluster.createScramUser("carol", "carol-secret");

        ConcurrentLinkedQueue<FailureReport> reports = new ConcurrentLinkedQueue<>();
        RingProducerListener listener = collecting(reports);
        RingProducer producer = RingProducer.builder(cluster.saslClientConfig("carol", "not-carols-password"))
                .listener(listener).reportInterval(Duration.ofMillis(100)).build();
        int offered = 500;
        long closeMillis;
        long undelivered;
        Throwable sendFailure;
        try {
            for (int i = 0; i < offered; i++) {
                assertThat(producer.offer(topic, null, new byte[] {(byte) i})).isTrue();
            }
            sendFailure = failureOf(producer.send(topic, null, new byte[] {1}, Duration.ofSeconds(5)));
            await().atMost(Duration.ofSeconds(30)).until(() -> !reports.isEmpty());
        } finally {
            long t0 = System.nanoTime();
            undelivered = producer.close(Duration.ofSeconds(3));
            closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        }
        // close may return with Kafka's abort of what it held still being counted (documented): wait for it.
        await().atMost(Duration.ofSeconds(10)).until(() -> producer.stats().pending() == 0);
        RingStats stats = producer.stats();
        System.out.printf("ClusterSecurityIT: wrong password: send failed with %s; close took %d ms, %d undelivered; %s;"
                + " reports %s%n", sendFailure, closeMillis, undelivered, stats, reports);
        assertThat(sendFailure).as("a clear cause, not a bare timeout").isInstanceOf(AuthenticationException.class);
        assertThat(reports).allSatisfy(r -> assertThat(r.cause()).isInstanceOf(AuthenticationException.class));
        assertThat(closeMillis).as("close keeps its deadline (plus scheduling slack)").isLessThan(3_000 + 2_000);
        assertThat(stats.delivered()).isZero();
        assertThat(stats.pending()).isZero();
        assertThat(stats.failed() + stats.discarded() + stats.withdrawn()).as("every record accounted for").isEqualTo(offered + 1);

        // Without the fast refusal each record waits in Kafka's send for a login: close still keeps its deadline.
        RingProducer slow = RingProducer.builder(cluster.saslClientConfig("carol", "not-carols-password"))
                .listener(listener).refusalRetryInterval(Duration.ZERO).build();
        for (int i = 0; i < offered; i++) {
            slow.offer(topic, null, new byte[] {(byte) i});
        }
        long t1 = System.nanoTime();
        long slowUndelivered = slow.close(Duration.ofSeconds(3));
        long slowCloseMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
        await().atMost(Duration.ofSeconds(10)).until(() -> slow.stats().pending() == 0);
        RingStats slowStats = slow.stats();
        System.out.printf("ClusterSecurityIT: wrong password, every record sent to Kafka: close(3 s) took %d ms, %d undelivered; %s%n",
                slowCloseMillis, slowUndelivered, slowStats);
        assertThat(slowCloseMillis).isLessThan(3_000 + 2_000);
        assertThat(slowUndelivered).as("most records were still waiting for the flusher").isPositive();
        assertThat(slowStats.pending()).isZero();
        assertThat(slowStats.delivered()).isZero();
        assertThat(slowStats.failed() + slowStats.discarded() + slowStats.withdrawn()).isEqualTo(offered);
        assertThat(ReadBack.all(cluster.bootstrapServers(), topic)).isEmpty();
    }

    @Test
    void aProcessorWithoutReadOnItsGroupIsFailedWithTheCause() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String in = KafkaClusterExtension.uniqueTopic("secure-in");
        String out = KafkaClusterExtension.uniqueTopic("secure-out");
        cluster.createTopic(in, 2);
        cluster.createTopic(out, 2);
        List<String> inputs = StreamFixture.produceInputs(cluster.bootstrapServers(), in, 100, 10);
        String deniedGroup = StreamFixture.group("secure-denied");
        String allowedGroup = StreamFixture.group("secure-allowed");
        cluster.createAcls(List.of(allow("dave", TOPIC, in, READ), allow("dave", TOPIC, in, DESCRIBE),
                allow("dave", org.apache.kafka.common.resource.ResourceType.GROUP, allowedGroup, READ),
                allow("dave", TOPIC, out, WRITE), allow("dave", TOPIC, out, DESCRIBE)));
        cluster.createScramUser("dave", "dave-secret");

        List<StreamProcessor> started = new ArrayList<>();
        RingProducer producer = RingProducer.builder(cluster.saslClientConfig("dave", "dave-secret")).build();
        try {
            StreamProcessor denied = StreamProcessor.builder(consumerConfig(cluster, deniedGroup), producer)
                    .topics(in).recordHandler(r -> List.of(StreamFixture.identity(out, r))).start();
            started.add(denied);
            StreamProcessor allowed = StreamProcessor.builder(consumerConfig(cluster, allowedGroup), producer)
                    .topics(in).recordHandler(r -> List.of(StreamFixture.identity(out, r))).start();
            started.add(allowed);
            await().atMost(Duration.ofSeconds(60)).until(() -> denied.health().state() == ProcessorHealth.State.FAILED);
            await().atMost(Duration.ofSeconds(60)).until(() -> allowed.health().processed() == 100);
            ProcessorHealth health = denied.health();
            System.out.printf("ClusterSecurityIT: a processor without READ on its group: %s, cause %s%n", health.state(),
                    health.failure().orElse(null));
            assertThat(health.failure()).get().isInstanceOf(GroupAuthorizationException.class);
            assertThat(allowed.health().state()).isNotEqualTo(ProcessorHealth.State.FAILED);
        } finally {
            for (StreamProcessor p : started) {
                p.close(Duration.ofSeconds(10));
            }
            producer.close(); // after the processors that write through it
        }
        assertThat(StreamFixture.Outputs.read(cluster.bootstrapServers(), out).missing(inputs)).isEmpty();
    }

    @Test
    void aRequestReplyClientRoundTripsWithItsAclsAndSaysWhyWithoutReadOnItsReplyTopic() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String requests = KafkaClusterExtension.uniqueTopic("secure-requests");
        String replies = KafkaClusterExtension.uniqueTopic("secure-replies");
        cluster.createTopic(requests, 1);
        cluster.createTopic(replies, 1);
        cluster.createAcls(List.of(allow("frank", TOPIC, requests, WRITE), allow("frank", TOPIC, requests, DESCRIBE),
                allow("frank", TOPIC, replies, READ), allow("frank", TOPIC, replies, DESCRIBE),
                allow("grace", TOPIC, requests, WRITE), allow("grace", TOPIC, requests, DESCRIBE)));
        cluster.createScramUser("frank", "frank-secret");
        cluster.createScramUser("grace", "grace-secret");
        List<AutoCloseable> open = new ArrayList<>();
        try {
            // The replier on the unrestricted listener: upper-cases each request into its reply.
            RingProducer replierProducer = RingProducer.builder(Map.of("bootstrap.servers", cluster.bootstrapServers())).build();
            open.add(replierProducer);
            StreamProcessor replier = StreamProcessor.builder(StreamFixture.consumerConfig(cluster.bootstrapServers(),
                    StreamFixture.group("secure-replier")), replierProducer).topics(requests)
                    .recordHandler(r -> List.of(io.kafkascenarios.reply.ReplyHeaders.SPRING.reply(r, r.key(),
                            new String(r.value(), StandardCharsets.UTF_8).toUpperCase(java.util.Locale.ROOT).getBytes(StandardCharsets.UTF_8))))
                    .start();
            open.add(() -> replier.close(Duration.ofSeconds(10)));

            RingProducer frankProducer = RingProducer.builder(cluster.saslClientConfig("frank", "frank-secret")).build();
            open.add(frankProducer);
            io.kafkascenarios.reply.RequestReplyClient frank = io.kafkascenarios.reply.RequestReplyClient
                    .builder(frankProducer, cluster.saslClientConfig("frank", "frank-secret")).replyTopic(replies).build();
            open.add(frank);
            assertThat(frank.awaitReady(Duration.ofSeconds(60))).isTrue();
            for (int i = 0; i < 20; i++) {
                byte[] reply = frank.request(requests, null, ("hello " + i).getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(30))
                        .get(40, TimeUnit.SECONDS).value();
                assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo("HELLO " + i);
            }

            // grace may write requests but not read the reply topic.
            RingProducer graceProducer = RingProducer.builder(cluster.saslClientConfig("grace", "grace-secret")).build();
            open.add(graceProducer);
            io.kafkascenarios.reply.RequestReplyClient grace = io.kafkascenarios.reply.RequestReplyClient
                    .builder(graceProducer, cluster.saslClientConfig("grace", "grace-secret")).replyTopic(replies).build();
            open.add(grace);
            long t0 = System.nanoTime();
            boolean ready = grace.awaitReady(Duration.ofSeconds(60));
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            Throwable refused = failureOf(grace.request(requests, null, new byte[] {1}, Duration.ofSeconds(5)));
            System.out.printf("ClusterSecurityIT: request-reply: 20 round trips over SCRAM; without READ on the reply topic"
                    + " awaitReady said %s after %d ms, a request failed with %s (cause %s)%n", ready, waitedMillis, refused,
                    refused.getCause());
            assertThat(ready).isFalse();
            assertThat(waitedMillis).as("not at the 60 s timeout").isLessThan(30_000);
            assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessageContaining("not ready")
                    .hasRootCauseInstanceOf(TopicAuthorizationException.class);
        } finally {
            java.util.Collections.reverse(open);
            for (AutoCloseable c : open) {
                c.close();
            }
        }
    }

    @Test
    void usersAndAclsSurviveARestartOfTheWholeCluster() throws Exception {
        EmbeddedKafkaCluster cluster = KAFKA.multiNode();
        String topic = KafkaClusterExtension.uniqueTopic("secure-restart");
        cluster.createTopic(topic, 1);
        cluster.createAcls(List.of(allow("erin", TOPIC, topic, WRITE), allow("erin", TOPIC, topic, DESCRIBE)));
        cluster.createScramUser("erin", "erin-secret");
        long t0 = System.nanoTime();
        cluster.restart(); // every node stopped together, then started together: the metadata log is kept
        long restartMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        try (RingProducer producer = RingProducer.builder(cluster.saslClientConfig("erin", "erin-secret")).build()) {
            for (int i = 0; i < 100; i++) {
                producer.offer(topic, null, new byte[] {(byte) i});
            }
            assertThat(producer.flush(Duration.ofSeconds(60))).isTrue();
            System.out.printf("ClusterSecurityIT: after a whole-cluster restart (%d ms): %s%n", restartMillis, producer.stats());
            assertThat(producer.stats().delivered()).isEqualTo(100);
        }
        assertThat(ReadBack.all(cluster.bootstrapServers(), topic)).hasSize(100);
    }

    private static Map<String, Object> consumerConfig(EmbeddedKafkaCluster cluster, String group) {
        Map<String, Object> c = cluster.saslClientConfig("dave", "dave-secret");
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return c;
    }

    private static RingProducerListener collecting(ConcurrentLinkedQueue<FailureReport> reports) {
        return new RingProducerListener() {
            @Override
            public void onFailed(FailureReport report) {
                reports.add(report);
            }
        };
    }

    private static AclBinding allow(String user, org.apache.kafka.common.resource.ResourceType type, String name, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, LITERAL), new AccessControlEntry("User:" + user, "*", op, ALLOW));
    }

    private static Throwable failureOf(CompletableFuture<?> f) throws InterruptedException {
        try {
            f.get(30, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + f.join());
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the future did not complete in 30 s: a hang", e);
        }
    }
}
