/**
 * Machinery of the ring producer, not API: the ring and its slots ({@code Ring}, {@code Slot}), the
 * flusher ({@code Flusher}), the accounting ({@code Accounting}), the reporter ({@code Reporter}), and
 * the completions of records that someone waits for ({@code RecordCompletion}: {@code SendCompletion}
 * for a request-reply {@code send}, {@code GroupCompletion} for a {@code sendAll} group). Each class
 * says which thread calls it.
 */
package io.kafkascenarios.internal;
