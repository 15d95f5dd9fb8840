package io.kafkascenarios.jmh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The side-by-side table, made from JMH's JSON result files only (no hand-copied numbers).
 *
 * <p>Every row compares this library with the raw kafka-clients call measured in the same run. The
 * ratio is always "how many times better the library is": raw/library for times and allocation,
 * library/raw for throughput. Above 1 the library wins. A ratio of means or throughputs marked
 * {@code ~} is within the noise: JMH's 99.9% confidence intervals of the two sides overlap.
 *
 * <p>Thread: single-threaded, used by {@link BenchmarkSuite#main}.
 */
public final class ResultTable {
    private static final String PKG = "io.kafkascenarios.jmh.";
    private final Map<String, JsonNode> results = new HashMap<>();
    private final List<String[]> rows = new ArrayList<>();

    private ResultTable() {
    }

    /**
     * @param files JMH JSON result files
     * @return the table
     */
    public static ResultTable fromJson(List<Path> files) {
        ResultTable table = new ResultTable();
        ObjectMapper mapper = new ObjectMapper();
        for (Path file : files) {
            try {
                if (!Files.exists(file)) {
                    continue;
                }
                for (JsonNode result : mapper.readTree(file.toFile())) {
                    table.results.put(key(result), result);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read JMH results " + file, e);
            }
        }
        table.build();
        return table;
    }

    /**
     * @return {@code Class.method}, or {@code Class.method:name=value,...} for a benchmark with
     *         {@code @Param}s, so that each parameter value keeps its own result
     */
    private static String key(JsonNode result) {
        StringBuilder key = new StringBuilder(result.get("benchmark").asText().substring(PKG.length()));
        JsonNode params = result.get("params");
        if (params != null && params.size() > 0) {
            List<String> names = new ArrayList<>();
            params.fieldNames().forEachRemaining(names::add);
            names.sort(null);
            char sep = ':';
            for (String name : names) {
                key.append(sep).append(name).append('=').append(params.get(name).asText());
                sep = ',';
            }
        }
        return key.toString();
    }

    /** A benchmark method's key in the results: the class by its symbol, so that a rename cannot orphan a row. */
    static String m(Class<?> benchmark, String method) {
        return benchmark.getSimpleName() + "." + method;
    }

    private void build() {
        for (Scenario scenario : Scenario.values()) {
            scenario.rows(this);
        }
    }

    /**
     * @return the values a parameter took in the results of one benchmark class, numerically sorted, so
     *         that a direct run with {@code -p partitions=1,2,12} gets its rows; the defaults if the class
     *         has no results (the row then says n/a)
     */
    List<String> paramValues(String benchmarkClass, String param, String... defaults) {
        TreeSet<String> values = new TreeSet<>(Comparator.comparingLong(Long::parseLong));
        String marker = ":" + param + "=";
        for (String key : results.keySet()) {
            int at = key.indexOf(marker);
            if (key.startsWith(benchmarkClass) && at > 0) {
                int end = key.indexOf(',', at);
                values.add(key.substring(at + marker.length(), end < 0 ? key.length() : end));
            }
        }
        return values.isEmpty() ? List.of(defaults) : new ArrayList<>(values);
    }

    void timeRow(String label, String library, String raw, String percentile) {
        Double lib = nanos(library, percentile);
        Double base = raw == null ? null : nanos(raw, percentile);
        String ratio = ratio(base, lib);
        if (percentile == null && overlap(library, raw)) {
            ratio = "~" + ratio; // the two means' 99.9% confidence intervals overlap
        }
        rows.add(new String[] {label, formatNanos(lib), raw == null ? "-" : formatNanos(base), ratio});
    }

    /** Whether the 99.9% confidence intervals JMH gives for two scores overlap (units are the same). */
    private boolean overlap(String a, String b) {
        JsonNode ra = b == null ? null : results.get(a);
        JsonNode rb = b == null ? null : results.get(b);
        if (ra == null || rb == null
                || !ra.get("primaryMetric").get("scoreUnit").asText().equals(rb.get("primaryMetric").get("scoreUnit").asText())) {
            return false;
        }
        JsonNode ca = ra.get("primaryMetric").get("scoreConfidence");
        JsonNode cb = rb.get("primaryMetric").get("scoreConfidence");
        if (ca == null || cb == null || !ca.get(0).isNumber() || !cb.get(0).isNumber()) {
            return false;
        }
        return ca.get(0).asDouble() <= cb.get(1).asDouble() && cb.get(0).asDouble() <= ca.get(1).asDouble();
    }

    void allocationRow(String label, String library, String raw) {
        Double lib = bytesPerOp(library);
        Double base = raw == null ? null : bytesPerOp(raw);
        rows.add(new String[] {label, formatBytes(lib), raw == null ? "-" : formatBytes(base),
                lib != null && base != null && lib < 0.5 ? "0 B vs " + formatBytes(base) : ratio(base, lib)});
    }

    /** CPU time of the whole benchmark JVM per record, from the {@code ProcessCpu} counters; lower is better. */
    void cpuRow(String label, String library, String raw) {
        Double lib = perOp(library, "processCpuNanos", "processCpuOps");
        Double base = perOp(raw, "processCpuNanos", "processCpuOps");
        // The JVM reports CPU time in 10 ms ticks: an idle raw producer can read 0, which has no ratio.
        rows.add(new String[] {label, formatNanos(lib), formatNanos(base),
                base != null && base == 0 ? "-" : ratio(base, lib)});
    }

    void acceptedRow(String label, String library) {
        JsonNode r = results.get(library);
        String share = "n/a";
        if (r != null && r.get("secondaryMetrics").get("callerAccepted") != null) {
            double accepted = r.get("secondaryMetrics").get("callerAccepted").get("score").asDouble();
            double ops = r.get("secondaryMetrics").get("callerOps").get("score").asDouble();
            share = ops == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100 * accepted / ops);
        }
        rows.add(new String[] {label, share, "-", "-"});
    }

    void throughputRow(String label, String library, String raw) {
        Double lib = score(library);
        Double base = score(raw);
        String ratio = ratio(lib, base);
        if (overlap(library, raw)) {
            ratio = "~" + ratio;
        }
        rows.add(new String[] {label, formatCount(lib), formatCount(base), ratio});
    }

    private Double score(String benchmark) {
        JsonNode r = results.get(benchmark);
        return r == null ? null : r.get("primaryMetric").get("score").asDouble();
    }

    /** Mean or a percentile of a time metric, in nanoseconds whatever unit JMH used. */
    private Double nanos(String benchmark, String percentile) {
        JsonNode r = results.get(benchmark);
        if (r == null) {
            return null;
        }
        JsonNode metric = r.get("primaryMetric");
        double value = percentile == null ? metric.get("score").asDouble()
                : metric.get("scorePercentiles").get(percentile).asDouble();
        String unit = metric.get("scoreUnit").asText();
        if (unit.startsWith("ns")) {
            return value;
        } else if (unit.startsWith("us")) {
            return value * 1e3;
        } else if (unit.startsWith("ms")) {
            return value * 1e6;
        } else if (unit.startsWith("s/")) {
            return value * 1e9;
        }
        throw new IllegalStateException("unexpected unit " + unit + " for " + benchmark);
    }

    /** Bytes the caller threads allocated per call, from the {@code CallerAllocation} counters. */
    private Double bytesPerOp(String benchmark) {
        return perOp(benchmark, "callerBytes", "callerOps");
    }

    /** One auxiliary counter divided by another, or null if either is missing or there were no ops. */
    private Double perOp(String benchmark, String counter, String ops) {
        JsonNode r = results.get(benchmark);
        if (r == null || r.get("secondaryMetrics").get(counter) == null || r.get("secondaryMetrics").get(ops) == null) {
            return null;
        }
        double total = r.get("secondaryMetrics").get(counter).get("score").asDouble();
        double count = r.get("secondaryMetrics").get(ops).get("score").asDouble();
        return count == 0 ? null : total / count;
    }

    private static String ratio(Double better, Double worse) {
        if (better == null || worse == null || worse == 0) {
            return "-";
        }
        double ratio = better / worse;
        return String.format(Locale.ROOT, ratio < 100 ? "%.1fx" : "%,.0fx", ratio);
    }

    private static String formatNanos(Double ns) {
        if (ns == null) {
            return "n/a";
        }
        if (ns >= 1e9) {
            return String.format(Locale.ROOT, "%.1f s", ns / 1e9);
        }
        if (ns >= 1e6) {
            return String.format(Locale.ROOT, "%.1f ms", ns / 1e6);
        }
        if (ns >= 1e4) {
            return String.format(Locale.ROOT, "%.1f us", ns / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f ns", ns);
    }

    private static String formatBytes(Double bytes) {
        return bytes == null ? "n/a" : String.format(Locale.ROOT, "%.1f B", bytes);
    }

    private static String formatCount(Double count) {
        return count == null ? "n/a" : String.format(Locale.ROOT, "%,.0f", count);
    }

    /** @return the table as GitHub markdown */
    public String toMarkdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| scenario | kafka-scenarios | raw kafka-clients | ratio (library advantage) |\n");
        sb.append("|---|---:|---:|---:|\n");
        for (String[] row : rows) {
            sb.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        return sb.toString();
    }
}
