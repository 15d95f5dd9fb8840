package io.kafkascenarios.micrometer;

import java.util.Objects;
import java.util.function.ToDoubleFunction;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * A {@link RingProducer}'s accounting as Micrometer meters, read from {@link RingProducer#stats()} when
 * the registry is scraped: publishing pays nothing for them. Every meter is tagged {@code name} (the
 * producer's {@link RingProducer#name()}), {@code client.id} (its first KafkaProducer's, the key
 * Micrometer's {@code KafkaClientMetrics} uses, so that dashboards can join the two) and the tags
 * given; no meter is tagged per topic. Each meter name always carries the same tag keys.
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>extra tag</th></tr>
 *   <tr><td>{@code kafkascenarios.producer.offered}</td><td>counter</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.producer.records}</td><td>counter</td><td>{@code outcome}: delivered, discarded, failed</td></tr>
 *   <tr><td>{@code kafkascenarios.producer.pending}</td><td>gauge</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.producer.ring.capacity}, {@code .ring.remaining}</td><td>gauge</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.producer.blocked.calls}</td><td>counter</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.producer.blocked.time}</td><td>counter, seconds</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.producer.listener.errors}</td><td>counter</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.producer.replacements}</td><td>counter</td><td></td></tr>
 *   <tr><td>{@code kafkascenarios.producer.send.timeouts}</td><td>counter</td><td>{@code stage}: ring_space, in_ring, awaiting_ack</td></tr>
 * </table>
 *
 * <pre>{@code
 * RingProducer producer = RingProducer.builder(config).name("telemetry")
 *         .clientListener(new KafkaClientBinding(registry, Tags.of("service", "checkout")))  // Kafka's own metrics
 *         .build();
 * new RingProducerMetrics(producer, Tags.of("service", "checkout")).bindTo(registry);
 * }</pre>
 *
 * <p>Threads: bind from any thread; the registry reads the meters on its own (scrape) thread.
 */
public final class RingProducerMetrics implements MeterBinder {
    private final RingProducer producer;
    private final Tags tags;

    /**
     * @param producer the producer to watch
     * @param tags extra tags for every meter
     */
    public RingProducerMetrics(RingProducer producer, Iterable<Tag> tags) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.tags = Tags.of("name", producer.name(), "client.id", producer.clientId()).and(tags);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "kafkascenarios.producer.offered", "records offered", Tags.empty(), RingStats::offered);
        counter(registry, "kafkascenarios.producer.records", "records delivered (acknowledged by the broker)",
                Tags.of("outcome", "delivered"), RingStats::delivered);
        counter(registry, "kafkascenarios.producer.records", "records discarded because the ring was full",
                Tags.of("outcome", "discarded"), RingStats::discarded);
        counter(registry, "kafkascenarios.producer.records", "records Kafka refused or that could not be sent",
                Tags.of("outcome", "failed"), RingStats::failed);
        counter(registry, "kafkascenarios.producer.records", "records of send/sendAll withdrawn from the ring by their deadline, never written",
                Tags.of("outcome", "withdrawn"), RingStats::withdrawn);
        gauge(registry, "kafkascenarios.producer.pending", "records offered and not yet delivered, discarded, failed or withdrawn",
                RingStats::pending);
        gauge(registry, "kafkascenarios.producer.ring.capacity", "slots in the ring", RingStats::ringCapacity);
        gauge(registry, "kafkascenarios.producer.ring.remaining", "free slots in the ring", RingStats::ringRemaining);
        counter(registry, "kafkascenarios.producer.blocked.calls", "calls that waited for ring space", Tags.empty(),
                RingStats::blockedCalls);
        FunctionCounter.builder("kafkascenarios.producer.blocked.time", producer,
                        p -> p.stats().blockedTime().toNanos() / 1e9)
                .description("time callers spent waiting for ring space").baseUnit("seconds").tags(tags)
                .register(registry);
        counter(registry, "kafkascenarios.producer.listener.errors", "exceptions thrown by the listener", Tags.empty(),
                RingStats::listenerErrors);
        counter(registry, "kafkascenarios.producer.replacements", "KafkaProducers replaced after a fatal error",
                Tags.empty(), RingStats::producerReplacements);
        counter(registry, "kafkascenarios.producer.send.timeouts", "send futures failed by their deadline",
                Tags.of("stage", "ring_space"), RingStats::sendTimeoutsRingSpace);
        counter(registry, "kafkascenarios.producer.send.timeouts", "send futures failed by their deadline",
                Tags.of("stage", "in_ring"), RingStats::sendTimeoutsInRing);
        counter(registry, "kafkascenarios.producer.send.timeouts", "send futures failed by their deadline",
                Tags.of("stage", "awaiting_ack"), RingStats::sendTimeoutsAwaitingAck);
    }

    private void counter(MeterRegistry registry, String name, String description, Tags extra, ToDoubleFunction<RingStats> f) {
        FunctionCounter.builder(name, producer, p -> f.applyAsDouble(p.stats()))
                .description(description).baseUnit("records").tags(tags.and(extra)).register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<RingStats> f) {
        Gauge.builder(name, producer, p -> f.applyAsDouble(p.stats())).description(description).tags(tags)
                .strongReference(false).register(registry);
    }
}
