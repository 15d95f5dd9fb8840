package io.kafkascenarios.testkit.internal;

/**
 * Where a single-node broker runs: inside the test JVM ({@link InProcessLauncher}) or in a child JVM
 * ({@link ChildJvmLauncher}). Chosen once, when the broker is built; the broker's lifecycle is the
 * same over either.
 *
 * <p>Threads: the broker calls {@link #launch}, {@link #stop}, {@link #kill} under its own lock;
 * {@link #isRunning} and {@link #emergencyStop} from any thread (the JVM's shutdown hook included).
 */
public interface BrokerLauncher {
    /**
     * Starts the broker and returns once its process or server is up (not yet serving).
     *
     * @param files the broker's files, config written and storage formatted
     * @param bootstrapServers where it will listen, for messages
     * @param deadlineNanos {@code System.nanoTime()} by which it must be up
     * @throws BindFailedException if a port was taken
     */
    void launch(BrokerFiles files, String bootstrapServers, long deadlineNanos);

    /** Stops gracefully and waits; nothing if not running. */
    void stop();

    /**
     * Ends the broker the hard way (SIGKILL) and waits.
     *
     * @throws UnsupportedOperationException if this launcher cannot (in process: it would end the tests)
     */
    void kill();

    /** @return true while the broker is up */
    boolean isRunning();

    /** @return true if {@link #kill()} works */
    boolean supportsFaults();

    /** @return the last lines of the broker's own log, prefixed for an error message, or "" */
    String logTail();

    /** The JVM is exiting without a close: leave no orphan process. Best effort, any thread. */
    void emergencyStop();
}
