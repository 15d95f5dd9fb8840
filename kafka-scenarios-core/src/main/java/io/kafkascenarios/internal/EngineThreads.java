package io.kafkascenarios.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes every thread of one producer from the user's {@link ThreadFactory}, each with its role named:
 * the {@link Runnable} handed to the factory answers {@code toString()} with
 * {@code kafka-scenarios-<role>}, so a factory can name or prioritise threads by role instead of by the
 * order of its calls. The default factory names threads {@code kafka-scenarios-<role>-<instance>} and
 * makes them daemons.
 *
 * <p>Threads: {@link #newThread} from any thread of the producer (the builder's, the flusher for a
 * producer closer, a caller for the deadline thread).
 */
public final class EngineThreads {
    /** What a thread does. */
    public enum Role {
        /** Calls the listener. */
        REPORTER("reporter"),
        /** Drains the ring into Kafka. */
        FLUSHER("flusher"),
        /** Fails {@code send} futures at their deadline. */
        DEADLINES("deadlines"),
        /** Closes a KafkaProducer replaced after a fatal error. */
        PRODUCER_CLOSER("producer-closer");

        final String label;

        Role(String label) {
            this.label = label;
        }
    }

    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private final ThreadFactory factory;
    private final int instance = INSTANCES.incrementAndGet();

    /** @param factory the user's factory, or null for the default */
    public EngineThreads(ThreadFactory factory) {
        this.factory = factory;
    }

    /**
     * @param role what the thread does
     * @param task what it runs
     * @return an unstarted thread, or null if the user's factory returned none
     */
    public Thread newThread(Role role, Runnable task) {
        RoleTask named = new RoleTask(role, task);
        if (factory != null) {
            return factory.newThread(named);
        }
        Thread t = new Thread(named, "kafka-scenarios-" + role.label + "-" + instance);
        t.setDaemon(true);
        return t;
    }

    /**
     * As {@link #newThread}, refusing a null thread with a message that names the role: for the
     * threads a producer cannot run without, checked when it is built.
     *
     * @param role what the thread does
     * @param task what it runs
     * @return an unstarted thread
     * @throws IllegalStateException if the factory returned null
     */
    public Thread requireThread(Role role, Runnable task) {
        Thread t = newThread(role, task);
        if (t == null) {
            throw new IllegalStateException("the thread factory " + factory + " returned no thread for the "
                    + role.label + " thread (task " + "kafka-scenarios-" + role.label + ")");
        }
        return t;
    }

    /** A task that says its role, for factories that name threads. */
    private static final class RoleTask implements Runnable {
        private final Role role;
        private final Runnable task;

        RoleTask(Role role, Runnable task) {
            this.role = role;
            this.task = task;
        }

        @Override
        public void run() {
            task.run();
        }

        @Override
        public String toString() {
            return "kafka-scenarios-" + role.label;
        }
    }
}
