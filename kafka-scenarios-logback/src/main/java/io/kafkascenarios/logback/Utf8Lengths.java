package io.kafkascenarios.logback;

/**
 * UTF-8 sizes of text, without encoding it: what a slot will take, and where to cut text so that it
 * fits (never inside a surrogate pair).
 *
 * <p>Threads: any (no state).
 */
final class Utf8Lengths {
    private Utf8Lengths() {
    }

    /** @return bytes {@code text} takes in UTF-8 (an unpaired surrogate counts as the 1-byte '?' Java writes) */
    static int of(CharSequence text) {
        int bytes = 0;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            bytes += width(text, i);
            if (Character.isHighSurrogate(text.charAt(i)) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            }
        }
        return bytes;
    }

    /** Cuts {@code text} to its longest prefix of at most {@code maxBytes} UTF-8 bytes, whole characters only. */
    static void truncate(StringBuilder text, int maxBytes) {
        int bytes = 0;
        int n = text.length();
        int i = 0;
        while (i < n) {
            int w = width(text, i);
            int chars = w == 4 ? 2 : 1;
            if (bytes + w > maxBytes) {
                break;
            }
            bytes += w;
            i += chars;
        }
        text.setLength(i);
    }

    /** @return the UTF-8 width of the character at {@code i} (4 for a surrogate pair) */
    private static int width(CharSequence text, int i) {
        char c = text.charAt(i);
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800) {
            return 2;
        }
        if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
            return 4;
        }
        if (Character.isSurrogate(c)) {
            return 1; // unpaired: encoded as '?'
        }
        return 3;
    }
}
