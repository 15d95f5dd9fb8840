package io.kafkascenarios.reply;

/**
 * A snapshot of a {@link RequestReplyClient}'s counts. Every request accepted ends in exactly one of
 * answered, timed out or failed, or is still pending:
 * {@code requests() == answered() + timedOut() + failed() + pending()} once nothing moves.
 *
 * @param requests requests accepted (sent to the producer)
 * @param answered requests completed with their reply
 * @param timedOut requests failed by their deadline ({@code SendTimeoutException}: in the ring,
 *        awaiting the acknowledgement, or awaiting the reply)
 * @param failed requests whose send Kafka failed, or that the client's close failed
 * @param rejected requests refused at once: {@code maxPending} outstanding, or the client not ready
 * @param late replies to one of this client's requests that had already ended (its deadline passed)
 * @param foreign replies read from the reply topic that are not this client's: another client's
 *        correlation id, or none (counted, not logged)
 * @param pending requests outstanding now
 */
public record RequestReplyStats(long requests, long answered, long timedOut, long failed, long rejected, long late,
                                long foreign, int pending) {
}
