package io.kafkascenarios.jmh.pc;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelStreamProcessor;

/**
 * One run of Confluent's Parallel Consumer for the benchmark suite's ordering comparison, in its own
 * JVM on kafka-clients 3.9.1: consume the input topic under a fresh group, do the per-record work, produce
 * each record unchanged, and print how long it took until every input record's output was acknowledged.
 * The kafka-scenarios side ({@code io.kafkascenarios.jmh.OrderingRun}) takes the same arguments, builds
 * the same client settings and does the same work per record ({@link #workMillis}).
 *
 * <pre>
 * usage: PcRun bootstrap inTopic outTopic group PARTITION|KEY|UNORDERED maxConcurrency records sleep|identity
 * prints: RESULT millis=&lt;wall time&gt; firstMillis=&lt;to the first acknowledgement&gt; processed=&lt;records&gt;
 *         workMillis=&lt;planned sleep in all&gt;, or FAILED processed=&lt;records&gt; of &lt;records&gt; ...
 * </pre>
 *
 * <p>Threads: main starts the processor and waits; Parallel Consumer's threads run the work and the callbacks.
 */
public final class PcRun {
    private PcRun() {
    }

    /**
     * The work for a record in the {@code sleep} workload: a pseudo-random 0-5 ms, seeded by the offset
     * alone, so both sides sleep the same per record. Kept identical to {@code OrderingRun.workMillis}.
     *
     * @param offset the record's offset
     * @return milliseconds to sleep
     */
    static long workMillis(long offset) {
        long z = offset + 0x9E3779B97F4A7C15L; // splitmix64
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return Math.floorMod(z, 6);
    }

    /**
     * @param args see the class documentation
     * @throws Exception if the run fails or does not finish in time
     */
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String in = args[1];
        String out = args[2];
        String group = args[3];
        ParallelConsumerOptions.ProcessingOrder order = ParallelConsumerOptions.ProcessingOrder.valueOf(args[4]);
        int concurrency = Integer.parseInt(args[5]);
        long records = Long.parseLong(args[6]);
        boolean sleep = args[7].equals("sleep");

        // The same settings as io.kafkascenarios.jmh.BenchCluster's (not on this class path), with
        // linger.ms=0 and Kafka's default batch.size, as OrderingRun.
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // linger.ms=0 on both sides: Parallel Consumer waits for each output's acknowledgement on its
        // worker, so any linger is paid per record there; 0 is its best case (and kafka-clients 3.9's default).
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);

        LongAdder acked = new LongAdder();
        AtomicLong firstAckNanos = new AtomicLong();
        AtomicLong work = new AtomicLong();
        long start = System.nanoTime();
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        ParallelStreamProcessor<byte[], byte[]> pc = ParallelStreamProcessor.createEosStreamProcessor(
                ParallelConsumerOptions.<byte[], byte[]>builder()
                        .ordering(order)
                        .maxConcurrency(concurrency)
                        .commitMode(ParallelConsumerOptions.CommitMode.PERIODIC_CONSUMER_ASYNCHRONOUS)
                        .consumer(consumer)
                        .producer(producer)
                        .build());
        pc.subscribe(List.of(in));
        pc.pollAndProduce(ctx -> {
            if (sleep) {
                long ms = workMillis(ctx.offset());
                work.addAndGet(ms);
                try {
                    Thread.sleep(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            return new ProducerRecord<>(out, ctx.key(), ctx.value());
        }, result -> { // called once the output is acknowledged
            firstAckNanos.compareAndSet(0, System.nanoTime());
            acked.increment();
        });
        long deadline = start + TimeUnit.MINUTES.toNanos(3);
        while (acked.sum() < records) {
            if (System.nanoTime() - deadline > 0 || pc.isClosedOrFailed()) {
                System.out.println("FAILED processed=" + acked.sum() + " of " + records
                        + " firstMillis=" + TimeUnit.NANOSECONDS.toMillis(firstAckNanos.get() - start)
                        + (pc.isClosedOrFailed() ? " (the processor stopped)" : " in 3 minutes"));
                System.exit(1);
            }
            Thread.sleep(1);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        pc.closeDrainFirst(Duration.ofSeconds(30)); // commits what is done
        System.out.println("RESULT millis=" + millis + " firstMillis=" + TimeUnit.NANOSECONDS.toMillis(firstAckNanos.get() - start)
                + " processed=" + acked.sum() + " workMillis=" + work.get());
        System.exit(0);
    }
}
