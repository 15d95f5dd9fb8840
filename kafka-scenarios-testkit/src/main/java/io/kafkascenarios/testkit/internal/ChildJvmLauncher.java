package io.kafkascenarios.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker in a child JVM ({@link ChildBrokerMain}) started with this JVM's {@code java} binary and
 * class path: {@link #kill()} sends it SIGKILL. Its output goes to the data directory's log file, not
 * to the console. If this JVM dies, the child notices and shuts down.
 *
 * <p>Threads: see {@link BrokerLauncher}.
 */
public final class ChildJvmLauncher implements BrokerLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(ChildJvmLauncher.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final long POLL_MILLIS = 25;

    private final List<String> jvmOptions;
    /** The running child, else null. Written under the broker's lock; volatile for the shutdown hook. */
    private volatile Process process;
    private volatile Path logFile;

    /** @param jvmOptions options for the child JVM, e.g. {@code -Xmx512m} */
    public ChildJvmLauncher(List<String> jvmOptions) {
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    @Override
    public void launch(BrokerFiles files, String bootstrapServers, long deadlineNanos) {
        long started = System.nanoTime();
        Path dataDir = files.dataDir();
        logFile = files.logFile();
        String token = UUID.randomUUID().toString();
        String readyLine = ChildBrokerMain.READY_PREFIX + token;
        long logOffset;
        Path argFile = dataDir.resolve("child-classpath.args");
        Path log4jConfig = dataDir.resolve("child-log4j2.xml");
        try {
            logOffset = Files.exists(logFile) ? Files.size(logFile) : 0;
            // An argument file keeps a long class path off the command line (and out of `ps`).
            Files.writeString(argFile, "-cp\n" + quoteForArgFile(childClassPath()) + "\n", Charset.defaultCharset());
            Files.writeString(log4jConfig, CHILD_LOG4J2_XML, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare the child JVM's files in " + dataDir, e);
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-Dlog4j2.configurationFile=" + log4jConfig);
        command.add("-Dlog4j2.shutdownHookEnabled=false");
        String slf4jProvider = System.getProperty("slf4j.provider");
        if (slf4jProvider != null) {
            command.add("-Dslf4j.provider=" + slf4jProvider); // the parent's choice when several are on the class path
        }
        command.add("@" + argFile);
        command.add(ChildBrokerMain.class.getName());
        command.add(files.configFile().toString());
        command.add(token);
        command.add(Long.toString(ProcessHandle.current().pid()));
        command.add(dataDir.toString());
        Process p;
        try {
            p = new ProcessBuilder(command)
                    .directory(dataDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            p.getOutputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the child JVM: " + command, e);
        }
        process = p;
        awaitReady(p, new LogScanner(logFile, logOffset, readyLine), readyLine, logOffset, bootstrapServers,
                started, deadlineNanos);
    }

    private void awaitReady(Process p, LogScanner scanner, String readyLine, long logOffset, String bootstrapServers,
                            long started, long deadlineNanos) {
        while (true) {
            if (scanner.found()) {
                LOG.debug("child broker pid {} ready at {}", p.pid(), bootstrapServers);
                return;
            }
            if (!p.isAlive()) {
                process = null;
                String output = BrokerFiles.readSince(logFile, logOffset);
                if (output.contains(readyLine)) {
                    throw new IllegalStateException("the child broker JVM exited with code " + p.exitValue()
                            + " right after it was ready; log " + logFile + ", last lines:\n" + BrokerFiles.tail(output));
                }
                if (Ports.isBindFailure(output)) {
                    String bindLine = output.lines().filter(Ports::isBindFailure).findFirst().orElse("");
                    throw new BindFailedException(bindLine.strip() + "\n" + BrokerFiles.tail(output), null);
                }
                throw new IllegalStateException("the child broker JVM exited with code " + p.exitValue()
                        + " before it was ready (" + bootstrapServers + "); log " + logFile + ", last lines:\n"
                        + BrokerFiles.tail(output));
            }
            if (System.nanoTime() - deadlineNanos >= 0) {
                process = null;
                p.destroyForcibly();
                throw new IllegalStateException("the child broker JVM (pid " + p.pid() + ") was not ready "
                        + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + " s after it was launched,"
                        + " at the start deadline; killed it. Log " + logFile
                        + ", last lines:\n" + BrokerFiles.tail(BrokerFiles.readSince(logFile, logOffset)));
            }
            pause(POLL_MILLIS);
        }
    }

    /** SIGTERM, then waits for the exit (SIGKILL after 30 s). */
    @Override
    public void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        p.destroy();
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("child broker pid {} did not stop within {}; killing it", p.pid(), STOP_TIMEOUT);
                p.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the broker", e);
        }
    }

    /** {@code Process.destroyForcibly()} (SIGKILL), then {@code waitFor()}. */
    @Override
    public void kill() {
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the killed broker to exit", e);
        }
    }

    @Override
    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    @Override
    public boolean supportsFaults() {
        return true;
    }

    @Override
    public String logTail() {
        Path f = logFile;
        if (f == null || !Files.exists(f)) {
            return "";
        }
        return "; log " + f + ", last lines:\n" + BrokerFiles.tail(BrokerFiles.readSince(f, 0));
    }

    @Override
    public void emergencyStop() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the broker", e);
        }
    }

    /**
     * This JVM's class path with every entry made absolute: the child runs in the data directory. Under
     * Surefire/Failsafe {@code java.class.path} is the real test class path (with a manifest-only booter jar
     * it would be that jar, whose Class-Path manifest entry the child's class loader follows as well).
     */
    private static String childClassPath() {
        String cp = System.getProperty("java.class.path", "");
        List<String> entries = new ArrayList<>();
        for (String entry : cp.split(java.io.File.pathSeparator)) {
            if (!entry.isBlank()) {
                entries.add(Path.of(entry).toAbsolutePath().toString());
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static String quoteForArgFile(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** Looks for one line in a growing file, reading only what was appended since the last call. */
    private static final class LogScanner {
        private final Path file;
        private final String needle;
        private long position;
        private String carry = "";

        LogScanner(Path file, long offset, String needle) {
            this.file = file;
            this.position = offset;
            this.needle = needle;
        }

        boolean found() {
            if (!Files.exists(file)) {
                return false;
            }
            try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size <= position) {
                    return false;
                }
                ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - position, 16L << 20));
                ch.position(position);
                while (buf.hasRemaining() && ch.read(buf) > 0) {
                    // fill
                }
                position += buf.position();
                // ISO-8859-1 maps bytes 1:1, so a chunk boundary never splits the (ASCII) needle's characters
                String text = carry + new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1);
                if (text.contains(needle)) {
                    return true;
                }
                carry = text.substring(Math.max(0, text.length() - needle.length()));
                return false;
            } catch (IOException e) {
                return false;
            }
        }
    }

    /** The child's log4j2 configuration (used only if log4j-core is on the class path): INFO to stdout. */
    private static final String CHILD_LOG4J2_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Configuration status="WARN">
              <Appenders>
                <Console name="out" target="SYSTEM_OUT">
                  <PatternLayout pattern="%d{HH:mm:ss.SSS} %-5level [%t] %c{1.} - %msg%n"/>
                </Console>
              </Appenders>
              <Loggers>
                <Root level="INFO">
                  <AppenderRef ref="out"/>
                </Root>
              </Loggers>
            </Configuration>
            """;
}
