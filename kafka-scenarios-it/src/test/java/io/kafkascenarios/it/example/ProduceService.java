package io.kafkascenarios.it.example;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.apache.kafka.clients.producer.RecordMetadata;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.SendTimeoutException;

/**
 * The request-reply example: an HTTP service on the JDK's {@code HttpServer} whose handler produces the
 * request body to Kafka and answers with the outcome. The request shares the record's fate: 200 with
 * {@code partition/offset} once the broker acknowledged it; 503 with the reason when it failed, or its
 * deadline passed before Kafka had it (withdrawn: nothing was written, a retry is safe); 504 when the
 * deadline passed while Kafka had it (it may still be written). The service itself never crashes or
 * hangs on a Kafka failure. The header
 * {@code X-Kafka-Nanos} says how long the handler waited for Kafka.
 *
 * <p>Threads: the server's request threads call {@link RingProducer#send} and wait on the future.
 */
public final class ProduceService implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService requestThreads;

    /**
     * @param producer the shared producer (owned by the caller)
     * @param topic where request bodies go
     * @param deadline how long a request may wait for Kafka
     * @throws IOException if the port cannot be bound
     */
    public ProduceService(RingProducer producer, String topic, Duration deadline) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        requestThreads = Executors.newFixedThreadPool(32);
        server.setExecutor(requestThreads);
        server.createContext("/events", exchange -> {
            try (exchange) {
                byte[] body = readBody(exchange);
                String key = exchange.getRequestHeaders().getFirst("X-Key");
                long start = System.nanoTime();
                try {
                    RecordMetadata md = producer.send(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                            body, deadline).get();
                    exchange.getResponseHeaders().add("X-Kafka-Nanos", Long.toString(System.nanoTime() - start));
                    respond(exchange, 200, md.partition() + "/" + md.offset());
                } catch (ExecutionException e) {
                    // Kafka failed the record or its deadline passed: fail this request, keep serving.
                    // 503: nothing was written, a retry is safe; 504: the record may still be written.
                    exchange.getResponseHeaders().add("X-Kafka-Nanos", Long.toString(System.nanoTime() - start));
                    boolean mayBeWritten = e.getCause() instanceof SendTimeoutException t && t.mayBeWritten();
                    respond(exchange, mayBeWritten ? 504 : 503, e.getCause().toString());
                } catch (IllegalArgumentException | IllegalStateException e) {
                    respond(exchange, e instanceof IllegalArgumentException ? 400 : 503, e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    respond(exchange, 503, "interrupted");
                } catch (RuntimeException e) {
                    respond(exchange, 500, e.toString()); // never leave a request without an answer
                }
            }
        });
        server.start();
    }

    /** @return the base URI, e.g. {@code http://127.0.0.1:41234} */
    public String uri() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static byte[] readBody(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            return in.readAllBytes();
        }
    }

    private static void respond(HttpExchange exchange, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        requestThreads.shutdownNow();
    }
}
