/**
 * The stream processor: consume, handle per partition in order, produce through a
 * {@link io.kafkascenarios.RingProducer}, and commit an input offset only once its outputs are
 * acknowledged. Start at {@link io.kafkascenarios.stream.StreamProcessor}.
 */
package io.kafkascenarios.stream;
