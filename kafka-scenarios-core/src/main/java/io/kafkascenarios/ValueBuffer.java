package io.kafkascenarios;

/**
 * A write-only view of a ring slot's storage, handed to a {@link RecordWriter}.
 *
 * <p>Writes append. A write that would go past the slot's capacity throws
 * {@link IllegalArgumentException} naming the slot capacity and the size needed; the record is then
 * never published, so it is neither truncated nor lost silently.
 *
 * <p>Thread: used only by the caller thread that owns the slot, only during
 * {@link RecordWriter#writeValue}. Not thread-safe; do not keep a reference to it.
 */
public interface ValueBuffer {
    /** @return bytes written so far */
    int length();

    /** @return bytes that can still be written */
    int remaining();

    /**
     * Appends one byte.
     *
     * @param b the byte (low 8 bits are used)
     * @return this buffer
     */
    ValueBuffer put(int b);

    /**
     * Appends all of {@code src}.
     *
     * @param src bytes to copy
     * @return this buffer
     */
    ValueBuffer put(byte[] src);

    /**
     * Appends {@code length} bytes of {@code src} from {@code offset}.
     *
     * @param src bytes to copy
     * @param offset first byte to copy
     * @param length number of bytes to copy
     * @return this buffer
     */
    ValueBuffer put(byte[] src, int offset, int length);

    /**
     * Appends {@code text} encoded as UTF-8, without allocating. Unpaired surrogates become {@code '?'},
     * as {@link String#getBytes(java.nio.charset.Charset)} does.
     *
     * @param text characters to encode
     * @return this buffer
     */
    ValueBuffer putUtf8(CharSequence text);

    /**
     * Appends a 32-bit big-endian integer.
     *
     * @param value the integer
     * @return this buffer
     */
    ValueBuffer putInt(int value);

    /**
     * Appends a 64-bit big-endian integer.
     *
     * @param value the integer
     * @return this buffer
     */
    ValueBuffer putLong(long value);
}
