package io.kafkascenarios.reply;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reply topic's reader: one thread that owns a {@link KafkaConsumer} assigned (never subscribed:
 * no group, no rebalance, no commits) to the reply partitions, positioned at their end before it says
 * it is ready, so that no reply to a request sent after that can be missed. Each record goes to the
 * handler on this thread.
 *
 * <p>Threads: {@link #start}, {@link #awaitReady} and {@link #close} from the client's callers; the
 * rest on the consumer thread.
 */
final class ReplyConsumer {
    private static final Logger LOG = LoggerFactory.getLogger(ReplyConsumer.class);
    private static final Duration POLL = Duration.ofMillis(100);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final int partition;
    private final Consumer<ConsumerRecord<byte[], byte[]>> handler;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean closing;
    /** Why the thread stopped on its own, or null. */
    private volatile Throwable failure;

    /**
     * @param config the consumer's settings; {@code bootstrap.servers} at least
     * @param topic the reply topic
     * @param partition the one partition to read, or -1 for all of them
     * @param handler what to do with each reply, on this thread; it must not block
     * @param name for the thread's name and the consumer's {@code client.id}
     */
    ReplyConsumer(Map<String, Object> config, String topic, int partition, Consumer<ConsumerRecord<byte[], byte[]>> handler,
                  String name) {
        Map<String, Object> c = new HashMap<>(config);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false); // assigned, positioned at the end: nothing to commit
        c.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, name);
        this.consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.partition = partition;
        this.handler = handler;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    boolean isReady() {
        return ready.getCount() == 0 && failure == null;
    }

    /** @return why the consumer stopped on its own, or null while it runs */
    Throwable failure() {
        return failure;
    }

    /** @return true once ready; false at once when the consumer stopped on its own, else at the timeout */
    boolean awaitReady(Duration timeout) throws InterruptedException {
        return ready.await(timeout.toNanos(), TimeUnit.NANOSECONDS) && failure == null;
    }

    private void run() {
        try {
            List<TopicPartition> partitions = assignAndPosition();
            if (partitions == null) {
                return;
            }
            ready.countDown();
            LOG.info("reading replies from {} from their end", partitions);
            while (!closing) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    handler.accept(r);
                }
            }
        } catch (WakeupException closed) {
            // close() woke it up
        } catch (RuntimeException | Error e) {
            if (!closing) {
                failure = e; // no longer ready: new requests are refused with this cause
                ready.countDown(); // a waiter in awaitReady learns it now, not at its timeout
                LOG.error("the reply consumer of {} stopped: outstanding requests will time out, new ones are refused", topic, e);
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** @return the partitions, assigned and positioned at their end; null when closed first */
    private List<TopicPartition> assignAndPosition() {
        List<TopicPartition> partitions = new ArrayList<>();
        boolean warned = false;
        while (!closing) {
            if (partition >= 0) {
                partitions.add(new TopicPartition(topic, partition));
                break;
            }
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
            if (infos != null && !infos.isEmpty()) {
                for (PartitionInfo p : infos) {
                    partitions.add(new TopicPartition(topic, p.partition()));
                }
                break;
            }
            if (!warned) {
                LOG.warn("the reply topic {} is not known to the cluster yet: the client is not ready", topic);
                warned = true;
            }
        }
        if (closing) {
            return null;
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        for (TopicPartition tp : partitions) {
            // The end is resolved lazily: ask for the position now, or a reply written before the
            // first poll would be skipped (the pitfall of auto.offset.reset=latest).
            while (!closing) {
                try {
                    consumer.position(tp, Duration.ofSeconds(5));
                    break;
                } catch (org.apache.kafka.common.errors.TimeoutException notYet) {
                    LOG.debug("position of {} not resolved yet", tp);
                }
            }
        }
        return closing ? null : partitions;
    }

    /** Stops the thread within the timeout; the consumer closes on it. */
    void close(Duration timeout) {
        closing = true;
        consumer.wakeup();
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
