package io.kafkascenarios.internal.stream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One partition's batches in flight: the worker handles the next batch while up to
 * {@code maxInFlightBatches} earlier ones wait for their acknowledgements, so that the producer's
 * {@code linger.ms} and the round trip overlap with handling. Batches complete strictly in offset
 * order. On any failure everything in flight settles first, then the failed batch (and each later one)
 * goes through {@link Attempts#process}, synchronously.
 *
 * <p>Threads: the worker thread that runs the partition, only; it outlives a turn on the pool, so what
 * is in flight stays in flight across turns.
 */
final class Pipeline {
    private final Attempts attempts;
    private final WorkerScope scope;
    private final PartitionProgress progress;
    private final int maxInFlight;
    /** Batches handled whose outputs are not yet all acknowledged, oldest first. */
    private final ArrayDeque<Attempts.InFlight> inFlight = new ArrayDeque<>();

    Pipeline(Attempts attempts, WorkerScope scope, PartitionProgress progress, int maxInFlight) {
        this.attempts = attempts;
        this.scope = scope;
        this.progress = progress;
        this.maxInFlight = maxInFlight;
    }

    /** @return true if no more batch may go in flight before the oldest settles */
    boolean full() {
        return inFlight.size() >= maxInFlight;
    }

    boolean isEmpty() {
        return inFlight.isEmpty();
    }

    /** Drops what is in flight: its offsets stay uncommitted and the next owner redoes them. */
    void clear() {
        inFlight.clear();
    }

    /**
     * The first attempt of a batch, pipelined: handle it, send its outputs and go on to the next batch
     * without waiting for the acknowledgement. Any failure falls back to {@link Attempts#process},
     * after everything in flight has settled.
     *
     * @return false if the partition must stop taking batches
     */
    boolean dispatch(List<ConsumerRecord<byte[], byte[]>> batch) {
        Attempts.InFlight handled;
        try {
            handled = attempts.handleAndSend(batch);
        } catch (Throwable t) {
            Throwable failure = attempts.abandonedOr(t);
            if (failure == Attempts.ABANDONED) {
                return false;
            }
            if (failure instanceof Error) {
                // Stop now, not after settling: the batches in flight stay uncommitted and are redone.
                return attempts.stop(batch.get(0), 1, failure);
            }
            boolean rejected = attempts.outputRejected();
            attempts.outputRejected(false); // settling may run attempts of earlier batches: not theirs
            if (!settleAll()) {
                return false;
            }
            attempts.outputRejected(rejected);
            return attempts.process(batch, 1, failure);
        }
        inFlight.add(handled);
        progress.awaiting(batch.get(batch.size() - 1).offset() + 1, handled.acked());
        return true;
    }

    /**
     * Completes in-flight batches from the oldest while their outputs are acknowledged. If the oldest
     * failed, every batch in flight is redone in order after the rest settled: their outputs may be
     * produced twice (a key's outputs can read v1 v2 v1 v2), none is lost and none skips a record.
     *
     * @param wait wait for the oldest batch if it is not done yet
     * @return false if the partition must stop taking batches
     */
    boolean settle(boolean wait) {
        Attempts.InFlight head;
        while ((head = inFlight.peek()) != null && (wait || head.acked().isDone())) {
            Throwable failure = attempts.await(head.acked());
            if (failure == null) {
                inFlight.poll();
                attempts.acknowledged(head);
                wait = false;
                continue;
            }
            if (failure == Attempts.ABANDONED) {
                return false;
            }
            return redo(new Attempts.OutputFailed(failure));
        }
        return true;
    }

    private boolean redo(Attempts.OutputFailed failure) {
        List<Attempts.InFlight> redo = new ArrayList<>(inFlight);
        inFlight.clear();
        for (Attempts.InFlight f : redo) {
            if (attempts.await(f.acked()) == Attempts.ABANDONED) {
                return false;
            }
        }
        if (!attempts.process(redo.get(0).records(), 1, failure)) {
            return false;
        }
        for (int i = 1; i < redo.size(); i++) {
            if (scope.winding() || !attempts.process(redo.get(i).records(), 1, null)) {
                return false; // the rest stays uncommitted: the next turn or owner redoes it
            }
        }
        return true;
    }

    /** Waits for every batch in flight: @return false if the partition must stop */
    boolean settleAll() {
        while (!inFlight.isEmpty()) {
            if (!settle(true)) {
                return false;
            }
        }
        return true;
    }
}
