package io.kafkascenarios.opentelemetry;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import io.kafkascenarios.stream.RecordHandler;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;

/**
 * Stream handlers that carry the trace: the input record's context (read from its headers) is made
 * current around the handler, so spans the handler starts are its children, and the context current
 * when the handler returns is written into every output that has no such header yet, so the outputs
 * name the same trace. The stream processor sends outputs after the handler returned, on its own
 * thread: this is where the context must be captured.
 *
 * <pre>{@code
 * StreamProcessor.builder(consumerConfig, out)
 *         .recordHandler(TracingHandlers.propagating(r -> List.of(new ProducerRecord<>("out", r.key(), enrich(r.value())))))
 *         .start();
 * }</pre>
 *
 * <p>Threads: the returned handler runs where the processor calls it; it holds no state.
 */
public final class TracingHandlers {
    private static final TextMapGetter<Headers> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            for (Header h : headers) {
                keys.add(h.key());
            }
            return keys;
        }

        @Override
        public String get(Headers headers, String key) {
            Header h = headers == null ? null : headers.lastHeader(key);
            return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
        }
    };
    private static final TextMapSetter<Headers> SETTER = (headers, key, value) -> {
        if (headers.lastHeader(key) == null) {
            headers.add(key, value.getBytes(StandardCharsets.UTF_8));
        }
    };

    private TracingHandlers() {
    }

    /**
     * @param handler the handler
     * @return it, run in its input's context, passing the context on to its outputs (W3C trace context)
     */
    public static RecordHandler propagating(RecordHandler handler) {
        return propagating(handler, W3CTraceContextPropagator.getInstance());
    }

    /**
     * @param handler the handler
     * @param propagator reads the input's headers and writes the outputs'
     * @return it, run in its input's context, passing the context on to its outputs
     */
    public static RecordHandler propagating(RecordHandler handler, TextMapPropagator propagator) {
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(propagator, "propagator");
        return record -> {
            Context input = propagator.extract(Context.current(), record.headers(), GETTER);
            List<ProducerRecord<byte[], byte[]>> outputs;
            Context after;
            try (Scope ignored = input.makeCurrent()) {
                outputs = handler.handle(record);
                after = Context.current();
            }
            if (outputs != null) {
                for (ProducerRecord<byte[], byte[]> out : outputs) {
                    propagator.inject(after, out.headers(), SETTER);
                }
            }
            return outputs;
        };
    }
}
