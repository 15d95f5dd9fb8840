package io.kafkascenarios;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;

import io.kafkascenarios.internal.RecordSink;

/**
 * A sink that plays Kafka for unit tests: it completes records on its own "I/O" thread, and can be told
 * to block in send (broker down), to fail records, or to throw from send.
 */
final class FakeSink implements RecordSink {
    private final LinkedBlockingQueue<Pending> completions = new LinkedBlockingQueue<>();
    /** Most records incomplete at once: a bound for what may be in flight. */
    final AtomicLong maxIncomplete = new AtomicLong();

    private static final class Pending {
        final ProducerRecord<byte[], byte[]> record;
        final Callback callback;
        final Exception failure;

        Pending(ProducerRecord<byte[], byte[]> record, Callback callback, Exception failure) {
            this.record = record;
            this.callback = callback;
            this.failure = failure;
        }

        void complete(Exception failure) {
            int partition = record.partition() == null ? 0 : record.partition();
            RecordMetadata md = new RecordMetadata(new TopicPartition(record.topic(), partition), 0, 0, 0, 0, 0);
            callback.onCompletion(failure == null ? md : null, failure);
        }
    }
    private final Thread io;
    private final List<ProducerRecord<byte[], byte[]>> sent = new ArrayList<>();
    private final AtomicLong incomplete = new AtomicLong();
    /** When non-null, send() waits for a permit (interruptibly, as KafkaProducer does). */
    volatile Semaphore gate;
    /** When non-null, every record completes with this exception. */
    volatile Exception failWith;
    /** When non-null, the I/O thread waits for a permit before completing each record (acks held back). */
    volatile Semaphore ackGate;
    /** When non-null, send() queues the record's completion and then throws it (Kafka in a fatal state). */
    volatile RuntimeException throwAfterAppend;
    /** When non-null, send() throws it. */
    volatile RuntimeException throwOnSend;
    /** When false, records are kept keyed but not stored (the hammer sends millions). */
    volatile boolean keepRecords = true;
    final AtomicLong sendCalls = new AtomicLong();
    volatile boolean closed;
    /** When non-null, close() waits for it first: a real close(ZERO) joins Kafka's I/O thread. */
    volatile CountDownLatch closeGate;
    /** Counted down when close() is entered. */
    final CountDownLatch closeEntered = new CountDownLatch(1);

    FakeSink() {
        io = new Thread(() -> {
            try {
                while (true) {
                    Pending p = completions.take();
                    Semaphore acks = ackGate;
                    if (acks != null) {
                        try {
                            acks.acquire();
                        } catch (InterruptedException closing) {
                            completions.add(p); // close() aborts it with the rest
                            throw closing;
                        }
                    }
                    p.complete(p.failure);
                    incomplete.decrementAndGet();
                }
            } catch (InterruptedException e) {
                // closed
            }
        }, "fake-kafka-io");
        io.setDaemon(true);
        io.start();
    }

    @Override
    public void send(ProducerRecord<byte[], byte[]> record, Callback callback) {
        sendCalls.incrementAndGet();
        Semaphore g = gate;
        if (g != null) {
            try {
                g.acquire();
            } catch (InterruptedException e) {
                throw new InterruptException(e);
            }
        }
        RuntimeException t = throwOnSend;
        if (t != null) {
            throw t;
        }
        if (closed) {
            throw new IllegalStateException("Cannot perform operation after producer has been closed");
        }
        if (keepRecords) {
            synchronized (sent) {
                sent.add(record);
            }
        }
        long now = incomplete.incrementAndGet();
        maxIncomplete.accumulateAndGet(now, Math::max);
        completions.add(new Pending(record, callback, failWith));
        RuntimeException after = throwAfterAppend;
        if (after != null) {
            throw after;
        }
    }

    @Override
    public void flush() {
        while (incomplete.get() > 0) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptException("flush interrupted");
            }
            Thread.onSpinWait();
        }
    }

    /** Like KafkaProducer: waits up to the timeout, then aborts what is incomplete, calling back before returning. */
    @Override
    public void close(Duration timeout) {
        closeEntered.countDown();
        CountDownLatch g = closeGate;
        if (g != null) {
            try {
                g.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closed = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (incomplete.get() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        io.interrupt();
        try {
            io.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Pending p = completions.poll(); p != null; p = completions.poll()) {
            p.complete(new KafkaException("Producer is closed forcefully."));
            incomplete.decrementAndGet();
        }
    }

    List<ProducerRecord<byte[], byte[]>> sent() {
        synchronized (sent) {
            return new ArrayList<>(sent);
        }
    }

    /** Blocks every send from now on, as a broker that is down does. */
    Semaphore block() {
        Semaphore g = new Semaphore(0);
        gate = g;
        return g;
    }

    /** Lets every blocked and future send through. */
    void unblock() {
        Semaphore g = gate;
        gate = null;
        if (g != null) {
            g.release(Integer.MAX_VALUE / 2);
        }
    }

    boolean awaitIdleNow() {
        return incomplete.get() == 0;
    }

    boolean awaitIdle(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (incomplete.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        return incomplete.get() == 0;
    }
}
