/**
 * Machinery of the ring producer, not API: the ring and its slots ({@code Ring}, {@code Slot}), the
 * flusher ({@code Flusher}), the accounting ({@code Accounting}), the reporter ({@code Reporter}) and
 * the request-reply completion ({@code SendCompletion}). Each class says which thread calls it.
 */
package io.kafkascenarios.internal;
