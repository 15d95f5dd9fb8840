package io.kafkascenarios.jmh;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.stream.Ordering;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;

/**
 * One run of this library's {@link StreamProcessor} for the ordering comparison
 * ({@link OrderingComparison}), in its own JVM: consume the input topic under a fresh group, do the
 * per-record work, produce each record unchanged, and print how long it took until every input
 * record's output was acknowledged. The Parallel Consumer side ({@code io.kafkascenarios.jmh.pc.PcRun},
 * module {@code kafka-scenarios-jmh/parallel-consumer}) takes the same arguments, builds the same
 * client settings and does the same work per record ({@link #workMillis}).
 *
 * <pre>
 * usage: OrderingRun bootstrap inTopic outTopic group PARTITION|KEY|UNORDERED maxConcurrency records sleep|identity
 * prints: RESULT millis=&lt;wall time&gt; firstMillis=&lt;to the first acknowledgement&gt; processed=&lt;records&gt;
 *         workMillis=&lt;planned sleep in all&gt;, or FAILED processed=&lt;records&gt; of &lt;records&gt; ...
 * </pre>
 *
 * <p>Threads: main starts the processor and waits; the processor's threads run the work.
 */
public final class OrderingRun {
    private OrderingRun() {
    }

    /**
     * The work for a record in the {@code sleep} workload: a pseudo-random 0-5 ms seeded by the offset
     * alone. Identical to {@code PcRun.workMillis}, which the suite checks: both sides report the
     * planned sleep in all, and the suite refuses a comparison where they differ.
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
        Ordering ordering = Ordering.valueOf(args[4]);
        int concurrency = Integer.parseInt(args[5]);
        long records = Long.parseLong(args[6]);
        boolean sleep = args[7].equals("sleep");

        Map<String, Object> c = BenchCluster.consumerConfig(bootstrap, group);
        Map<String, Object> p = BenchCluster.producerConfig(bootstrap);
        // linger.ms=0 on both sides: Parallel Consumer waits for each output's acknowledgement on its
        // worker, so any linger is paid per record there; 0 is its best case (and kafka-clients 3.9's default).
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.remove(ProducerConfig.BATCH_SIZE_CONFIG); // Kafka's default on both sides, as measured

        AtomicLong work = new AtomicLong();
        long start = System.nanoTime();
        try (RingProducer producer = RingProducer.builder(p).build()) {
            StreamProcessor processor = StreamProcessor.builder(c, producer)
                    .topics(in)
                    .ordering(ordering)
                    .maxConcurrency(concurrency)
                    .recordHandler(r -> {
                        if (sleep) {
                            long ms = workMillis(r.offset());
                            work.addAndGet(ms);
                            Thread.sleep(ms);
                        }
                        return List.of(new ProducerRecord<>(out, r.key(), r.value()));
                    })
                    .start();
            long deadline = start + TimeUnit.MINUTES.toNanos(3);
            long first = 0;
            ProcessorHealth h;
            while ((h = processor.health()).processed() < records) { // processed: outputs acknowledged
                if (first == 0 && h.processed() > 0) {
                    first = System.nanoTime();
                }
                if (System.nanoTime() - deadline > 0 || h.state() != ProcessorHealth.State.RUNNING) {
                    System.out.println("FAILED processed=" + h.processed() + " of " + records
                            + " firstMillis=" + TimeUnit.NANOSECONDS.toMillis(first - start)
                            + (h.state() != ProcessorHealth.State.RUNNING ? " (the processor stopped: " + h + ")" : " in 3 minutes"));
                    System.exit(1);
                }
                Thread.sleep(1);
            }
            if (first == 0) {
                first = System.nanoTime();
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            processor.close(Duration.ofSeconds(30)); // commits what is done
            System.out.println("RESULT millis=" + millis + " firstMillis=" + TimeUnit.NANOSECONDS.toMillis(first - start)
                    + " processed=" + processor.health().processed()
                    + " workMillis=" + work.get());
        }
        System.exit(0);
    }
}
