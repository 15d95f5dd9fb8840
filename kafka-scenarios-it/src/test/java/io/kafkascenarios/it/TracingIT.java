package io.kafkascenarios.it;

import static io.kafkascenarios.it.StreamFixture.consumerConfig;
import static io.kafkascenarios.it.StreamFixture.group;
import static io.kafkascenarios.it.StreamFixture.producerConfig;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.opentelemetry.TraceContextHeaders;
import io.kafkascenarios.opentelemetry.TracingHandlers;
import io.kafkascenarios.stream.StreamProcessor;
import io.kafkascenarios.testkit.KafkaClusterExtension;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;

/**
 * A trace across the ring's hand-off, against a real broker: the span current on the caller's thread
 * is the parent the stored record names (its {@code traceparent}), and a stream processor with a
 * traced handler runs in that context and passes it on to its outputs.
 */
class TracingIT {
    @RegisterExtension
    static final KafkaClusterExtension KAFKA = KafkaClusterExtension.inProcess();

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final SdkTracerProvider tracing = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
    private final Tracer tracer = tracing.get("tracing-it");

    private static String bootstrap() {
        return KAFKA.cluster().bootstrapServers();
    }

    @AfterEach
    void tearDown() {
        tracing.close();
    }

    @Test
    void theCallersSpanIsTheParentNamedInTheStoredRecordAndFollowsItThroughAProcessor() throws Exception {
        String in = KafkaClusterExtension.uniqueTopic("tracing-in");
        String out = in + "-out";
        KAFKA.cluster().createTopic(in, 1);
        KAFKA.cluster().createTopic(out, 1);
        SpanContext request;
        try (RingProducer producer = RingProducer.builder(producerConfig(bootstrap()))
                .callerHeaders(new TraceContextHeaders()).build()) {
            Span span = tracer.spanBuilder("POST /orders").startSpan();
            request = span.getSpanContext();
            try (Scope ignored = span.makeCurrent()) {
                producer.send(in, "k".getBytes(UTF_8), "order-1".getBytes(UTF_8)).get(30, TimeUnit.SECONDS); // request-reply
                producer.offer(in, "k".getBytes(UTF_8), "order-2".getBytes(UTF_8));                        // telemetry
            } finally {
                span.end();
            }
            assertThat(producer.flush(Duration.ofSeconds(30))).isTrue();

            List<ConsumerRecord<byte[], byte[]>> stored = ReadBack.all(bootstrap(), in);
            assertThat(stored).hasSize(2).allSatisfy(r -> assertThat(traceparent(r))
                    .isEqualTo("00-" + request.getTraceId() + "-" + request.getSpanId() + "-" + request.getTraceFlags().asHex()));

            StreamProcessor p = StreamProcessor.builder(consumerConfig(bootstrap(), group("tracing")), producer)
                    .topics(in)
                    .recordHandler(TracingHandlers.propagating(r -> {
                        tracer.spanBuilder("enrich").startSpan().end();
                        return List.of(new ProducerRecord<>(out, r.key(), r.value()));
                    }))
                    .start();
            await().atMost(Duration.ofSeconds(60)).until(() -> p.health().processed() >= 2);
            assertThat(p.close(Duration.ofSeconds(10))).isTrue();
        }
        List<SpanData> enrich = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("enrich")).toList();
        assertThat(enrich).hasSize(2).allSatisfy(s -> {
            assertThat(s.getTraceId()).isEqualTo(request.getTraceId());
            assertThat(s.getParentSpanId()).as("the handler's span is a child of the request's").isEqualTo(request.getSpanId());
        });
        assertThat(ReadBack.all(bootstrap(), out)).hasSize(2)
                .allSatisfy(r -> assertThat(traceparent(r)).contains(request.getTraceId()));
    }

    private static String traceparent(ConsumerRecord<byte[], byte[]> r) {
        Header h = r.headers().lastHeader("traceparent");
        return h == null ? null : new String(h.value(), UTF_8);
    }
}
