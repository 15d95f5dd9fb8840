package io.kafkascenarios.jmh;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import io.kafkascenarios.CallerHeaders;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;
import io.kafkascenarios.micrometer.RingProducerMetrics;
import io.kafkascenarios.opentelemetry.TraceContextHeaders;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;

/**
 * What observability costs the telemetry caller, with the ring alone (the flusher drops records, as in
 * {@link RingOfferBenchmark}): {@code offer} with nothing set, with a {@link CallerHeaders} that adds
 * one constant header, with {@link TraceContextHeaders} writing the current span's W3C
 * {@code traceparent}, and with {@link RingProducerMetrics} bound to a registry that a thread scrapes
 * every 10 ms. Each variant has its own producer (only the one measured exists in its fork). Run with
 * {@code -prof gc} for the caller's allocation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CallerHooksBenchmark {
    private static final byte[] KEY = "key-000001".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VALUE = new byte[100];

    private static RingProducer.Builder ring() {
        return RingProducer.builder(Map.of()).ringSize(16384).listener(new RingProducerListener() { })
                .producerFactory(RingOfferBenchmark.NoOpProducer::new);
    }

    /** No hook: the baseline. */
    @State(Scope.Benchmark)
    public static class Plain {
        RingProducer producer;

        @Setup(Level.Trial)
        public void setUp() {
            producer = ring().build();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** A hook that adds one constant header (allocates nothing). */
    @State(Scope.Benchmark)
    public static class ConstantHeader {
        private static final byte[] TENANT = "tenant-7".getBytes(StandardCharsets.US_ASCII);
        RingProducer producer;

        @Setup(Level.Trial)
        public void setUp() {
            producer = ring().callerHeaders((topic, h) -> h.add("tenant", TENANT)).build();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** OpenTelemetry's current span written as traceparent; the span is current on the measuring thread. */
    @State(Scope.Thread)
    public static class Traced {
        RingProducer producer;
        private io.opentelemetry.context.Scope scope;

        @Setup(Level.Trial)
        public void setUp() {
            producer = ring().callerHeaders(new TraceContextHeaders()).build();
            SpanContext ctx = SpanContext.create("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
                    TraceFlags.getSampled(), TraceState.getDefault());
            scope = Span.wrap(ctx).makeCurrent(); // JMH runs this setup on the thread it measures
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            scope.close();
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** The Micrometer binder bound, and a thread scraping the registry every 10 ms. */
    @State(Scope.Benchmark)
    public static class Metered {
        RingProducer producer;
        private Thread scraper;

        @Setup(Level.Trial)
        public void setUp() {
            producer = ring().build();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            new RingProducerMetrics(producer, Tags.of("service", "bench")).bindTo(registry);
            scraper = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    registry.getMeters().forEach(m -> m.measure().forEach(x -> { }));
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "bench-scraper");
            scraper.setDaemon(true);
            scraper.start();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            scraper.interrupt();
            scraper.join();
            producer.close(Duration.ofSeconds(5));
        }
    }

    @Benchmark
    @Threads(1)
    public boolean offerPlain(Plain s, CallerAllocation allocation) {
        return allocation.accepted(s.producer.offer("telemetry", KEY, VALUE));
    }

    @Benchmark
    @Threads(1)
    public boolean offerWithConstantHeader(ConstantHeader s, CallerAllocation allocation) {
        return allocation.accepted(s.producer.offer("telemetry", KEY, VALUE));
    }

    @Benchmark
    @Threads(1)
    public boolean offerWithTraceparent(Traced s, CallerAllocation allocation) {
        return allocation.accepted(s.producer.offer("telemetry", KEY, VALUE));
    }

    @Benchmark
    @Threads(1)
    public boolean offerWithMetricsScraped(Metered s, CallerAllocation allocation) {
        return allocation.accepted(s.producer.offer("telemetry", KEY, VALUE));
    }
}
