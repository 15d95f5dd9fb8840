/**
 * Request→reply over Kafka: a {@link io.kafkascenarios.reply.RequestReplyClient} sends a request
 * through a {@link io.kafkascenarios.RingProducer} and completes its future with the correlated reply
 * read by an assigned consumer; {@link io.kafkascenarios.reply.ReplyHeaders} names the headers and
 * builds a reply on the replier's side (a {@link io.kafkascenarios.stream.StreamProcessor} handler).
 */
package io.kafkascenarios.reply;
