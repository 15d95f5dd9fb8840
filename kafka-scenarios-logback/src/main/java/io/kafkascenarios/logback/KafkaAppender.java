package io.kafkascenarios.logback;

import java.lang.reflect.Field;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import org.apache.kafka.clients.producer.ProducerConfig;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.FilterReply;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.pattern.Converter;
import ch.qos.logback.core.pattern.PatternLayoutBase;
import io.kafkascenarios.CallerHeaders;
import io.kafkascenarios.FailureReport;
import io.kafkascenarios.OnFull;
import io.kafkascenarios.RecordWriter;
import io.kafkascenarios.RingProducer;
import io.kafkascenarios.RingProducerListener;
import io.kafkascenarios.RingStats;
import io.kafkascenarios.ValueBuffer;

/**
 * A Logback appender that sends events to a Kafka topic through a {@link RingProducer}: the logging
 * thread copies the event into a pre-allocated ring slot and returns; a flusher thread hands it to
 * Kafka. It never blocks the logging thread (unless {@code onFull=BLOCK}), start-up never waits for a
 * broker, and every event is accounted for: delivered, dropped (counted, and reported through
 * Logback's status manager at most once per second) or failed (the same).
 *
 * <pre>{@code
 * <appender name="KAFKA" class="io.kafkascenarios.logback.KafkaAppender">
 *   <topic>logs</topic>
 *   <bootstrapServers>broker:9092</bootstrapServers>
 *   <encoder><pattern>%d{ISO8601} %-5level [%thread] %logger - %msg%n</pattern></encoder>
 *   <keyingStrategy>logger_name</keyingStrategy>
 *   <mdcHeaders>traceId,userId</mdcHeaders>
 *   <producerConfig>compression.type=lz4</producerConfig>
 * </appender>
 * }</pre>
 *
 * <p>Encoding: with a pattern encoder (Logback's {@code PatternLayoutEncoder} in UTF-8) the pattern's
 * converters write into a per-thread buffer that is encoded straight into the slot: the appender itself
 * allocates nothing per event. Any other {@link Encoder} works too, through its {@code encode} (which
 * allocates its byte array). The event is not retained after the call.
 *
 * <p>Fallback: {@code <appender-ref>}s inside this appender receive the events the ring discarded
 * (full), the ones too large for a slot ({@code oversize=fallback}) and the ones Kafka refused
 * (rebuilt from their bytes, logger {@code <name>.undelivered}), on a fallback thread of their own:
 * never on the logging thread, never on Kafka's I/O thread. Its queue is bounded
 * ({@code fallbackQueueSize}); what does not fit is counted. Only with a fallback is an event kept
 * after the call (in that queue).
 *
 * <p>Events of the loggers in {@code excludedLoggers} (by default {@code org.apache.kafka} and
 * {@code io.kafkascenarios}, and their children) never go to Kafka: the producer's own logging would
 * otherwise feed itself.
 *
 * <p>Threads: {@code append} on the logging threads, concurrently (this appender takes no lock); the
 * ring producer's threads report drops and failures; {@code start}/{@code stop} from Logback's
 * configurator or shutdown hook.
 */
public final class KafkaAppender extends UnsynchronizedAppenderBase<ILoggingEvent>
        implements AppenderAttachable<ILoggingEvent> {
    /** What to do with an event too large for a slot. */
    public enum Oversize {
        /** Cut the encoded event to what fits (the default): a log line loses its tail, not its whole. */
        TRUNCATE,
        /** Give it to the fallback appenders (dropped and counted if there are none). */
        FALLBACK,
        /** Drop it, counted in {@link #getOversizeDropped()}. */
        DROP
    }

    /** What a record's key is. */
    public enum Keying {
        /** No key: Kafka spreads the events over the partitions. */
        NONE,
        /** The host name (the context's {@code HOSTNAME} property). */
        HOST_NAME,
        /** The logger context's name. */
        CONTEXT_NAME,
        /** The logging thread's name. */
        THREAD_NAME,
        /** The logger's name: one logger's events stay in order. */
        LOGGER_NAME
    }

    /**
     * This appender's per-thread state: the re-entry guard, the event being appended (for the MDC
     * headers hook), the pattern's text and the room its MDC headers need.
     */
    private static final class Rendering {
        boolean appending;
        ILoggingEvent event;
        StringBuilder text = new StringBuilder(256);
        int headerBytes;
    }

    /** Per appender, not static: an append to another Kafka appender nested in this one's converters keeps its own. */
    private final ThreadLocal<Rendering> rendering = ThreadLocal.withInitial(Rendering::new);

    private String topic;
    private String bootstrapServers;
    private final Map<String, Object> producerConfig = new HashMap<>();
    private Encoder<ILoggingEvent> encoder;
    private Keying keying = Keying.NONE;
    private int partition = RingProducer.ANY_PARTITION;
    private boolean appendTimestamp = true;
    private String[] mdcHeaders = new String[0];
    private int ringSize = 1024;
    private int slotCapacity = 4096;
    private Oversize oversize = Oversize.TRUNCATE;
    private OnFull onFull = OnFull.DISCARD;
    private long blockTimeoutMillis = 100;
    private long shutdownTimeoutMillis = 10_000;
    private String[] excludedLoggers = {"org.apache.kafka", "io.kafkascenarios"};

    private volatile RingProducer producer;
    /** The pattern's first converter, when the encoder is a UTF-8 pattern encoder; else null. */
    private Converter<ILoggingEvent> pattern;
    private EventKeys keys;
    private final LongAdder truncated = new LongAdder();
    private final LongAdder oversizeDropped = new LongAdder();
    private final LongAdder excluded = new LongAdder();
    private final RecordWriter<Rendering> patternWriter = this::writePattern;
    private final LongAdder refusedAtStop = new LongAdder();
    private final LongAdder reentrant = new LongAdder();
    private final LongAdder appendErrors = new LongAdder();
    private volatile long lastAppendErrorReport;
    private boolean includeCallerData;
    private boolean shutdownHook;
    private Thread hook;
    private final java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
    private final FallbackAppenders fallback = new FallbackAppenders(this);
    /** Tests only: the producers the ring uses instead of KafkaProducers. */
    java.util.function.Supplier<org.apache.kafka.clients.producer.Producer<byte[], byte[]>> producerFactory;

    // ------------------------------------------------------------------ configuration (Joran setters)

    /** @param topic the topic events go to (required) */
    public void setTopic(String topic) {
        this.topic = topic;
    }

    /** @param servers {@code bootstrap.servers} (required, here or in {@code producerConfig}) */
    public void setBootstrapServers(String servers) {
        this.bootstrapServers = servers;
    }

    /** @param keyValue one producer setting, {@code key=value} (the element may repeat) */
    public void addProducerConfig(String keyValue) {
        int eq = keyValue == null ? -1 : keyValue.indexOf('=');
        if (eq <= 0) {
            addError("producerConfig must be key=value, was: " + keyValue);
            return;
        }
        producerConfig.put(keyValue.substring(0, eq).trim(), keyValue.substring(eq + 1).trim());
    }

    /** @param encoder how an event becomes bytes (required) */
    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    /** @param strategy none, host_name, context_name, thread_name or logger_name (default none) */
    public void setKeyingStrategy(String strategy) {
        this.keying = Keying.valueOf(strategy.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** @param partition a fixed partition for every event (default: Kafka's partitioner) */
    public void setPartition(int partition) {
        this.partition = partition;
    }

    /** @param append use the event's time as the record's timestamp (default true) */
    public void setAppendTimestamp(boolean append) {
        this.appendTimestamp = append;
    }

    /** @param keys MDC keys copied into record headers of the same names, comma-separated (e.g. a trace id) */
    public void setMdcHeaders(String keys) {
        List<String> list = new ArrayList<>();
        for (String k : keys.split(",")) {
            if (!k.isBlank()) {
                list.add(k.trim());
            }
        }
        this.mdcHeaders = list.toArray(new String[0]);
    }

    /** @param size slots in the ring, a power of two (default 1024) */
    public void setRingSize(int size) {
        this.ringSize = size;
    }

    /** @param bytes bytes per slot: one encoded event with its key and headers (default 4096) */
    public void setSlotCapacity(int bytes) {
        this.slotCapacity = bytes;
    }

    /** @param policy truncate (default), fallback or drop an event too large for a slot */
    public void setOversize(String policy) {
        this.oversize = Oversize.valueOf(policy.trim().toUpperCase(Locale.ROOT));
    }

    /** @param policy discard (default: never block the logging thread) or block (up to blockTimeout) */
    public void setOnFull(String policy) {
        this.onFull = OnFull.valueOf(policy.trim().toUpperCase(Locale.ROOT));
    }

    /** @param millis how long a logging thread waits for space with onFull=block (default 100) */
    public void setBlockTimeout(long millis) {
        this.blockTimeoutMillis = millis;
    }

    /** @param millis how long stop() waits for events still on their way (default 10,000) */
    public void setShutdownTimeout(long millis) {
        this.shutdownTimeoutMillis = millis;
    }

    /**
     * @param register stop this appender from a JVM shutdown hook, so that a plain Java application
     *                 that never stops Logback still flushes its last events (within shutdownTimeout)
     *                 on exit or SIGTERM. Default false: under Spring Boot, or with Logback's own
     *                 {@code <shutdownHook/>}, the context stops its appenders already.
     */
    public void setShutdownHook(boolean register) {
        this.shutdownHook = register;
    }

    /** @param prefixes logger-name prefixes never sent to Kafka, comma-separated (default org.apache.kafka,io.kafkascenarios) */
    public void setExcludedLoggers(String prefixes) {
        List<String> list = new ArrayList<>();
        for (String p : prefixes.split(",")) {
            if (!p.isBlank()) {
                list.add(p.trim());
            }
        }
        this.excludedLoggers = list.toArray(new String[0]);
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    public void start() {
        if (topic == null || topic.isBlank()) {
            addError("no topic for appender '" + getName() + "'");
            return;
        }
        if (encoder == null) {
            addError("no encoder for appender '" + getName() + "'");
            return;
        }
        Map<String, Object> config = new HashMap<>(producerConfig);
        if (bootstrapServers != null) {
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        }
        if (!config.containsKey(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
            addError("no bootstrapServers for appender '" + getName() + "'");
            return;
        }
        if (!isExcluded("org.apache.kafka.clients") || !isExcluded("io.kafkascenarios.internal")) {
            addWarn("appender '" + getName() + "': excludedLoggers does not cover both org.apache.kafka and io.kafkascenarios:"
                    + " the producer's own logging will go to Kafka through this appender (and, with onFull=block,"
                    + " can wait on its own full ring)");
        }
        pattern = patternOf(encoder);
        keys = new EventKeys(keying, getContext());
        try {
            producer = builder(config).build();
        } catch (RuntimeException e) {
            addError("appender '" + getName() + "' could not create its Kafka producer", e);
            return;
        }
        fallback.start(getName()); // after the producer: a failed start leaves no thread behind
        stopping.set(false);
        if (shutdownHook) {
            hook = new Thread(this::stop, "logback-kafka-shutdown-" + getName());
            Runtime.getRuntime().addShutdownHook(hook);
        }
        super.start();
    }

    private RingProducer.Builder builder(Map<String, Object> config) {
        RingProducer.Builder b = RingProducer.builder(config)
                .name("logback-" + (getName() == null ? "kafka" : getName()))
                .ringSize(ringSize).slotCapacity(slotCapacity).onFull(onFull)
                .listener(new StatusListener());
        if (onFull == OnFull.BLOCK) {
            b.blockTimeout(Duration.ofMillis(blockTimeoutMillis));
        }
        if (mdcHeaders.length > 0) {
            b.callerHeaders(this::addMdcHeaders);
        }
        if (producerFactory != null) {
            b.producerFactory(producerFactory);
        }
        return b;
    }

    @Override
    public void stop() {
        RingProducer p = producer;
        super.stop();
        if (p == null || !stopping.compareAndSet(false, true)) {
            return; // never started, or stopped already (the hook and the context may both call this)
        }
        Thread h = hook;
        if (h != null && h != Thread.currentThread()) {
            try {
                Runtime.getRuntime().removeShutdownHook(h);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting: the hook runs (or ran) this too, and finds it done
            }
        }
        long deadline = System.nanoTime() + Duration.ofMillis(shutdownTimeoutMillis).toNanos();
        long notDelivered = p.close(Duration.ofMillis(shutdownTimeoutMillis));
        fallback.stop(deadline); // within the same deadline: stop() takes shutdownTimeout, not twice
        RingStats s = p.stats();
        String summary = "appender '" + getName() + "' stopped: " + s.offered() + " events offered, " + s.delivered()
                + " delivered, " + s.discarded() + " discarded (ring full), " + s.failed() + " failed, "
                + oversizeDropped.sum() + " dropped as too large, " + truncated.sum() + " truncated, "
                + refusedAtStop.sum() + " refused while not running, " + reentrant.sum() + " logged from inside the appender, "
                + appendErrors.sum() + " could not be encoded"
                + (fallback.active() ? ", " + fallback.delivered() + " given to the fallback appenders, "
                        + fallback.dropped() + " dropped by the fallback" : "");
        if (notDelivered > 0 || s.discarded() + s.failed() + oversizeDropped.sum() + reentrant.sum() + appendErrors.sum() > 0) {
            addWarn(summary + "; " + notDelivered + " still undelivered at the " + shutdownTimeoutMillis + " ms deadline");
        } else {
            addInfo(summary);
        }
    }

    // ------------------------------------------------------------------ the logging thread

    /**
     * Logging thread: this appender's own guard and error accounting in place of Logback's, so that no
     * event vanishes uncounted. An event appended while this thread is already inside this appender
     * (a converter or an argument's {@code toString()} that logs) is counted in
     * {@link #getReentrantDropped()}; one that throws in encoding, in {@link #getAppendErrors()}; one
     * that arrives while the appender is not running, in {@link #getRefusedAtStop()}. Events a
     * filter denies are not counted: the configuration asked for that.
     */
    @Override
    public void doAppend(ILoggingEvent event) {
        if (!isStarted()) {
            refusedAtStop.increment();
            return;
        }
        Rendering r = rendering.get();
        if (r.appending) {
            reentrant.increment();
            return;
        }
        r.appending = true;
        try {
            if (getFilterChainDecision(event) != FilterReply.DENY) {
                append(event, r);
            }
        } catch (RuntimeException e) {
            appendErrors.increment();
            long now = System.currentTimeMillis();
            if (now - lastAppendErrorReport >= 1000) { // at most once a second, as for drops
                lastAppendErrorReport = now;
                addError("appender '" + getName() + "' could not append an event (" + appendErrors.sum() + " in all)", e);
            }
        } finally {
            r.appending = false;
            r.event = null; // the event is not retained after the call
        }
    }

    @Override
    protected void append(ILoggingEvent event) {
        doAppend(event); // Logback calls doAppend; this is here for the abstract method only
    }

    private void append(ILoggingEvent event, Rendering r) {
        RingProducer p = producer;
        if (p == null || isExcluded(event.getLoggerName())) {
            if (p != null) {
                excluded.increment();
            }
            return;
        }
        if (p.discardIfFull()) {
            toFallback(event); // a full ring: discarded (counted by the ring) before any rendering
            return;
        }
        long timestamp = appendTimestamp ? event.getTimeStamp() : RingProducer.NO_TIMESTAMP;
        byte[] key = keys.of(event);
        boolean mdc = mdcHeaders.length > 0;
        r.event = event; // for the headers hook
        byte[] encoded = null;
        if (pattern != null) {
            StringBuilder text = r.text;
            text.setLength(0);
            // Rendered before a slot is claimed: converters run user code (arguments' toString()),
            // which must never hold a slot, and so the flusher, while it runs.
            for (Converter<ILoggingEvent> c = pattern; c != null; c = c.getNext()) {
                c.write(text, event);
            }
            r.headerBytes = mdc ? mdcBytes(event) : 0;
        } else {
            encoded = encoder.encode(event); // what throws here is counted in appendErrors by doAppend
        }
        try {
            boolean taken;
            if (pattern != null) {
                taken = p.offerWith(topic, partition, timestamp, key, patternWriter, r);
                if (r.text.capacity() > 4 * slotCapacity) {
                    r.text = new StringBuilder(256); // one huge message must not pin its size to the thread
                }
            } else {
                taken = p.offer(topic, partition, timestamp, key, fit(encoded, key, mdc ? mdcBytes(event) : 0), null);
            }
            if (!taken) {
                toFallback(event); // discarded (counted by the ring): the fallback may still keep it
            }
        } catch (TooLarge | IllegalArgumentException tooLarge) {
            // TooLarge: the event; IllegalArgumentException: its MDC headers did not fit the slot either
            if (oversize == Oversize.FALLBACK && fallback.active()) {
                toFallback(event);
            } else {
                oversizeDropped.increment(); // reported with the ring's counts at stop, and in getOversizeDropped()
            }
        } catch (IllegalStateException closed) {
            refusedAtStop.increment(); // the ring closed under this call (stop() began): refused, counted here
        }
    }

    /** Logging thread: the caller's stack is only known here; taken when asked for, before the hand-off. */
    private void toFallback(ILoggingEvent event) {
        if (includeCallerData && fallback.active()) {
            event.getCallerData();
        }
        fallback.offer(event);
    }

    private boolean isExcluded(String logger) {
        for (String prefix : excludedLoggers) {
            if (logger.startsWith(prefix) && (logger.length() == prefix.length() || logger.charAt(prefix.length()) == '.')) {
                return true;
            }
        }
        return false;
    }

    /** The pattern path, in the claimed slot: the rendered text, cut to fit if it must, encoded straight in. */
    private void writePattern(Rendering r, ValueBuffer value) {
        StringBuilder text = r.text;
        int room = value.remaining() - r.headerBytes;
        // At most 3 bytes per char: only text that might not fit is measured (one pass fewer for most events).
        if (3L * text.length() > room && Utf8Lengths.of(text) > room) {
            if (oversize != Oversize.TRUNCATE || room <= 0) {
                throw TooLarge.INSTANCE;
            }
            Utf8Lengths.truncate(text, room);
            truncated.increment();
        }
        value.putUtf8(text);
    }

    /** The general path: an encoded event cut to the slot (or refused) under the oversize policy. */
    private byte[] fit(byte[] bytes, byte[] key, int headerBytes) {
        int room = slotCapacity - (key == null ? 0 : key.length) - headerBytes;
        if (bytes.length <= room) {
            return bytes;
        }
        if (oversize != Oversize.TRUNCATE || room <= 0) {
            throw TooLarge.INSTANCE;
        }
        truncated.increment();
        int cut = room;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80) {
            cut--; // never inside a UTF-8 character: back to the byte that starts it
        }
        return java.util.Arrays.copyOf(bytes, cut);
    }

    private void addMdcHeaders(String topic, CallerHeaders.Writer headers) {
        ILoggingEvent event = rendering.get().event;
        if (event == null) {
            return;
        }
        Map<String, String> mdc = event.getMDCPropertyMap();
        for (String k : mdcHeaders) {
            String v = mdc.get(k);
            if (v != null) {
                headers.addUtf8(k, v);
            }
        }
    }

    /** @return bytes the event's MDC headers will take in the slot */
    private int mdcBytes(ILoggingEvent event) {
        if (mdcHeaders.length == 0 || event == null) {
            return 0;
        }
        Map<String, String> mdc = event.getMDCPropertyMap();
        int bytes = 0;
        for (String k : mdcHeaders) {
            String v = mdc.get(k);
            if (v != null) {
                bytes += 8 + Utf8Lengths.of(k) + Utf8Lengths.of(v);
            }
        }
        return bytes;
    }

    /**
     * @return the first converter of a UTF-8 pattern encoder's layout, read once here (Logback keeps
     *         it package-private), or null for the general path
     */
    @SuppressWarnings("unchecked")
    private Converter<ILoggingEvent> patternOf(Encoder<ILoggingEvent> e) {
        if (!(e instanceof LayoutWrappingEncoder<ILoggingEvent> wrapping) || !(wrapping.getLayout() instanceof PatternLayout layout)) {
            return null;
        }
        Charset charset = wrapping.getCharset(); // null: the encoder uses the platform's default
        if (!StandardCharsets.UTF_8.equals(charset == null ? Charset.defaultCharset() : charset)) {
            return null;
        }
        if (!layout.isStarted()) {
            layout.start();
        }
        try {
            Field head = PatternLayoutBase.class.getDeclaredField("head");
            head.setAccessible(true);
            return (Converter<ILoggingEvent>) head.get(layout);
        } catch (ReflectiveOperationException | RuntimeException unavailable) {
            addInfo("appender '" + getName() + "': the pattern's converters are not reachable in this Logback ("
                    + unavailable + "); encoding through the encoder instead");
            return null;
        }
    }

    /**
     * @param include compute the caller's class, method and line on the logging thread for events
     *                given to the fallback appenders (default false: {@code %caller} there shows nothing useful)
     */
    public void setIncludeCallerData(boolean include) {
        this.includeCallerData = include;
    }

    /** @param events events the fallback queue holds before more are dropped (default 1024) */
    public void setFallbackQueueSize(int events) {
        fallback.queueSize(events);
    }

    // ------------------------------------------------------------------ fallback appenders (AppenderAttachable)

    @Override
    public void addAppender(Appender<ILoggingEvent> newAppender) {
        fallback.appenders().addAppender(newAppender);
    }

    @Override
    public java.util.Iterator<Appender<ILoggingEvent>> iteratorForAppenders() {
        return fallback.appenders().iteratorForAppenders();
    }

    @Override
    public Appender<ILoggingEvent> getAppender(String name) {
        return fallback.appenders().getAppender(name);
    }

    @Override
    public boolean isAttached(Appender<ILoggingEvent> appender) {
        return fallback.appenders().isAttached(appender);
    }

    @Override
    public void detachAndStopAllAppenders() {
        fallback.appenders().detachAndStopAllAppenders();
    }

    @Override
    public boolean detachAppender(Appender<ILoggingEvent> appender) {
        return fallback.appenders().detachAppender(appender);
    }

    @Override
    public boolean detachAppender(String name) {
        return fallback.appenders().detachAppender(name);
    }

    // ------------------------------------------------------------------ what it did

    /** @return events refused because the appender was not running: before start, after stop, or its ring closed under the call */
    public long getRefusedAtStop() {
        return refusedAtStop.sum();
    }

    /** @return events dropped because they were logged from inside this appender on the same thread (a converter that logs) */
    public long getReentrantDropped() {
        return reentrant.sum();
    }

    /** @return events dropped because encoding them threw (reported to the status manager at most once a second) */
    public long getAppendErrors() {
        return appendErrors.sum();
    }

    /** @return events the fallback appenders received */
    public long getFallbackDelivered() {
        return fallback.delivered();
    }

    /** @return events meant for the fallback appenders but dropped: its queue full, the appender stopping, or a fallback appender threw */
    public long getFallbackDropped() {
        return fallback.dropped();
    }

    /** @return the ring producer's accounting: offered, delivered, discarded, failed, pending */
    public RingStats getStats() {
        RingProducer p = producer;
        return p == null ? null : p.stats();
    }

    /** @return events cut to fit a slot */
    public long getTruncated() {
        return truncated.sum();
    }

    /** @return events dropped because they did not fit a slot (oversize=drop, or the headers alone did not fit) */
    public long getOversizeDropped() {
        return oversizeDropped.sum();
    }

    /** @return events of excluded loggers, not sent */
    public long getExcluded() {
        return excluded.sum();
    }

    /** Reports drops and failures to Logback's status manager, at most once per report interval (1 s). */
    private final class StatusListener implements RingProducerListener {
        @Override
        public void onDiscarded(long discarded, long totalDiscarded) {
            addWarn("appender '" + getName() + "': " + discarded + " events discarded, ring full (" + totalDiscarded + " in all)");
        }

        @Override
        public void onFailed(FailureReport report) {
            addWarn("appender '" + getName() + "': " + report.count() + " events failed to reach Kafka: " + report.cause());
            fallback.offerFailed(report, (ch.qos.logback.classic.LoggerContext) getContext(), getName());
        }
    }

    /** Thrown inside the writer to refuse an event that does not fit: never escapes {@link #append}. */
    private static final class TooLarge extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final TooLarge INSTANCE = new TooLarge();

        private TooLarge() {
            super("too large for a slot", null, false, false);
        }
    }
}
