package io.kafkascenarios.internal.stream;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import java.util.regex.Pattern;

import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.BatchHandler;
import io.kafkascenarios.stream.FailurePolicy;

/**
 * A stream processor's settings, checked by its builder. Immutable.
 *
 * @param consumerConfig the consumer's configuration, already completed and checked
 * @param outputs where outputs and dead letters go
 * @param topics the topics, or null when {@code pattern} is set
 * @param pattern the topic pattern, or null
 * @param handler the handler, adapted to the batch form
 * @param retries retries after the first attempt
 * @param backoff wait between attempts
 * @param policy what to do once retries are spent
 * @param deadLetterTopic where {@link FailurePolicy#DEAD_LETTER} sends records, or null
 * @param nonRetryable failures that go straight to the policy
 * @param workerThreads handler threads
 * @param maxBatch most records per handler call
 * @param maxQueued records queued per partition before it is paused
 * @param maxInFlightBatches batches per partition whose outputs may await acknowledgement at once
 * @param commitInterval how often completed offsets are committed
 * @param pollTimeout the consumer's poll timeout
 * @param revokeTimeout how long a revoke waits for in-flight work
 * @param outputTimeout how long a batch's outputs may take to be acknowledged
 * @param threadFactory makes the poll thread and the worker threads
 * @param name for thread names and logs
 */
public record StreamSettings(Map<String, Object> consumerConfig, Outputs outputs, List<String> topics,
                             Pattern pattern, BatchHandler handler, int retries, Backoff backoff,
                             FailurePolicy policy, String deadLetterTopic,
                             Set<Class<? extends Throwable>> nonRetryable, int workerThreads, int maxBatch,
                             int maxQueued, int maxInFlightBatches, Duration commitInterval, Duration pollTimeout,
                             Duration revokeTimeout, Duration outputTimeout, ThreadFactory threadFactory,
                             String name) {
    /**
     * @param failure a handler's failure (unwrapped)
     * @return true if retrying cannot fix it
     */
    public boolean isNonRetryable(Throwable failure) {
        for (Class<? extends Throwable> c : nonRetryable) {
            if (c.isInstance(failure)) {
                return true;
            }
        }
        return false;
    }
}
