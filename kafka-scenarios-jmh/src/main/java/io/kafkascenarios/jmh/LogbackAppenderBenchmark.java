package io.kafkascenarios.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import io.kafkascenarios.testkit.KafkaCluster;

/**
 * Logging to Kafka, per call on the logging thread: this library's {@code KafkaAppender} against
 * logback-kafka-appender 0.2.0-RC2 (archived upstream, the one people use) plain, and inside
 * Logback's {@code AsyncAppender} with {@code neverBlock} (its defaults otherwise: a queue of 256).
 * One thread logs a 100-character message through a {@code %msg} pattern, flat out, to the same
 * broker with the same producer settings ({@link BenchCluster#producerConfig}); each appender runs in
 * its own fork. Percentiles from JMH's SampleTime; {@code callerBytes} is the logging thread's own
 * allocation (Logback's event included, the same on every side).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LogbackAppenderBenchmark {
    /** Which appender this fork measures. */
    @Param({"kafka-scenarios", "logback-kafka-appender", "logback-kafka-appender-async"})
    public String appender;

    private static final String MESSAGE = "x".repeat(100);
    private KafkaCluster cluster;
    private LoggerContext context;
    private Logger logger;
    private Appender<ILoggingEvent> top;
    private String topic;
    private long logged;

    @Setup(Level.Trial)
    public void setUp() {
        cluster = BenchCluster.start();
        topic = "logbackappenderbenchmark-" + appender + "-" + System.nanoTime();
        cluster.createTopic(topic, 3, BenchCluster.TOPIC_CONFIG);
        context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        top = LogbackSides.create(appender, context, topic, BenchCluster.producerConfig(cluster.bootstrapServers())).top();
        logger = context.getLogger("bench");
        logger.setAdditive(false);
        logger.addAppender(top);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        top.stop();
        context.stop();
        // Flat out, an appender that drops most events is cheap per call: say how many went to Kafka.
        long stored = EndOffsets.sum(cluster.bootstrapServers(), topic);
        System.out.printf("%n%s: %,d events logged, %,d in the topic (%.1f %%)%n", appender, logged, stored, 100.0 * stored / logged);
        cluster.close();
    }

    @Benchmark
    @Threads(1)
    public void log(CallerAllocation allocation) {
        logger.info(MESSAGE);
        logged++;
        allocation.op();
    }
}
