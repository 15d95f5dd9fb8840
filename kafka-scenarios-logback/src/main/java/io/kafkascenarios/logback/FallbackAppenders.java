package io.kafkascenarios.logback;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.spi.AppenderAttachableImpl;
import ch.qos.logback.core.spi.ContextAwareBase;
import io.kafkascenarios.FailedRecord;
import io.kafkascenarios.FailureReport;

/**
 * The {@code <appender-ref>}s of a {@link KafkaAppender}, fed from a bounded queue by a thread of their
 * own: events the ring discarded or found too large are queued on the logging thread, events Kafka
 * refused on the ring's reporter thread; only the fallback thread runs the appenders. What does not fit
 * the queue, or arrives after {@link #stop}, is counted in {@link #dropped()}.
 *
 * <p>Threads: {@link #offer} on any thread; {@link #start}/{@link #stop} from the appender's lifecycle.
 */
final class FallbackAppenders {
    private final AppenderAttachableImpl<ILoggingEvent> appenders = new AppenderAttachableImpl<>();
    private final ContextAwareBase status;
    private final LongAdder delivered = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private int queueSize = 1024;
    /** Null until started, and always when there are no appenders: then nothing is queued. */
    private volatile ArrayBlockingQueue<ILoggingEvent> queue;
    private volatile boolean stopped;
    private Thread thread;

    /** @param status where a throwing fallback appender is reported (the Kafka appender) */
    FallbackAppenders(ContextAwareBase status) {
        this.status = status;
    }

    AppenderAttachableImpl<ILoggingEvent> appenders() {
        return appenders;
    }

    void queueSize(int events) {
        this.queueSize = events;
    }

    /** @return whether events are taken: started, with at least one appender */
    boolean active() {
        return queue != null;
    }

    /** Starts the thread if there is an appender to feed; otherwise nothing is ever queued. */
    void start(String appenderName) {
        Iterator<Appender<ILoggingEvent>> any = appenders.iteratorForAppenders();
        if (!any.hasNext()) {
            return;
        }
        ArrayBlockingQueue<ILoggingEvent> q = new ArrayBlockingQueue<>(queueSize);
        queue = q;
        thread = new Thread(() -> {
            try {
                while (true) {
                    append(q.take());
                }
            } catch (InterruptedException stopping) {
                ILoggingEvent e;
                while ((e = q.poll()) != null) {
                    append(e);
                }
            }
        }, "logback-kafka-fallback-" + appenderName);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Any thread: queues the event for the fallback thread, never runs a fallback appender here.
     * Without fallback appenders it does nothing (the caller has counted the event already).
     */
    void offer(ILoggingEvent event) {
        ArrayBlockingQueue<ILoggingEvent> q = queue;
        if (q == null) {
            return;
        }
        if (stopped) {
            dropped.increment(); // after stop: nobody would take it from the queue
            return;
        }
        event.prepareForDeferredProcessing(); // it is read later, on another thread
        if (!q.offer(event)) {
            dropped.increment();
        } else if (stopped && q.remove(event)) {
            dropped.increment(); // stop() drained the queue just before this offer: take it back, count it
        }
    }

    /** The ring's reporter thread: events Kafka refused, rebuilt from their bytes as WARNs of {@code <name>.undelivered}. */
    void offerFailed(FailureReport report, LoggerContext context, String appenderName) {
        if (queue == null) {
            return;
        }
        for (FailedRecord r : report.records()) {
            LoggingEvent e = new LoggingEvent();
            e.setLoggerContext(context);
            e.setLoggerName(appenderName + ".undelivered");
            e.setLevel(Level.WARN);
            e.setThreadName(Thread.currentThread().getName());
            e.setTimeStamp(System.currentTimeMillis());
            e.setMessage(r.value() == null ? "" : new String(r.value(), StandardCharsets.UTF_8));
            offer(e);
        }
    }

    /** Fallback thread: one event to the appenders; one that throws never ends the thread. */
    private void append(ILoggingEvent e) {
        try {
            appenders.appendLoopOnAppenders(e);
            delivered.increment();
        } catch (RuntimeException thrown) {
            dropped.increment();
            status.addError("a fallback appender threw", thrown);
        }
    }

    /** Lets the thread drain the queue until the deadline, counts what is left, stops the appenders. */
    void stop(long deadlineNanos) {
        Thread t = thread;
        if (t == null) {
            return;
        }
        stopped = true;
        t.interrupt(); // it drains what is queued, then ends
        try {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        while (queue.poll() != null) {
            dropped.increment(); // left when the deadline came (a fallback appender that blocks)
        }
        appenders.detachAndStopAllAppenders(); // as Logback's AsyncAppender does with the appenders it feeds
    }

    long delivered() {
        return delivered.sum();
    }

    long dropped() {
        return dropped.sum();
    }
}
