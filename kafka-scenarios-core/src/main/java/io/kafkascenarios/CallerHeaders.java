package io.kafkascenarios;

/**
 * Adds headers to every record on the caller's thread, inside {@code offer}, {@code offerWith},
 * {@code send} and {@code sendAll}, after the record's own headers and before it is published: for
 * what lives on the caller's thread and must travel with the record, such as a trace context.
 * {@code KafkaProducer.send} runs on the flusher thread here, so instrumentation that writes headers
 * there (OpenTelemetry's producer interceptor, its Java agent) sees the flusher's context, not the
 * caller's. With no {@code CallerHeaders} set, publishing pays nothing for this.
 *
 * <pre>{@code
 * RingProducer producer = RingProducer.builder(config)
 *         .callerHeaders((topic, headers) -> headers.add("tenant", Tenant.current().idBytes()))
 *         .build();
 * }</pre>
 *
 * <p>Threads: called on the caller's thread, once per record, while the caller holds a claimed slot:
 * keep it short and never block (other callers may wait for the flusher, which waits for this slot).
 * If it throws, the record is not offered (not counted) and the exception reaches the caller, as a
 * {@link RecordWriter}'s does. Headers that do not fit the slot's remaining capacity are refused the
 * same way, with an {@link IllegalArgumentException} naming the header.
 */
@FunctionalInterface
public interface CallerHeaders {
    /**
     * @param topic the record's topic
     * @param headers where to add the headers; valid only during this call
     */
    void addTo(String topic, Writer headers);

    /** Appends headers into the record's slot. Caller thread, during {@link #addTo} only. */
    interface Writer {
        /**
         * @param key the header's key, not null
         * @param value its value, or null
         * @throws IllegalArgumentException if the header does not fit what is left of the slot
         */
        void add(String key, byte[] value);

        /**
         * Adds a header whose value is {@code value} encoded as UTF-8 straight into the slot (no
         * intermediate array).
         *
         * @param key the header's key, not null
         * @param value its value, not null
         * @throws IllegalArgumentException if the header does not fit what is left of the slot
         */
        void addUtf8(String key, CharSequence value);
    }
}
