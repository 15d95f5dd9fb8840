package io.kafkascenarios.stream;

import java.time.Duration;
import java.util.Objects;

/**
 * How long a {@link StreamProcessor} waits before retrying a failed batch: fixed, or exponential with a cap.
 * Immutable; safe to share.
 */
public final class Backoff {
    private final long initialNanos;
    private final long maxNanos;
    private final double multiplier;

    private Backoff(Duration initial, Duration max, double multiplier) {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.isNegative() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 <= initial <= max, was " + initial + " and " + max);
        }
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
        this.multiplier = multiplier;
    }

    /**
     * @param delay the wait before every retry
     * @return a fixed backoff
     */
    public static Backoff fixed(Duration delay) {
        return new Backoff(delay, delay, 1.0);
    }

    /**
     * @param initial the wait before the first retry
     * @param max the longest wait; each retry doubles the previous wait up to this
     * @return an exponential backoff
     */
    public static Backoff exponential(Duration initial, Duration max) {
        return new Backoff(initial, max, 2.0);
    }

    /**
     * @param retry 1 for the first retry
     * @return how long to wait before that retry
     */
    public Duration delay(int retry) {
        double d = initialNanos * Math.pow(multiplier, Math.max(0, retry - 1));
        return Duration.ofNanos(d >= maxNanos ? maxNanos : (long) d);
    }

    @Override
    public String toString() {
        return multiplier == 1.0 ? "fixed(" + Duration.ofNanos(initialNanos) + ")"
                : "exponential(" + Duration.ofNanos(initialNanos) + ".." + Duration.ofNanos(maxNanos) + ")";
    }
}
