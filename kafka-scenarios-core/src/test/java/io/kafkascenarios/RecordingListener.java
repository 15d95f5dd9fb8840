package io.kafkascenarios;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/** Keeps every event and the thread it arrived on. */
final class RecordingListener implements RingProducerListener {
    final List<FailureReport> failures = new CopyOnWriteArrayList<>();
    final List<BlockingReport> blocking = new CopyOnWriteArrayList<>();
    final AtomicLong discarded = new AtomicLong();
    final AtomicLong discardCalls = new AtomicLong();
    final List<String> threads = new CopyOnWriteArrayList<>();

    @Override
    public void onFailed(FailureReport report) {
        threads.add(Thread.currentThread().getName());
        failures.add(report);
    }

    @Override
    public void onDiscarded(long n, long total) {
        threads.add(Thread.currentThread().getName());
        discarded.addAndGet(n);
        discardCalls.incrementAndGet();
    }

    @Override
    public void onBlocked(BlockingReport report) {
        threads.add(Thread.currentThread().getName());
        blocking.add(report);
    }

    long failedCount() {
        return failures.stream().mapToLong(FailureReport::count).sum();
    }
}
