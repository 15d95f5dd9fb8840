/**
 * kafka-scenarios: telemetry ({@link io.kafkascenarios.RingProducer#offer}) and request-reply
 * ({@link io.kafkascenarios.RingProducer#send}) over one producer: a pre-allocated LMAX Disruptor ring
 * that callers publish to without allocating, drained by one flusher thread into a
 * {@code KafkaProducer<byte[], byte[]>}.
 *
 * <p>Everything public is here; {@code io.kafkascenarios.internal} is not API and may change in any
 * release.
 */
package io.kafkascenarios;
