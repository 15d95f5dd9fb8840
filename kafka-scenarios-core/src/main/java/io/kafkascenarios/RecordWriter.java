package io.kafkascenarios;

/**
 * Encodes a record's value straight into a ring slot, so publishing needs no intermediate array.
 *
 * <p>Pass the data as {@code arg} instead of capturing it in a lambda: a non-capturing lambda or a
 * constant instance is allocated once, a capturing lambda allocates on every call (the pattern of
 * the Disruptor's {@code EventTranslatorOneArg}). For example:
 *
 * <pre>{@code
 * static final RecordWriter<CharSequence> UTF8 = (text, value) -> value.putUtf8(text);
 * producer.offerWith("logs", UTF8, line);
 * }</pre>
 *
 * <p>Thread: called on the caller's thread, inside {@code offer}, while the caller owns the slot.
 * The {@link ValueBuffer} is valid only during the call. If the writer throws (including when the
 * value does not fit the slot), the slot is abandoned, the record is not offered, and the exception
 * reaches the caller.
 *
 * @param <A> the type of the argument the writer encodes
 */
@FunctionalInterface
public interface RecordWriter<A> {
    /**
     * Writes the value of one record.
     *
     * @param arg the argument passed to {@code offer}
     * @param value where to write the value bytes; starts empty
     */
    void writeValue(A arg, ValueBuffer value);
}
