package io.kafkascenarios;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What a readiness or liveness probe needs of a {@link RingProducer}, cheap to take (no lock, no I/O;
 * it reads counters, the ring's cursor and Kafka's own connection-count metric).
 *
 * <ul>
 *   <li><b>Liveness</b>: {@code !closed()}. The producer never dies on its own: a fatal Kafka error
 *       replaces the KafkaProducer, and failures are reported, not thrown.</li>
 *   <li><b>Readiness</b>: {@code connections() != 0 && ringSaturation() < 0.9} (your thresholds):
 *       connected to a broker, and the ring not so full that offers are about to be discarded or to
 *       block. {@code lastDelivery()} tells how long ago the broker last acknowledged a record: with
 *       records pending and no delivery for longer than Kafka's {@code delivery.timeout.ms}, Kafka is
 *       not taking them.</li>
 * </ul>
 *
 * @param closed whether {@code close} was called
 * @param connections connections the current KafkaProducer has open to brokers, -1 if unknown (a
 *                    {@code producerFactory}'s producer without Kafka's metrics)
 * @param ringSaturation the share of ring slots in use, 0 to 1
 * @param pending records offered and not yet delivered, discarded or failed
 * @param lastDelivery when the broker last acknowledged a record, empty before the first
 */
public record ProducerHealth(boolean closed, int connections, double ringSaturation, long pending,
                             Optional<Instant> lastDelivery) {
    /**
     * @param now the current time
     * @return how long ago the last record was acknowledged, empty before the first
     */
    public Optional<Duration> sinceLastDelivery(Instant now) {
        return lastDelivery.map(t -> Duration.between(t, now));
    }
}
