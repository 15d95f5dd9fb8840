package io.kafkascenarios.internal;

/**
 * A monotonic clock in nanoseconds, injected wherever time decides behaviour (block timeouts, the
 * flusher's hot window, replacement back-off) so that unit tests can step it by hand.
 *
 * <p>Threads: implementations are called from every thread of the engine and must be thread-safe.
 */
@FunctionalInterface
public interface NanoClock {
    /** {@link System#nanoTime()}. */
    NanoClock SYSTEM = System::nanoTime;

    /** @return nanoseconds from an arbitrary origin; only differences mean anything */
    long nanoTime();
}
