package io.kafkascenarios.internal.stream;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Where a partition's outputs go: the processor's one need of the producer, with what became of the
 * hand-over as a typed outcome rather than an exception to catch. The public side adapts a
 * {@code RingProducer} to it, so nothing in here depends on the facade.
 *
 * <p>Threads: worker threads call {@link #sendAll}; it never blocks on Kafka.
 */
@FunctionalInterface
public interface Outputs {
    /**
     * @param records the outputs of one batch, in order
     * @param timeout the deadline for their acknowledgement
     * @return what became of them
     */
    Sent sendAll(List<ProducerRecord<byte[], byte[]>> records, Duration timeout);

    /**
     * Adapts a group send that signals with exceptions, as {@code RingProducer.sendAll} does:
     * {@link IllegalStateException} once closed, {@link IllegalArgumentException} or
     * {@link NullPointerException} for outputs it can never take.
     *
     * @param send the group send
     * @return the same send with typed outcomes
     */
    static Outputs adapting(BiFunction<List<ProducerRecord<byte[], byte[]>>, Duration, CompletableFuture<Void>> send) {
        return (records, timeout) -> {
            try {
                return new Accepted(send.apply(records, timeout));
            } catch (IllegalStateException closed) {
                return new Closed(closed);
            } catch (IllegalArgumentException | NullPointerException bad) {
                return new Refused(bad);
            }
        };
    }

    /** What became of a group of outputs handed over. */
    sealed interface Sent permits Accepted, Refused, Closed {
    }

    /**
     * Taken: the future completes when every record is acknowledged, or with the first failure.
     *
     * @param acked the group's acknowledgement
     */
    record Accepted(CompletableFuture<Void> acked) implements Sent {
    }

    /**
     * Refused for what they are (too large for a slot, a null topic...): the same outputs would be
     * refused again.
     *
     * @param why the producer's reason
     */
    record Refused(RuntimeException why) implements Sent {
    }

    /**
     * The producer is closed: nothing can be produced any more.
     *
     * @param why the producer's reason
     */
    record Closed(RuntimeException why) implements Sent {
    }
}
