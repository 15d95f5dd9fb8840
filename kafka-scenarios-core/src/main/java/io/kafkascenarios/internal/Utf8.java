package io.kafkascenarios.internal;

/**
 * UTF-8 encoding of a {@link CharSequence} into a byte array without allocating, with the same
 * output as {@code String.getBytes(UTF_8)} (unpaired surrogates become {@code '?'}).
 *
 * <p>Thread-safe: stateless.
 */
public final class Utf8 {
    private Utf8() {
    }

    /**
     * @param text characters to measure
     * @return the number of bytes {@link #encode} writes for {@code text}
     */
    public static int encodedLength(CharSequence text) {
        int n = text.length();
        int bytes = n;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                continue;
            }
            if (c < 0x800) {
                bytes += 1;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 2; // 4 bytes for 2 chars
                i++;
            } else if (Character.isSurrogate(c)) {
                // unpaired: one '?'
            } else {
                bytes += 2;
            }
        }
        return bytes;
    }

    /**
     * Encodes {@code text} into {@code dst} from {@code offset}. The caller has checked the room with
     * {@link #encodedLength}.
     *
     * @param text characters to encode
     * @param dst destination
     * @param offset first byte to write
     * @return the offset after the last byte written
     */
    public static int encode(CharSequence text, byte[] dst, int offset) {
        int n = text.length();
        int p = offset;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                dst[p++] = (byte) c;
            } else if (c < 0x800) {
                dst[p++] = (byte) (0xC0 | (c >> 6));
                dst[p++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                dst[p++] = (byte) (0xF0 | (cp >> 18));
                dst[p++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                dst[p++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                dst[p++] = (byte) (0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                dst[p++] = '?';
            } else {
                dst[p++] = (byte) (0xE0 | (c >> 12));
                dst[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                dst[p++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return p;
    }
}
