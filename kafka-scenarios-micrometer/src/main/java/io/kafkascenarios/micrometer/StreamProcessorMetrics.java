package io.kafkascenarios.micrometer;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

import io.kafkascenarios.stream.PartitionHealth;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.RecordHandler;
import io.kafkascenarios.stream.StreamProcessor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/**
 * A {@link StreamProcessor}'s health as Micrometer meters, read from {@code health()} when scraped:
 * counters, the state, paused partitions, and per assigned partition its lag and records waiting
 * (registered when the partition is assigned, removed when it is revoked or lost). Every meter is
 * tagged {@code name} (the processor's) and the tags given; the per-partition ones also
 * {@code topic} and {@code partition}.
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>extra tags</th></tr>
 *   <tr><td>{@code kafkascenarios.stream.records}</td><td>counter</td><td>{@code outcome}: processed, dead_lettered, skipped</td></tr>
 *   <tr><td>{@code kafkascenarios.stream.produced}, {@code .retries}, {@code .revocations}</td><td>counter</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.stream.state}</td><td>gauge, 1 for the current state</td><td>{@code state}</td></tr>
 *   <tr><td>{@code kafkascenarios.stream.partitions.paused}, {@code .partitions.stalled}</td><td>gauge</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.stream.partition.lag}, {@code .partition.queued}</td><td>gauge</td><td>{@code topic}, {@code partition}</td></tr>
 *   <tr><td>{@code kafkascenarios.stream.handler}</td><td>timer ({@link #timed})</td><td>{@code result}: success, failure</td></tr>
 * </table>
 *
 * <pre>{@code
 * StreamProcessorMetrics metrics = new StreamProcessorMetrics(registry, Tags.of("service", "enricher"));
 * StreamProcessor processor = metrics.start(StreamProcessor.builder(consumerConfig, out)
 *         .name("enricher").topics("orders")
 *         .recordHandler(metrics.timed(r -> List.of(enrich(r))))
 *         .clientListener(new KafkaClientBinding(registry, Tags.of("service", "enricher"))));
 * }</pre>
 *
 * <p>Threads: {@link #start} on the caller's thread; the partition meters change on the processor's
 * poll thread (its rebalance callbacks); the registry reads the meters on its scrape thread.
 */
public final class StreamProcessorMetrics {
    private final MeterRegistry registry;
    private final Tags userTags;
    private volatile StreamProcessor processor;
    private volatile Tags tags;
    private final Map<TopicPartition, List<Meter>> partitionMeters = new ConcurrentHashMap<>();

    /**
     * @param registry where the meters go
     * @param tags extra tags for every meter
     */
    public StreamProcessorMetrics(MeterRegistry registry, Iterable<Tag> tags) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.userTags = Tags.of(tags);
        this.tags = userTags;
    }

    /**
     * Adds this binder's rebalance listener (which keeps the per-partition meters) to the builder, starts
     * the processor and binds its meters. A rebalance listener set on the builder before is replaced.
     *
     * @param builder the configured processor (its {@code name} is the meters' {@code name} tag)
     * @return the started processor
     */
    public StreamProcessor start(StreamProcessor.Builder builder) {
        StreamProcessor p = builder.rebalanceListener(new Partitions()).start();
        tags = Tags.of("name", p.name()).and(userTags);
        processor = p;
        bind(p);
        // Partitions assigned before the processor was known here.
        for (TopicPartition tp : p.health().partitions().keySet()) {
            addPartition(tp);
        }
        return p;
    }

    private void bind(StreamProcessor p) {
        counter("kafkascenarios.stream.records", "input records done", Tags.of("outcome", "processed"), ProcessorHealth::processed);
        counter("kafkascenarios.stream.records", "input records sent to the dead-letter topic",
                Tags.of("outcome", "dead_lettered"), ProcessorHealth::deadLettered);
        counter("kafkascenarios.stream.records", "input records skipped", Tags.of("outcome", "skipped"), ProcessorHealth::skipped);
        counter("kafkascenarios.stream.produced", "output records acknowledged", Tags.empty(), ProcessorHealth::produced);
        counter("kafkascenarios.stream.retries", "attempts repeated after a failure", Tags.empty(), ProcessorHealth::retries);
        counter("kafkascenarios.stream.revocations", "rebalances that took partitions from this instance", Tags.empty(),
                ProcessorHealth::revocations);
        for (ProcessorHealth.State s : ProcessorHealth.State.values()) {
            Gauge.builder("kafkascenarios.stream.state", p, x -> x.health().state() == s ? 1 : 0)
                    .description("1 for the processor's current state").tags(tags.and("state", s.name().toLowerCase()))
                    .strongReference(false).register(registry);
        }
        Gauge.builder("kafkascenarios.stream.partitions.paused", p,
                        x -> x.health().partitions().values().stream().filter(PartitionHealth::paused).count())
                .description("assigned partitions paused for backpressure").tags(tags).strongReference(false).register(registry);
        Gauge.builder("kafkascenarios.stream.partitions.stalled", p, x -> x.health().stalled().size())
                .description("assigned partitions holding records without progress for the stall timeout")
                .tags(tags).strongReference(false).register(registry);
    }

    private void counter(String name, String description, Tags extra, ToDoubleFunction<ProcessorHealth> f) {
        FunctionCounter.builder(name, processor, p -> f.applyAsDouble(p.health()))
                .description(description).baseUnit("records").tags(tags.and(extra)).register(registry);
    }

    private void addPartition(TopicPartition tp) {
        StreamProcessor p = processor;
        if (p == null) {
            return; // start() adds it once the processor is known
        }
        partitionMeters.computeIfAbsent(tp, x -> {
            Tags t = tags.and("topic", tp.topic(), "partition", Integer.toString(tp.partition()));
            Meter lag = Gauge.builder("kafkascenarios.stream.partition.lag", p, q -> value(q.partitionHealth(tp), true))
                    .description("records after the partition's commit point up to its end").tags(t)
                    .strongReference(false).register(registry);
            Meter queued = Gauge.builder("kafkascenarios.stream.partition.queued", p, q -> value(q.partitionHealth(tp), false))
                    .description("records fetched and waiting for a handler call").tags(t)
                    .strongReference(false).register(registry);
            return List.of(lag, queued);
        });
    }

    private static double value(PartitionHealth h, boolean lag) {
        if (h == null) {
            return Double.NaN;
        }
        return lag ? (h.lag() < 0 ? Double.NaN : h.lag()) : h.queued();
    }

    private void removePartitions(Collection<TopicPartition> tps) {
        for (TopicPartition tp : tps) {
            List<Meter> meters = partitionMeters.remove(tp);
            if (meters != null) {
                meters.forEach(registry::remove);
            }
        }
    }

    /** Keeps the per-partition meters: poll thread, after the processor handled the rebalance. */
    private final class Partitions implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            assigned.forEach(StreamProcessorMetrics.this::addPartition);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            removePartitions(revoked);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            removePartitions(lost);
        }
    }

    /**
     * @param handler a record handler
     * @return the same handler, timed: {@code kafkascenarios.stream.handler} with {@code result}
     *         success or failure (a throw), and this binder's tags
     */
    public RecordHandler timed(RecordHandler handler) {
        Objects.requireNonNull(handler, "handler");
        return record -> {
            long start = System.nanoTime();
            boolean ok = false;
            try {
                List<ProducerRecord<byte[], byte[]>> out = handler.handle(record);
                ok = true;
                return out;
            } finally {
                Timer.builder("kafkascenarios.stream.handler").description("handler calls, by result")
                        .tags(tags.and("result", ok ? "success" : "failure")).register(registry)
                        .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
            }
        };
    }
}
