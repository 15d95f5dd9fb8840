package io.kafkascenarios.it;

import static io.kafkascenarios.it.StreamFixture.consumerConfig;
import static io.kafkascenarios.it.StreamFixture.group;
import static io.kafkascenarios.it.StreamFixture.identity;
import static io.kafkascenarios.it.StreamFixture.identityAll;
import static io.kafkascenarios.it.StreamFixture.produceInputs;
import static io.kafkascenarios.it.StreamFixture.producerConfig;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.ProcessingException;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;
import io.kafkascenarios.testkit.KafkaClusterExtension;

/** The stream-processor scenario against a real broker: ownership, order, retries, policies, slow handlers. */
class StreamProcessorIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.inProcess();

    private static String bootstrap() {
        return KAFKA.cluster().bootstrapServers();
    }

    @Test
    void threeInstancesShareSixPartitionsAndKeepPerKeyOrder() throws Exception {
        String in = inAndOut("sp-three", 6);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 30_000, 60);
        String group = group("sp-three");
        List<StreamProcessor> processors = new ArrayList<>();
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            for (int i = 0; i < 3; i++) {
                processors.add(StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                        .topics(in).name("three-" + i)
                        .recordHandler(r -> List.of(identity(out, r)))
                        .start());
            }
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> processors.stream().mapToLong(p -> p.health().processed()).sum() >= inputs.size()
                            && processors.stream().allMatch(p -> p.health().state() == ProcessorHealth.State.RUNNING));
            // Every instance owned partitions: one owner per partition, the work spread.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                int owned = 0;
                for (StreamProcessor p : processors) {
                    assertThat(p.health().partitions()).isNotEmpty();
                    owned += p.health().partitions().size();
                }
                assertThat(owned).isEqualTo(6);
            });
            for (StreamProcessor p : processors) {
                assertThat(p.close(Duration.ofSeconds(20))).isTrue();
                assertThat(p.health().state()).isEqualTo(ProcessorHealth.State.CLOSED);
            }
        }
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.missing(inputs)).isEmpty();
        assertThat(outputs.orderViolations()).isEmpty();
        // Clean revokes while instances joined: each revoke waited for its batch and committed it.
        assertThat(outputs.duplicates).as(outputs.toString()).isZero();
        assertThat(committed(group, in, 6)).as("checkpoints at the end of every partition")
                .isEqualTo(endOffsets(in, 6));
    }

    @Test
    void aHandlerFailingFewerTimesThanTheRetriesIsRetriedAndProducesOneOutput() throws Exception {
        String in = inAndOut("sp-retry", 1);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 200, 4);
        long flaky = 57;
        AtomicInteger flakyCalls = new AtomicInteger();
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group("sp-retry")), producer)
                    .topics(in).retries(3).backoff(Backoff.fixed(Duration.ofMillis(20)))
                    .recordHandler(r -> {
                        if (r.offset() == flaky && flakyCalls.incrementAndGet() <= 2) {
                            throw new IllegalStateException("transient failure " + flakyCalls.get());
                        }
                        return List.of(identity(out, r));
                    })
                    .start();
            await().atMost(Duration.ofSeconds(60)).until(() -> p.health().processed() >= inputs.size());
            ProcessorHealth h = p.health();
            assertThat(h.state()).isEqualTo(ProcessorHealth.State.RUNNING);
            assertThat(h.retries()).isGreaterThanOrEqualTo(1);
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        // Two failures (the batch, then the record alone), the third call succeeds.
        assertThat(flakyCalls.get()).isEqualTo(3);
        StreamFixture.Outputs.read(bootstrap(), out).assertEachInputOnceInOrder(inputs);
    }

    @Test
    void aPoisonRecordStopsTheProcessorAndANewInstanceResumesAtIt() throws Exception {
        String in = inAndOut("sp-stop", 1);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 500, 5);
        long poison = 321;
        String group = group("sp-stop");
        AtomicInteger poisonCalls = new AtomicInteger();
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor first = StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                    .topics(in).retries(2).backoff(Backoff.exponential(Duration.ofMillis(10), Duration.ofMillis(40)))
                    .recordHandler(r -> {
                        if (r.offset() == poison) {
                            poisonCalls.incrementAndGet();
                            throw new IllegalArgumentException("cannot parse record " + r.offset());
                        }
                        return List.of(identity(out, r));
                    })
                    .start();
            ExecutionException stopped = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> first.termination().get(60, TimeUnit.SECONDS));
            assertThat(stopped.getCause()).isInstanceOf(ProcessingException.class);
            ProcessingException pe = (ProcessingException) stopped.getCause();
            assertThat(pe.partition()).isEqualTo(new TopicPartition(in, 0));
            assertThat(pe.offset()).isEqualTo(poison);
            assertThat(pe.getCause()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("321");
            assertThat(poisonCalls.get()).as("one try in its batch, then 2 retries alone").isEqualTo(3);
            assertThat(pe.attempts()).isEqualTo(3);
            ProcessorHealth h = first.health();
            assertThat(h.state()).isEqualTo(ProcessorHealth.State.FAILED);
            assertThat(h.failure()).containsSame(pe);
            assertThat(committed(group, in, 1)).containsEntry(new TopicPartition(in, 0), poison);

            // The poison is fixed (e.g. a new release): a new instance resumes exactly at it.
            AtomicLong firstSeen = new AtomicLong(-1);
            StreamProcessor second = StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                    .topics(in)
                    .recordHandler(r -> {
                        firstSeen.compareAndSet(-1, r.offset());
                        return List.of(identity(out, r));
                    })
                    .start();
            await().atMost(Duration.ofSeconds(60)).until(() -> second.health().processed() >= inputs.size() - poison);
            assertThat(second.close(Duration.ofSeconds(10))).isTrue();
            assertThat(firstSeen.get()).isEqualTo(poison);
        }
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.missing(inputs)).isEmpty();
        assertThat(outputs.duplicates).isZero();
    }

    @Test
    void aPoisonRecordGoesToTheDeadLetterTopicWithItsErrorAndTheRestFlowsOn() throws Exception {
        String in = KafkaClusterExtension.uniqueTopic("sp-dlq-in");
        String out = KafkaClusterExtension.uniqueTopic("sp-dlq-out");
        String dlq = KafkaClusterExtension.uniqueTopic("sp-dlq");
        KAFKA.cluster().createTopic(in, 2);
        KAFKA.cluster().createTopic(out, 2);
        KAFKA.cluster().createTopic(dlq, 1);
        List<String> inputs = produceInputs(bootstrap(), in, 1000, 10);
        String poisonValue = inputs.get(537);
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group("sp-dlq")), producer)
                    .topics(in).retries(1).backoff(Backoff.fixed(Duration.ofMillis(10)))
                    .onFailure(FailurePolicy.DEAD_LETTER).deadLetterTopic(dlq)
                    .recordHandler(r -> {
                        if (new String(r.value(), UTF_8).equals(poisonValue)) {
                            throw new NumberFormatException("bad amount in " + poisonValue);
                        }
                        return List.of(identity(out, r));
                    })
                    .start();
            await().atMost(Duration.ofSeconds(60)).until(() -> p.health().processed() >= inputs.size());
            ProcessorHealth h = p.health();
            assertThat(h.state()).isEqualTo(ProcessorHealth.State.RUNNING);
            assertThat(h.deadLettered()).isEqualTo(1);
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        List<ConsumerRecord<byte[], byte[]>> dead = ReadBack.all(bootstrap(), dlq);
        assertThat(dead).hasSize(1);
        ConsumerRecord<byte[], byte[]> d = dead.get(0);
        assertThat(new String(d.value(), UTF_8)).isEqualTo(poisonValue);
        assertThat(header(d, StreamProcessor.HEADER_ERROR_CLASS)).isEqualTo(NumberFormatException.class.getName());
        assertThat(header(d, StreamProcessor.HEADER_ERROR_MESSAGE)).isEqualTo("bad amount in " + poisonValue);
        assertThat(header(d, StreamProcessor.HEADER_ORIGINAL_TOPIC)).isEqualTo(in);
        assertThat(header(d, StreamProcessor.HEADER_ATTEMPTS)).as("one try, one retry").isEqualTo("2");
        TopicPartition origin = new TopicPartition(in, Integer.parseInt(header(d, StreamProcessor.HEADER_ORIGINAL_PARTITION)));
        long offset = Long.parseLong(header(d, StreamProcessor.HEADER_ORIGINAL_OFFSET));
        ConsumerRecord<byte[], byte[]> original = ReadBack.all(bootstrap(), in).stream()
                .filter(r -> r.partition() == origin.partition() && r.offset() == offset).findFirst().orElseThrow();
        assertThat(new String(original.value(), UTF_8)).isEqualTo(poisonValue);
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.missing(inputs)).containsExactly(poisonValue);
        assertThat(outputs.duplicates).isZero();
    }

    @Test
    void anErrorInAHandlerStopsTheProcessorWithThatCause() throws Exception {
        String in = KafkaClusterExtension.uniqueTopic("sp-error-in");
        KAFKA.cluster().createTopic(in, 1);
        produceInputs(bootstrap(), in, 10, 1);
        String group = group("sp-error");
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                    .topics(in).retries(5)
                    .handler(records -> {
                        throw new OutOfMemoryError("simulated");
                    })
                    .start();
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> p.termination().get(30, TimeUnit.SECONDS));
            assertThat(e.getCause()).isInstanceOf(ProcessingException.class);
            assertThat(e.getCause().getCause()).isInstanceOf(OutOfMemoryError.class);
            assertThat(((ProcessingException) e.getCause()).attempts()).as("an Error is not retried").isEqualTo(1);
            assertThat(p.health().state()).isEqualTo(ProcessorHealth.State.FAILED);
        }
        assertThat(committed(group, in, 1)).isEmpty();
    }

    @Test
    void aHandlerSlowerThanMaxPollIntervalCausesNoRebalanceAndLosesNothing() throws Exception {
        String in = inAndOut("sp-slow", 2);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 400, 8);
        Map<String, Object> config = consumerConfig(bootstrap(), group("sp-slow"));
        config.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 3000);
        AtomicBoolean sawPaused = new AtomicBoolean();
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(config, producer)
                    .topics(in).maxBatch(10).maxQueuedPerPartition(20).revokeTimeout(Duration.ofSeconds(1))
                    .handler(records -> {
                        Thread.sleep(250); // 40 batches a partition: 10 s per partition, > 3 x max.poll.interval.ms
                        return identityAll(out, records);
                    })
                    .start();
            AtomicLong maxLag = new AtomicLong();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
                ProcessorHealth h = p.health();
                if (h.partitions().values().stream().anyMatch(ph -> ph.paused())) {
                    sawPaused.set(true);
                }
                maxLag.accumulateAndGet(h.totalLag(), Math::max);
                return h.processed() >= inputs.size();
            });
            assertThat(maxLag.get()).as("lag reported while the backlog lasted").isPositive();
            // Lag is the consumer's (fetch position to end), refreshed every commit interval: all fetched now.
            await().atMost(Duration.ofSeconds(10)).until(() -> p.health().totalLag() == 0
                    && p.health().partitions().values().stream().allMatch(ph -> ph.lag() == 0));
            ProcessorHealth h = p.health();
            assertThat(h.revocations()).as("no rebalance while the handler was slow").isZero();
            assertThat(h.state()).isEqualTo(ProcessorHealth.State.RUNNING);
            assertThat(sawPaused).as("backpressure paused a partition").isTrue();
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        StreamFixture.Outputs.read(bootstrap(), out).assertEachInputOnceInOrder(inputs);
    }

    @Test
    void worksWithTheConsumerGroupProtocol() throws Exception {
        String in = inAndOut("sp-kip848", 4);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 5000, 20);
        String group = group("sp-kip848");
        Map<String, Object> config = consumerConfig(bootstrap(), group);
        config.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor a = StreamProcessor.builder(config, producer).topics(in)
                    .recordHandler(r -> List.of(identity(out, r))).start();
            StreamProcessor b = StreamProcessor.builder(config, producer).topics(in)
                    .recordHandler(r -> List.of(identity(out, r))).start();
            await().atMost(Duration.ofSeconds(60)).until(() -> a.health().processed() + b.health().processed() >= inputs.size());
            assertThat(a.close(Duration.ofSeconds(10))).isTrue();
            assertThat(b.close(Duration.ofSeconds(10))).isTrue();
            assertThat(a.health().state()).isEqualTo(ProcessorHealth.State.CLOSED);
        }
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.missing(inputs)).isEmpty();
        assertThat(outputs.orderViolations()).isEmpty();
        assertThat(committed(group, in, 4)).isEqualTo(endOffsets(in, 4));
    }

    @Test
    void moreBusyPartitionsThanWorkerThreadsAllProgress() throws Exception {
        String in = inAndOut("sp-fair", 6);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 6000, 60);
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group("sp-fair")), producer)
                    .topics(in).workerThreads(2).maxBatch(10)
                    .handler(records -> {
                        Thread.sleep(10); // 6000 records in batches of 10: a backlog for seconds
                        return identityAll(out, records);
                    })
                    .start();
            // Well before the backlog is gone, every partition has completed something: none waits for
            // the two threads to run out of work elsewhere.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                ProcessorHealth h = p.health();
                assertThat(h.partitions()).hasSize(6);
                assertThat(h.partitions().values()).allSatisfy(ph -> assertThat(ph.completed()).isPositive());
            });
            assertThat(p.health().processed()).as("still a backlog when every partition has progressed")
                    .isLessThan(inputs.size());
            await().atMost(Duration.ofSeconds(90)).until(() -> p.health().processed() >= inputs.size());
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        StreamFixture.Outputs.read(bootstrap(), out).assertEachInputOnceInOrder(inputs);
    }

    @Test
    void anAsyncHandlersOutputsAreProducedAndAnErrorCompletingItsStageStopsTheProcessor() throws Exception {
        String in = inAndOut("sp-async", 2);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 2000, 10);
        String errorValue = inputs.get(1500);
        java.util.concurrent.ExecutorService service = java.util.concurrent.Executors.newFixedThreadPool(2);
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group("sp-async")), producer)
                    .topics(in).retries(5)
                    .asyncHandler(records -> java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        List<org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]>> outs = new ArrayList<>();
                        for (ConsumerRecord<byte[], byte[]> r : records) {
                            if (new String(r.value(), UTF_8).equals(errorValue)) {
                                throw new StackOverflowError("simulated in the async service");
                            }
                            outs.add(identity(out, r));
                        }
                        return outs;
                    }, service))
                    .start();
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> p.termination().get(60, TimeUnit.SECONDS));
            assertThat(e.getCause()).isInstanceOf(ProcessingException.class);
            assertThat(e.getCause().getCause()).isInstanceOf(StackOverflowError.class);
            assertThat(((ProcessingException) e.getCause()).attempts()).as("an Error is not retried").isEqualTo(1);
            assertThat(p.health().state()).isEqualTo(ProcessorHealth.State.FAILED);
            assertThat(p.health().retries()).isZero();
        } finally {
            service.shutdownNow();
        }
        // What was produced is what the async stages returned, each record at most once.
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.total).isPositive();
        assertThat(outputs.duplicates).isZero();
        assertThat(outputs.orderViolations()).isEmpty();
    }

    @Test
    void aPoisonRecordIsSkippedAndCountedUnderSkip() throws Exception {
        String in = inAndOut("sp-skip", 1);
        String out = in + "-out";
        List<String> inputs = produceInputs(bootstrap(), in, 300, 3);
        String poisonValue = inputs.get(123);
        String group = group("sp-skip");
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group), producer)
                    .topics(in).onFailure(FailurePolicy.SKIP).nonRetryable(NumberFormatException.class)
                    .recordHandler(r -> {
                        if (new String(r.value(), UTF_8).equals(poisonValue)) {
                            throw new NumberFormatException("not a number: " + poisonValue);
                        }
                        return List.of(identity(out, r));
                    })
                    .start();
            await().atMost(Duration.ofSeconds(60)).until(() -> p.health().processed() >= inputs.size());
            assertThat(p.health().skipped()).isEqualTo(1);
            assertThat(p.health().retries()).as("non-retryable: straight to the policy").isZero();
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        StreamFixture.Outputs outputs = StreamFixture.Outputs.read(bootstrap(), out);
        assertThat(outputs.missing(inputs)).containsExactly(poisonValue);
        assertThat(committed(group, in, 1)).isEqualTo(endOffsets(in, 1));
    }

    @Test
    void aTopicPatternPicksUpMatchingTopicsIncludingOnesCreatedLater() throws Exception {
        String prefix = KafkaClusterExtension.uniqueTopic("sp-pattern");
        String out = KafkaClusterExtension.uniqueTopic("sp-pattern-out");
        KAFKA.cluster().createTopic(prefix + "-a", 2);
        KAFKA.cluster().createTopic(out, 2);
        Map<String, Object> config = consumerConfig(bootstrap(), group("sp-pattern"));
        config.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 500); // notice the new topic quickly
        List<String> first = produceInputs(bootstrap(), prefix + "-a", 500, 5);
        List<String> second;
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap())).build()) {
            StreamProcessor p = StreamProcessor.builder(config, producer)
                    .topicPattern(java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(prefix) + "-.*"))
                    .recordHandler(r -> List.of(identity(out, r)))
                    .start();
            await().atMost(Duration.ofSeconds(60)).until(() -> p.health().processed() >= first.size());
            KAFKA.cluster().createTopic(prefix + "-b", 1);
            second = produceInputs(bootstrap(), prefix + "-b", 300, 3);
            await().atMost(Duration.ofSeconds(60)).until(() -> p.health().processed() >= first.size() + 300);
            assertThat(p.health().partitions()).containsKey(new TopicPartition(prefix + "-b", 0));
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        // Both topics' values (their key spaces overlap, so compare the multisets), each exactly once.
        List<String> expected = new ArrayList<>(first);
        expected.addAll(second);
        List<String> produced = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : ReadBack.all(bootstrap(), out)) {
            produced.add(new String(r.value(), UTF_8));
        }
        assertThat(produced).containsExactlyInAnyOrderElementsOf(expected);
    }

    /** Creates {@code <unique>} and {@code <unique>-out} with the same partitions; returns the input's name. */
    private static String inAndOut(String prefix, int partitions) {
        String in = KafkaClusterExtension.uniqueTopic(prefix);
        KAFKA.cluster().createTopic(in, partitions);
        KAFKA.cluster().createTopic(in + "-out", partitions);
        return in;
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), UTF_8);
    }

    static Map<TopicPartition, Long> committed(String group, String topic, int partitions) throws Exception {
        return StreamFixture.committed(bootstrap(), group, topic);
    }

    static Map<TopicPartition, Long> endOffsets(String topic, int partitions) {
        return StreamFixture.endOffsets(bootstrap(), topic, partitions);
    }
}
