package io.kafkascenarios.jmh;

import static io.kafkascenarios.jmh.ResultTable.m;

import java.util.List;

/**
 * The catalogue: every scenario the suite runs, in the table's order, each with its JMH step (the
 * benchmark class by symbol, optionally one method) and the table rows it gives. Adding a benchmark
 * to the suite is adding a constant here; nothing else names it.
 *
 * <p>Thread: used on the suite's main thread.
 */
enum Scenario {
    TELEMETRY("telemetry", TelemetryVsKafkaBenchmark.class, null, true, true) {
        @Override
        void rows(ResultTable t) {
            String ring1 = m(TelemetryVsKafkaBenchmark.class, "ringOffer1Thread");
            String raw1 = m(TelemetryVsKafkaBenchmark.class, "rawSend1Thread");
            String ring4 = m(TelemetryVsKafkaBenchmark.class, "ringOffer4Threads");
            String raw4 = m(TelemetryVsKafkaBenchmark.class, "rawSend4Threads");
            t.timeRow("telemetry: caller cost per record, 1 thread, mean", ring1, raw1, null);
            t.timeRow("telemetry: caller cost per record, 1 thread, p50", ring1, raw1, "50.0");
            t.timeRow("telemetry: caller cost per record, 1 thread, p99", ring1, raw1, "99.0");
            t.timeRow("telemetry: caller cost per record, 1 thread, p99.9", ring1, raw1, "99.9");
            t.timeRow("telemetry: caller cost per record, 4 threads, mean", ring4, raw4, null);
            t.timeRow("telemetry: caller cost per record, 4 threads, p99.9", ring4, raw4, "99.9");
            t.acceptedRow("telemetry: offers the ring accepted (the rest were discarded), 1 thread", ring1);
            t.acceptedRow("telemetry: offers the ring accepted (the rest were discarded), 4 threads", ring4);
            t.allocationRow("telemetry: caller-thread allocation per record, 1 thread", ring1, raw1);
            t.allocationRow("telemetry: caller-thread allocation per record, 4 threads", ring4, raw4);
        }
    },
    TELEMETRY_PACED("telemetry-paced", PacedTelemetryBenchmark.class, null, false, true) {
        @Override
        void rows(ResultTable t) {
            String paced = m(PacedTelemetryBenchmark.class, "ringOfferPaced");
            String raw = m(PacedTelemetryBenchmark.class, "rawSendPaced");
            String who = "telemetry at a steady rate (one call per ~60 us), caller cost, ";
            t.timeRow(who + "mean", paced, raw, null);
            t.timeRow(who + "p50", paced, raw, "50.0");
            t.timeRow(who + "p99", paced, raw, "99.0");
            t.timeRow(who + "p99.9", paced, raw, "99.9");
            t.acceptedRow("telemetry at a steady rate: offers the ring accepted", paced);
            t.cpuRow("telemetry at a steady rate: client JVM CPU per record (all threads)", paced, raw);
        }
    },
    RING_ALONE("ring-alone", RingOfferBenchmark.class, null, true, true) {
        @Override
        void rows(ResultTable t) {
            String one = m(RingOfferBenchmark.class, "offer1Thread");
            t.timeRow("ring alone (no Kafka), offer, 1 thread, mean", one, null, null);
            t.timeRow("ring alone (no Kafka), offer, 4 threads, mean", m(RingOfferBenchmark.class, "offer4Threads"), null, null);
            t.allocationRow("ring alone (no Kafka), caller-thread allocation, 1 thread", one, null);
            t.acceptedRow("ring alone (no Kafka), offers accepted, 1 thread", one);
        }
    },
    CALLER_HOOKS("caller-hooks", CallerHooksBenchmark.class, null, true, true) {
        @Override
        void rows(ResultTable t) {
            String plain = m(CallerHooksBenchmark.class, "offerPlain");
            String who = "ring alone, offer, 1 thread, mean, ";
            t.timeRow(who + "a constant caller header (raw column: no hook)", m(CallerHooksBenchmark.class, "offerWithConstantHeader"), plain, null);
            t.timeRow(who + "OpenTelemetry traceparent (raw column: no hook)", m(CallerHooksBenchmark.class, "offerWithTraceparent"), plain, null);
            t.timeRow(who + "Micrometer bound, scraped every 10 ms (raw column: not bound)", m(CallerHooksBenchmark.class, "offerWithMetricsScraped"), plain, null);
            t.allocationRow("ring alone, caller allocation, a constant caller header", m(CallerHooksBenchmark.class, "offerWithConstantHeader"), plain);
            t.allocationRow("ring alone, caller allocation, OpenTelemetry traceparent", m(CallerHooksBenchmark.class, "offerWithTraceparent"), plain);
            t.allocationRow("ring alone, caller allocation, Micrometer bound and scraped", m(CallerHooksBenchmark.class, "offerWithMetricsScraped"), plain);
        }
    },
    LOGBACK("logback", LogbackAppenderBenchmark.class, null, false, true) {
        @Override
        void rows(ResultTable t) {
            String ours = m(LogbackAppenderBenchmark.class, "log:appender=kafka-scenarios");
            String plain = m(LogbackAppenderBenchmark.class, "log:appender=logback-kafka-appender");
            String async = m(LogbackAppenderBenchmark.class, "log:appender=logback-kafka-appender-async");
            String who = "logback to Kafka, per call, ";
            t.timeRow(who + "mean (raw column: logback-kafka-appender 0.2.0-RC2)", ours, plain, null);
            t.timeRow(who + "p99.9 (raw column: logback-kafka-appender 0.2.0-RC2)", ours, plain, "99.9");
            t.timeRow(who + "mean (raw column: the same in AsyncAppender, neverBlock)", ours, async, null);
            t.timeRow(who + "p99.9 (raw column: the same in AsyncAppender, neverBlock)", ours, async, "99.9");
            t.allocationRow("logback to Kafka, logging-thread allocation per call (raw: logback-kafka-appender)", ours, plain);
            t.allocationRow("logback to Kafka, logging-thread allocation per call (raw: in AsyncAppender)", ours, async);
        }
    },
    DELIVERED("delivered", DeliveredThroughputBenchmark.class, null, false, true) {
        @Override
        void rows(ResultTable t) {
            String ring = m(DeliveredThroughputBenchmark.class, "ringDelivered");
            String raw = m(DeliveredThroughputBenchmark.class, "rawDelivered");
            t.throughputRow("telemetry: delivered (acked) records/s, BLOCK", ring, raw);
            t.cpuRow("telemetry: delivered, client JVM CPU per record (all threads)", ring, raw);
        }
    },
    REQUEST_REPLY("request-reply", RequestReplyBenchmark.class, null, false, true) {
        @Override
        void rows(ResultTable t) {
            for (String threads : new String[] {"1", "64"}) {
                String ring = m(RequestReplyBenchmark.class, "ringSend" + threads);
                String raw = m(RequestReplyBenchmark.class, "rawSend" + threads);
                String who = "request-reply: send->ack latency, " + threads
                        + (threads.equals("1") ? " request" : " concurrent requests");
                t.timeRow(who + ", p50", ring, raw, "50.0");
                t.timeRow(who + ", p99", ring, raw, "99.0");
                t.timeRow(who + ", p99.9", ring, raw, "99.9");
            }
        }
    },
    ROUND_TRIP("round-trip", RoundTripBenchmark.class, null, false, true) {
        @Override
        void rows(ResultTable t) {
            for (String threads : new String[] {"1", "16"}) {
                String ours = m(RoundTripBenchmark.class, "ringRoundTrip" + threads);
                String raw = m(RoundTripBenchmark.class, "rawRoundTrip" + threads);
                String who = "request->reply over Kafka (raw: a hand-written correlated consumer), " + threads
                        + (threads.equals("1") ? " request" : " concurrent requests");
                t.timeRow(who + ", p50", ours, raw, "50.0");
                t.timeRow(who + ", p99", ours, raw, "99.0");
            }
        }
    },
    STREAM_PROCESSOR("stream-processor", StreamProcessorBenchmark.class, null, false, true) {
        @Override
        void rows(ResultTable t) {
            for (String partitions : t.paramValues(m(StreamProcessorBenchmark.class, ""), "partitions", "1", "6")) {
                t.throughputRow("stream processor: consume->identity->produce->commit records/s, " + partitions
                                + (partitions.equals("1") ? " partition" : " partitions"),
                        m(StreamProcessorBenchmark.class, "streamIdentity:partitions=" + partitions),
                        m(StreamProcessorBenchmark.class, "rawIdentity:partitions=" + partitions));
            }
        }
    },
    IDLE("idle", IdleProducerBenchmark.class, null, false, false) {
        @Override
        void rows(ResultTable t) {
            t.cpuRow("idle producer: client JVM CPU per ms (nothing to send)", m(IdleProducerBenchmark.class, "ringIdle"),
                    m(IdleProducerBenchmark.class, "rawIdle"));
        }
    },
    BROKER_DOWN_RING("broker-down-ring", BrokerDownBenchmark.class, "ringOfferBrokerDown", false, true) {
        @Override
        void rows(ResultTable t) {
            t.timeRow("broker down: caller time per record (raw: one send, max.block.ms 60 s)",
                    m(BrokerDownBenchmark.class, "ringOfferBrokerDown"), m(BrokerDownBenchmark.class, "rawSendBrokerDown"),
                    null);
        }
    },
    /** One send() that blocks max.block.ms: measured once, in both modes; its row is BROKER_DOWN_RING's. */
    BROKER_DOWN_RAW("broker-down-raw", BrokerDownBenchmark.class, "rawSendBrokerDown", false, false) {
        @Override
        void rows(ResultTable t) {
        }
    };

    /**
     * The order the suite runs them in: the ring alone first (it needs no broker), then the
     * comparisons, the broker-down ones last (they stop the broker).
     */
    static final List<Scenario> RUN_ORDER = List.of(RING_ALONE, CALLER_HOOKS, TELEMETRY, TELEMETRY_PACED, LOGBACK, DELIVERED, REQUEST_REPLY, ROUND_TRIP,
            STREAM_PROCESSOR, IDLE, BROKER_DOWN_RING, BROKER_DOWN_RAW);

    /** The step's name: its JSON file is {@code <name>.json}. */
    final String step;
    final Class<?> benchmark;
    /** One method of the class, or null for all of them. */
    final String method;
    final boolean gcProfile;
    /** Whether {@code --full} gives it more iterations and forks. */
    final boolean scalable;

    Scenario(String step, Class<?> benchmark, String method, boolean gcProfile, boolean scalable) {
        this.step = step;
        this.benchmark = benchmark;
        this.method = method;
        this.gcProfile = gcProfile;
        this.scalable = scalable;
    }

    /** @param table where the scenario's rows go, from the results already read */
    abstract void rows(ResultTable table);

    /** @return JMH's include regex for this step */
    String include() {
        String cls = benchmark.getName().replace(".", "\\.");
        return method == null ? cls + "\\." : cls + "\\." + method + "$";
    }
}
