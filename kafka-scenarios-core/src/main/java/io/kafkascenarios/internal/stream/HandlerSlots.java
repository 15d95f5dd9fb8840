package io.kafkascenarios.internal.stream;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The processor-wide limit on handler calls at once ({@code maxConcurrency}) for the key and unordered
 * orderings: a partition takes a slot per call and gives it back when the handler returned (not when
 * Kafka acknowledged: a call waiting for its acknowledgement holds no slot). A partition that found no
 * slot queues itself and is pumped again when one frees.
 *
 * <p>Threads: any; lock-free. A partition that queues itself re-tries once afterwards, so a slot freed
 * between its failed try and its queueing is never missed.
 */
final class HandlerSlots {
    private final int max;
    private final AtomicInteger inUse = new AtomicInteger();
    private final ConcurrentLinkedQueue<ConcurrentPartition> waiting = new ConcurrentLinkedQueue<>();

    HandlerSlots(int max) {
        this.max = max;
    }

    /** @return true if a slot was taken */
    boolean tryAcquire() {
        int n;
        do {
            n = inUse.get();
            if (n >= max) {
                return false;
            }
        } while (!inUse.compareAndSet(n, n + 1));
        return true;
    }

    /** Queues a partition to be pumped when a slot frees. */
    void await(ConcurrentPartition p) {
        waiting.add(p);
    }

    /** Gives a slot back and pumps waiting partitions while slots are free. */
    void release() {
        inUse.decrementAndGet();
        ConcurrentPartition p;
        while (inUse.get() < max && (p = waiting.poll()) != null) {
            p.slotFreed();
        }
    }

    /** @return calls holding a slot now */
    int inUse() {
        return inUse.get();
    }
}
