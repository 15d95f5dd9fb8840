package io.kafkascenarios.testkit.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

import kafka.tools.StorageTool;

/**
 * A test broker's files in one temporary directory: its config, its KRaft log directory (formatted
 * once; restarts never reformat) and, for a child JVM, its output.
 *
 * <p>Threads: the broker's lifecycle methods, one at a time; {@link #deleteAll} also from the JVM's
 * shutdown hook.
 */
public final class BrokerFiles {
    private static final int LOG_TAIL_LINES = 60;

    private final Path dataDir;
    private final Path kafkaLogDir;
    private final Path configFile;
    private final Path logFile;

    /** @throws IOException if the temporary directory cannot be made */
    public BrokerFiles() throws IOException {
        this.dataDir = Files.createTempDirectory("kafka-scenarios-broker-");
        this.kafkaLogDir = dataDir.resolve("kraft-logs");
        this.configFile = dataDir.resolve("server.properties");
        this.logFile = dataDir.resolve("broker.log");
    }

    /** @return the temporary directory holding everything */
    public Path dataDir() {
        return dataDir;
    }

    /** @return the KRaft log directory ({@code log.dirs}) */
    public Path kafkaLogDir() {
        return kafkaLogDir;
    }

    /** @return the broker's {@code server.properties} */
    public Path configFile() {
        return configFile;
    }

    /** @return where a child JVM's output goes */
    public Path logFile() {
        return logFile;
    }

    /**
     * @param properties the broker's config
     * @param comment the file's header comment
     */
    public void writeConfig(Properties properties, String comment) {
        try (OutputStream out = Files.newOutputStream(configFile)) {
            properties.store(out, comment);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + configFile, e);
        }
    }

    /**
     * Formats a fresh log directory, as {@code kafka-storage.sh format} does.
     *
     * @param clusterId the cluster's id
     */
    public void format(String clusterId) {
        deleteRecursively(kafkaLogDir);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", configFile.toString()}, out);
        } catch (Exception e) {
            throw new IllegalStateException("formatting " + kafkaLogDir + " failed: " + e + "\n"
                    + buf.toString(StandardCharsets.UTF_8), e);
        }
        if (rc != 0) {
            throw new IllegalStateException("formatting " + kafkaLogDir + " failed with exit code " + rc + ":\n"
                    + buf.toString(StandardCharsets.UTF_8));
        }
    }

    /** Deletes the whole directory. */
    public void deleteAll() {
        deleteRecursively(dataDir);
    }

    /**
     * @param file a log file
     * @param offset where to start
     * @return what was appended since {@code offset} (at most 64 MiB), "" if nothing
     */
    static String readSince(Path file, long offset) {
        if (!Files.exists(file)) {
            return "";
        }
        try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size <= offset) {
                return "";
            }
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - offset, 64L << 20));
            ch.position(offset);
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // fill
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(could not read " + file + ": " + e + ")";
        }
    }

    /** @return the last lines of a text */
    static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + dir, e);
        }
    }
}
