package io.kafkascenarios.opentelemetry;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

import io.kafkascenarios.CallerHeaders;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;

/**
 * Writes the caller's current OpenTelemetry context ({@code Context.current()} on the thread that
 * calls {@code offer}/{@code send}/{@code sendAll}) into each record's headers: by default the W3C
 * {@code traceparent} (and {@code tracestate} when there is one). The record then names the caller's
 * span as its parent, although {@code KafkaProducer.send} runs later on the flusher thread, where
 * OpenTelemetry's own Kafka instrumentation would see no context. A record sent with no span current
 * gets no header.
 *
 * <pre>{@code
 * RingProducer producer = RingProducer.builder(config)
 *         .callerHeaders(new TraceContextHeaders())      // or new TraceContextHeaders(openTelemetry.getPropagators().getTextMapPropagator())
 *         .build();
 * }</pre>
 *
 * <p>Threads: the caller's, inside each publishing call (see {@link CallerHeaders}). It allocates a
 * little per record (the propagator's strings), so a caller that counts bytes leaves it unset.
 */
public final class TraceContextHeaders implements CallerHeaders {
    private static final TextMapSetter<Writer> SETTER =
            (headers, key, value) -> headers.add(key, value.getBytes(StandardCharsets.UTF_8));
    private final TextMapPropagator propagator;

    /** With the W3C trace-context propagator. */
    public TraceContextHeaders() {
        this(W3CTraceContextPropagator.getInstance());
    }

    /** @param propagator writes the context's headers, e.g. {@code openTelemetry.getPropagators().getTextMapPropagator()} */
    public TraceContextHeaders(TextMapPropagator propagator) {
        this.propagator = Objects.requireNonNull(propagator, "propagator");
    }

    @Override
    public void addTo(String topic, Writer headers) {
        propagator.inject(Context.current(), headers, SETTER);
    }
}
