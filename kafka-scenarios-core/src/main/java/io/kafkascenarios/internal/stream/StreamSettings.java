package io.kafkascenarios.internal.stream;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;

import io.kafkascenarios.KafkaClientListener;
import io.kafkascenarios.stream.Backoff;
import io.kafkascenarios.stream.BatchHandler;
import io.kafkascenarios.stream.FailurePolicy;
import io.kafkascenarios.stream.Ordering;

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
 * @param ordering which records of a partition may be handled at once
 * @param maxConcurrency handler calls at once across the processor (the worker threads when
 *                       {@code executor} is null)
 * @param executor runs handler calls (and, ordered by partition, partition turns); null for the
 *                 processor's own pool of {@code maxConcurrency} threads
 * @param maxBatch most records per handler call
 * @param maxQueued records fetched and not done per partition before it is paused
 * @param maxQueuedTotal records fetched and not done across the processor before partitions are paused
 * @param maxInFlightBatches batches per partition whose outputs may await acknowledgement at once
 * @param commitInterval how often completed offsets are committed
 * @param pollTimeout the consumer's poll timeout
 * @param revokeTimeout how long a revoke waits for in-flight work
 * @param outputTimeout how long a batch's outputs may take to be acknowledged
 * @param stallTimeout how long a partition may hold records without progress before health shows it stalled
 * @param threadFactory makes the poll thread and the worker threads
 * @param name for thread names and logs
 * @param clientListener told when the consumer is created and closed, or null
 * @param rebalanceListener the user's, called after the processor's own handling, or null
 */
public record StreamSettings(Map<String, Object> consumerConfig, Outputs outputs, List<String> topics,
                             Pattern pattern, BatchHandler handler, int retries, Backoff backoff,
                             FailurePolicy policy, String deadLetterTopic,
                             Set<Class<? extends Throwable>> nonRetryable, Ordering ordering, int maxConcurrency,
                             Executor executor, int maxBatch, int maxQueued, int maxQueuedTotal,
                             int maxInFlightBatches, Duration commitInterval, Duration pollTimeout,
                             Duration revokeTimeout, Duration outputTimeout, Duration stallTimeout,
                             ThreadFactory threadFactory, String name, KafkaClientListener clientListener,
                             ConsumerRebalanceListener rebalanceListener) {
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
