package io.kafkascenarios.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.kafkascenarios.RingProducer;
import io.kafkascenarios.stream.ProcessorHealth;
import io.kafkascenarios.stream.StreamProcessor;

/**
 * One stream-processor instance as {@link StreamProcessorFaultIT} runs it: in the test JVM, or alone in a
 * child JVM ({@link #main}) that the test SIGKILLs. Every instance of a test is built by {@link #start}, so
 * they all have the same settings.
 *
 * <p>The handler is the identity with a small sleep per batch: it keeps batches in flight most of the time
 * and makes a run last several seconds, so that a kill lands mid-stream.
 */
public final class ProcessorMain {
    /** Printed on stdout (followed by details) once the processor has completed records. */
    static final String RUNNING = "PROCESSOR-RUNNING";
    /** Printed on stdout every 100 ms while running, with per-partition completed/committed offsets. */
    static final String PROGRESS = "PROCESSOR-PROGRESS";
    /** Printed on stdout if the processor stops by itself (it then exits with code 1). */
    static final String STOPPED = "PROCESSOR-STOPPED";

    /** Most records per handler call: bounds what one in-flight batch can duplicate. */
    static final int MAX_BATCH = 25;
    /** The handler's sleep per batch: about 25 records per 40 ms and partition, ~500 records/s. */
    static final Duration BATCH_DELAY = Duration.ofMillis(40);
    /**
     * How often completed offsets are committed. After a SIGKILL, the records completed since the last
     * commit are processed again; at ~500 records/s per partition the default 1 s would mean ~500
     * duplicates per partition owned, so the fault tests commit every 100 ms.
     */
    static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);
    /** Low so that the group notices a SIGKILLed member quickly (the broker's minimum is 6000). */
    static final int SESSION_TIMEOUT_MS = 6000;
    static final int HEARTBEAT_INTERVAL_MS = 1000;

    private ProcessorMain() {
    }

    /** System property of a child JVM: the group protocol, {@code classic} (default) or {@code consumer}. */
    static final String PROTOCOL_PROPERTY = "ks.group.protocol";
    /** System property of a child JVM: the handler's sleep per batch in ms (default {@link #BATCH_DELAY}). */
    static final String BATCH_DELAY_PROPERTY = "ks.batch.delay.ms";

    /**
     * The consumer configuration of every instance: {@link StreamFixture#consumerConfig} plus short
     * sessions (classic protocol) and the group protocol of {@link #PROTOCOL_PROPERTY}.
     */
    static Map<String, Object> consumerConfig(String bootstrap, String group) {
        Map<String, Object> c = StreamFixture.consumerConfig(bootstrap, group);
        if ("consumer".equals(System.getProperty(PROTOCOL_PROPERTY))) {
            // Session timeout and heartbeats are the broker's (group.consumer.*) in this protocol.
            c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        } else {
            c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, SESSION_TIMEOUT_MS);
            c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, HEARTBEAT_INTERVAL_MS);
        }
        return c;
    }

    /**
     * Starts an identity processor from {@code in} to {@code out}.
     *
     * @param interrupted counts handler calls interrupted in their sleep (in-flight batches abandoned), or null
     */
    static StreamProcessor start(String bootstrap, String group, String in, String out, RingProducer producer,
                                 String name, AtomicLong interrupted) {
        return start(bootstrap, group, in, out, producer, name, interrupted, UnaryOperator.identity());
    }

    /**
     * Starts an identity processor with extra settings.
     *
     * @param tweak applied to the builder last
     */
    static StreamProcessor start(String bootstrap, String group, String in, String out, RingProducer producer,
                                 String name, AtomicLong interrupted, UnaryOperator<StreamProcessor.Builder> tweak) {
        return tweak.apply(StreamProcessor.builder(consumerConfig(bootstrap, group), producer)
                .topics(in)
                .name(name)
                .maxBatch(MAX_BATCH)
                .commitInterval(COMMIT_INTERVAL)
                .handler(records -> {
                    try {
                        Thread.sleep(Long.getLong(BATCH_DELAY_PROPERTY, BATCH_DELAY.toMillis()));
                    } catch (InterruptedException e) {
                        if (interrupted != null) {
                            interrupted.incrementAndGet();
                        }
                        throw e;
                    }
                    return StreamFixture.identityAll(out, records);
                }))
                .start();
    }

    /**
     * Runs one processor until killed.
     *
     * @param args {@code <bootstrap> <group> <in-topic> <out-topic>}
     * @throws InterruptedException never in practice
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 4) {
            System.err.println("usage: ProcessorMain <bootstrap> <group> <in-topic> <out-topic>");
            System.exit(64);
        }
        // No orphans: if the test JVM dies, so does this one.
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(3)));
        RingProducer producer = RingProducer.builder(StreamFixture.producerConfig(args[0])).build();
        StreamProcessor processor = start(args[0], args[1], args[2], args[3], producer, "child-" + ProcessHandle.current().pid(), null);
        boolean announced = false;
        long nextProgress = 0;
        while (true) {
            ProcessorHealth h = processor.health();
            if (h.state() != ProcessorHealth.State.RUNNING) {
                System.out.println(STOPPED + " " + h.state() + " " + h.failure().map(Throwable::toString).orElse(""));
                System.out.flush();
                System.exit(1);
            }
            String details = "processed=" + h.processed() + " partitions=" + partitions(h);
            if (!announced && h.processed() > 0) {
                System.out.println(RUNNING + " " + details);
                System.out.flush();
                announced = true;
            }
            long now = System.nanoTime();
            if (now - nextProgress >= 0) {
                System.out.println(PROGRESS + " " + details);
                System.out.flush();
                nextProgress = now + TimeUnit.MILLISECONDS.toNanos(100);
            }
            Thread.sleep(50);
        }
    }

    /** Partition number to completed/committed offsets, e.g. {@code {0=1200/1175, 1=1225/1200}}. */
    private static TreeMap<Integer, String> partitions(ProcessorHealth h) {
        TreeMap<Integer, String> ps = new TreeMap<>();
        h.partitions().forEach((tp, ph) -> ps.put(tp.partition(), ph.completed() + "/" + ph.committed()));
        return ps;
    }
}
