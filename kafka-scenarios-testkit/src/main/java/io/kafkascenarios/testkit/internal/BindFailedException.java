package io.kafkascenarios.testkit.internal;

/** A bind failure at start-up: retried with new ports (first start) or after a pause (restart). */
public final class BindFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed to bind
     * @param cause the failure, or null
     */
    public BindFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
