package io.kafkascenarios.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * One pre-allocated ring entry: a record's routing fields and a fixed byte array holding its key,
 * value and headers.
 *
 * <p>Layout of {@link #data}: {@code [key][value][headers]}, each header as
 * {@code [int keyLength][key UTF-8][int valueLength or -1][value]}, integers big-endian.
 *
 * <p>Ownership: between claim and publish the claiming caller thread writes it; after publish only the
 * flusher reads it, until the flusher releases the sequence. No field is volatile: the ring's
 * publish/consume sequences order the writes before the reads.
 */
public final class Slot implements io.kafkascenarios.CallerHeaders.Writer {
    /** A record to send. */
    public static final int RECORD = 0;
    /** A claimed slot whose writer threw: skipped by the flusher. */
    public static final int ABORTED = 1;
    /** A flush marker: the flusher flushes Kafka when it reaches it. */
    public static final int FLUSH = 2;

    /** One of {@link #RECORD}, {@link #ABORTED}, {@link #FLUSH}. */
    public int kind;
    String topic;
    int partition;
    long timestamp;
    final byte[] data;
    int keyLength;
    int valueLength;
    int headerCount;
    int headersLength;
    final SlotValueBuffer valueBuffer;
    /** The future of a {@code send}; null for {@code offer}. */
    RecordCompletion completion;

    /**
     * @param capacity bytes of key, value and headers this slot can hold
     */
    public Slot(int capacity) {
        this.data = new byte[capacity];
        this.valueBuffer = new SlotValueBuffer(this);
    }

    /** @return bytes of key, value and headers this slot can hold */
    public int capacity() {
        return data.length;
    }

    /**
     * Bytes a record takes in a slot.
     *
     * @param key key bytes or null
     * @param value value bytes or null
     * @param headers headers or null
     * @return the encoded size
     */
    public static long encodedSize(byte[] key, byte[] value, Header[] headers) {
        long size = (key == null ? 0 : key.length) + (long) (value == null ? 0 : value.length);
        return size + headersSize(headers);
    }

    private static long headersSize(Header[] headers) {
        if (headers == null) {
            return 0;
        }
        long size = 0;
        for (Header h : headers) {
            if (h == null || h.key() == null) {
                throw new NullPointerException("header and header key must not be null");
            }
            byte[] v = h.value();
            size += 8 + Utf8.encodedLength(h.key()) + (v == null ? 0 : v.length);
        }
        return size;
    }

    /**
     * Fills this slot with a whole record. The caller has checked {@link #encodedSize} against
     * {@link #capacity()}.
     */
    public void setRecord(String topic, int partition, long timestamp, byte[] key, byte[] value, Header[] headers,
                          RecordCompletion completion) {
        this.kind = RECORD;
        this.completion = completion;
        this.topic = topic;
        this.partition = partition;
        this.timestamp = timestamp;
        int p = writeKey(key);
        if (value == null) {
            valueLength = -1;
        } else {
            System.arraycopy(value, 0, data, p, value.length);
            valueLength = value.length;
            p += value.length;
        }
        writeHeaders(headers, p);
    }

    /**
     * Starts a record whose value a writer will encode through {@link #valueBuffer()}.
     * The key must fit (checked by the caller).
     */
    public void beginRecord(String topic, int partition, long timestamp, byte[] key) {
        this.kind = RECORD;
        this.completion = null;
        this.topic = topic;
        this.partition = partition;
        this.timestamp = timestamp;
        int p = writeKey(key);
        valueLength = 0;
        headerCount = 0;
        headersLength = 0;
        valueBuffer.reset(p);
    }

    /** @return where the value starts */
    private int writeKey(byte[] key) {
        if (key == null) {
            keyLength = -1;
            return 0;
        }
        System.arraycopy(key, 0, data, 0, key.length);
        keyLength = key.length;
        return key.length;
    }

    /** Ends a record started with {@link #beginRecord}. */
    public void endRecord() {
        valueLength = valueBuffer.length();
    }

    /** @return the writer's view of this slot */
    public SlotValueBuffer valueBuffer() {
        return valueBuffer;
    }

    /** Marks this slot as a flush marker. */
    public void setFlushMarker() {
        kind = FLUSH;
        topic = null;
        completion = null;
    }

    /** Marks this slot as abandoned: the flusher skips it. */
    public void setAborted() {
        kind = ABORTED;
        topic = null;
        completion = null;
    }

    /**
     * Appends one header after the record's headers: {@code CallerHeaders} writing on the caller's
     * thread. Checks the space left, since the record's size check could not count it.
     */
    @Override
    public void add(String key, byte[] value) {
        headerEnd(putBytes(headerStart(key, value == null ? 0 : value.length), value));
    }

    @Override
    public void addUtf8(String key, CharSequence value) {
        java.util.Objects.requireNonNull(value, "header value");
        int p = headerStart(key, Utf8.encodedLength(value));
        int valueEnd = Utf8.encode(value, data, p + 4);
        putInt(data, p, valueEnd - p - 4);
        headerEnd(valueEnd);
    }

    /** Checks the space for a header and writes its key: @return where its value's length goes */
    private int headerStart(String key, int valueBytes) {
        if (key == null) {
            throw new NullPointerException("header key must not be null");
        }
        int p = Math.max(keyLength, 0) + Math.max(valueLength, 0) + headersLength;
        long needed = 8L + Utf8.encodedLength(key) + valueBytes;
        if (p + needed > data.length) {
            throw new IllegalArgumentException("header '" + key + "' for topic '" + topic + "' needs " + needed
                    + " bytes, " + (data.length - p) + " are left of the slot capacity of " + data.length
                    + " bytes; raise RingProducer.Builder.slotCapacity");
        }
        return putKey(p, key);
    }

    /** Writes a header's key, length first: @return where its value goes */
    private int putKey(int p, String key) {
        int keyStart = p + 4;
        int keyEnd = Utf8.encode(key, data, keyStart);
        putInt(data, p, keyEnd - keyStart);
        return keyEnd;
    }

    /** Writes a header's value, length first (-1 for null): @return the offset after it */
    private int putBytes(int p, byte[] value) {
        if (value == null) {
            putInt(data, p, -1);
            return p + 4;
        }
        putInt(data, p, value.length);
        System.arraycopy(value, 0, data, p + 4, value.length);
        return p + 4 + value.length;
    }

    private void headerEnd(int end) {
        headerCount++;
        headersLength = end - Math.max(keyLength, 0) - Math.max(valueLength, 0);
    }

    private void writeHeaders(Header[] headers, int offset) {
        if (headers == null || headers.length == 0) {
            headerCount = 0;
            headersLength = 0;
            return;
        }
        int p = offset;
        for (Header h : headers) {
            p = putBytes(putKey(p, h.key()), h.value());
        }
        headerCount = headers.length;
        headersLength = p - offset;
    }

    /**
     * Copies the record out of the slot. Flusher thread; allocates: the copies are handed to Kafka and kept until the record completes.
     *
     * @param outcomes settles the record when Kafka calls back
     * @return a record that shares nothing with this slot
     */
    OutgoingRecord copyOut(Outcomes outcomes) {
        int k = Math.max(keyLength, 0);
        byte[] key = keyLength < 0 ? null : Arrays.copyOfRange(data, 0, keyLength);
        byte[] value = valueLength < 0 ? null : Arrays.copyOfRange(data, k, k + valueLength);
        RecordHeaders headers = null;
        if (headerCount > 0) {
            headers = new RecordHeaders();
            int p = k + Math.max(valueLength, 0);
            for (int i = 0; i < headerCount; i++) {
                int keyLen = getInt(data, p);
                String hk = new String(data, p + 4, keyLen, StandardCharsets.UTF_8);
                p += 4 + keyLen;
                int valueLen = getInt(data, p);
                p += 4;
                byte[] hv = null;
                if (valueLen >= 0) {
                    hv = Arrays.copyOfRange(data, p, p + valueLen);
                    p += valueLen;
                }
                headers.add(hk, hv);
            }
        }
        return new OutgoingRecord(outcomes, completion, topic,
                partition < 0 ? null : partition,
                timestamp < 0 ? null : timestamp,
                key, value, headers);
    }

    static void putInt(byte[] dst, int offset, int v) {
        dst[offset] = (byte) (v >>> 24);
        dst[offset + 1] = (byte) (v >>> 16);
        dst[offset + 2] = (byte) (v >>> 8);
        dst[offset + 3] = (byte) v;
    }

    static int getInt(byte[] src, int offset) {
        return ((src[offset] & 0xFF) << 24) | ((src[offset + 1] & 0xFF) << 16)
                | ((src[offset + 2] & 0xFF) << 8) | (src[offset + 3] & 0xFF);
    }
}
