package io.kafkascenarios.opentelemetry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;
import io.kafkascenarios.stream.RecordHandler;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;

/**
 * The caller's span crosses the ring's hand-off as a W3C {@code traceparent}, and a traced stream
 * handler runs in its input's context and passes it on to its outputs.
 */
class TraceContextHeadersTest {
    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final SdkTracerProvider tracing = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
    private final Tracer tracer = tracing.get("test");
    private final MockProducer<byte[], byte[]> kafka = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private RingProducer producer;

    @AfterEach
    void tearDown() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        tracing.close();
    }

    @Test
    void aSpanCurrentOnTheCallersThreadIsTheParentTheRecordNames() {
        producer = RingProducer.builder(Map.of()).listener(new RingProducerListener() { })
                .callerHeaders(new TraceContextHeaders()).producerFactory(() -> kafka).build();
        Span span = tracer.spanBuilder("handle request").startSpan();
        try (Scope ignored = span.makeCurrent()) {
            producer.offer("audit", null, new byte[1]);
        } finally {
            span.end();
        }
        producer.offer("audit", null, new byte[1]); // no span current: no header
        assertThat(producer.flush(Duration.ofSeconds(20))).isTrue();
        List<ProducerRecord<byte[], byte[]>> sent = kafka.history();
        assertThat(sent).hasSize(2);
        String expected = "00-" + span.getSpanContext().getTraceId() + "-" + span.getSpanContext().getSpanId() + "-"
                + span.getSpanContext().getTraceFlags().asHex();
        assertThat(new String(sent.get(0).headers().lastHeader("traceparent").value(), UTF_8)).isEqualTo(expected);
        assertThat(sent.get(1).headers().lastHeader("traceparent")).isNull();
    }

    @Test
    void aTracedHandlerRunsInItsInputsContextAndPassesItToItsOutputs() throws Exception {
        Span upstream = tracer.spanBuilder("upstream").startSpan();
        upstream.end();
        ConsumerRecord<byte[], byte[]> input = new ConsumerRecord<>("orders", 0, 7, null, new byte[1]);
        input.headers().add("traceparent", ("00-" + upstream.getSpanContext().getTraceId() + "-"
                + upstream.getSpanContext().getSpanId() + "-01").getBytes(UTF_8));
        RecordHandler handler = TracingHandlers.propagating(r -> {
            tracer.spanBuilder("enrich").startSpan().end(); // a span the handler starts
            return List.of(new ProducerRecord<>("enriched", r.value()));
        });
        List<ProducerRecord<byte[], byte[]>> outputs = handler.handle(input);
        SpanData enrich = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("enrich")).findFirst().orElseThrow();
        assertThat(enrich.getParentSpanId()).as("the handler's span is a child of the input's").isEqualTo(upstream.getSpanContext().getSpanId());
        assertThat(enrich.getTraceId()).isEqualTo(upstream.getSpanContext().getTraceId());
        Header out = outputs.get(0).headers().lastHeader("traceparent");
        assertThat(new String(out.value(), UTF_8)).contains(upstream.getSpanContext().getTraceId());
    }
}
