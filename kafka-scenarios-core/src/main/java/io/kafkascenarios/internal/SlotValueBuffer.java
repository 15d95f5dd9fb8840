package io.kafkascenarios.internal;

import io.kafkascenarios.ValueBuffer;

/**
 * The {@link ValueBuffer} of one slot: appends after the key, bounds-checked against the slot.
 *
 * <p>Thread: the caller thread that claimed the slot, between claim and publish.
 */
public final class SlotValueBuffer implements ValueBuffer {
    private final Slot slot;
    private final byte[] data;
    private int start;
    private int position;

    SlotValueBuffer(Slot slot) {
        this.slot = slot;
        this.data = slot.data;
    }

    void reset(int start) {
        this.start = start;
        this.position = start;
    }

    @Override
    public int length() {
        return position - start;
    }

    @Override
    public int remaining() {
        return data.length - position;
    }

    private void ensure(long bytes) {
        if (bytes > data.length - position) {
            throw overflow(bytes);
        }
    }

    private IllegalArgumentException overflow(long bytes) {
        return new IllegalArgumentException("record for topic '" + slot.topic + "' does not fit its ring slot: needs at least "
                + (position + bytes) + " bytes (key " + (start) + " + value " + (position - start + bytes)
                + "), slot capacity is " + data.length + " bytes; raise RingProducer.Builder.slotCapacity");
    }

    @Override
    public ValueBuffer put(int b) {
        ensure(1);
        data[position++] = (byte) b;
        return this;
    }

    @Override
    public ValueBuffer put(byte[] src) {
        return put(src, 0, src.length);
    }

    @Override
    public ValueBuffer put(byte[] src, int offset, int length) {
        ensure(length);
        System.arraycopy(src, offset, data, position, length);
        position += length;
        return this;
    }

    @Override
    public ValueBuffer putUtf8(CharSequence text) {
        // At most 3 bytes per char: measure exactly only when that cheap bound does not fit.
        if (3L * text.length() > data.length - position) {
            ensure(Utf8.encodedLength(text));
        }
        position = Utf8.encode(text, data, position);
        return this;
    }

    @Override
    public ValueBuffer putInt(int value) {
        ensure(4);
        Slot.putInt(data, position, value);
        position += 4;
        return this;
    }

    @Override
    public ValueBuffer putLong(long value) {
        ensure(8);
        Slot.putInt(data, position, (int) (value >>> 32));
        Slot.putInt(data, position + 4, (int) value);
        position += 8;
        return this;
    }
}
