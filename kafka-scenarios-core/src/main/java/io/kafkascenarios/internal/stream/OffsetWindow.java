package io.kafkascenarios.internal.stream;

/**
 * The records of one partition fetched and not yet behind the commit point, in offset order, each
 * marked done or not: records may finish in any order, the commit point only moves over a contiguous
 * prefix of done records. Offsets need not be consecutive (compaction, transaction markers).
 *
 * <p>Threads: not thread-safe; its owner guards it.
 */
final class OffsetWindow {
    private long[] offsets = new long[64];
    private boolean[] done = new boolean[64];
    /** Index of the oldest record not yet passed, and one past the newest; both grow forever, masked. */
    private long head;
    private long tail;
    /** The next offset to commit: the first record not done, or one past the last fetched. -1 before any. */
    private long committable = -1;

    /** @param offset a fetched record's offset, greater than every one added before */
    void add(long offset) {
        if (tail - head == offsets.length) {
            grow();
        }
        int i = index(tail++);
        offsets[i] = offset;
        done[i] = false;
        if (head == tail - 1) {
            committable = offset;
        }
    }

    /**
     * Marks a record done.
     *
     * @param offset a record added and not yet passed
     * @return true if the commit point moved
     */
    boolean markDone(long offset) {
        long at = find(offset);
        if (at < 0) {
            return false; // passed already, or never added (a record of a predecessor): nothing to do
        }
        done[index(at)] = true;
        if (at != head) {
            return false;
        }
        while (head < tail && done[index(head)]) {
            committable = offsets[index(head)] + 1;
            head++;
        }
        if (head < tail) {
            committable = offsets[index(head)];
        }
        return true;
    }

    /** @return the next offset to commit: every record added before it is done; -1 if none was added */
    long committable() {
        return committable;
    }

    /** @return records added and not yet passed by the commit point (done or not) */
    int size() {
        return (int) (tail - head);
    }

    private long find(long offset) {
        long lo = head;
        long hi = tail - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            long o = offsets[index(mid)];
            if (o < offset) {
                lo = mid + 1;
            } else if (o > offset) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    private int index(long i) {
        return (int) (i & (offsets.length - 1));
    }

    private void grow() {
        int n = offsets.length;
        long[] o = new long[n * 2];
        boolean[] d = new boolean[n * 2];
        for (long i = head; i < tail; i++) {
            o[(int) (i & (2 * n - 1))] = offsets[index(i)];
            d[(int) (i & (2 * n - 1))] = done[index(i)];
        }
        offsets = o;
        done = d;
    }

    @Override
    public String toString() {
        return "OffsetWindow[" + size() + " records from " + committable + "]";
    }
}
