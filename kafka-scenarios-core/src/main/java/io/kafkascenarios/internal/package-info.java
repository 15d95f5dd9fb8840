/**
 * Machinery of the ring producer, not API. {@code Engine} builds and wires it and runs the flush and
 * close protocols; the ring and its one door ({@code Ring}: claim, commit, abort; {@code Slot} and its
 * {@code SlotValueBuffer}); the flusher thread's loop ({@code Flusher}) with its idle strategy
 * ({@code FlusherIdle}); the KafkaProducer and its replacement after a fatal error ({@code Sinks},
 * over the {@code RecordSink} seam); the one place records get their outcome ({@code Outcomes},
 * {@code OutgoingRecord}); the counters ({@code Accounting}); the listener's thread ({@code Reporter});
 * the completions of records someone waits for ({@code RecordCompletion}: {@code SendCompletion} for a
 * {@code send}, {@code GroupCompletion} for a {@code sendAll} group); threads by role
 * ({@code EngineThreads}); time ({@code NanoClock}). Each class says which thread calls it.
 */
package io.kafkascenarios.internal;
