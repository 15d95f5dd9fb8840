package io.kafkascenarios.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ProcessorMain} in a child JVM with this JVM's {@code java} and class path, for the tests that
 * SIGKILL processors. Its output is read on a daemon thread: progress lines are parsed, the rest echoed.
 */
final class ChildProcessor {
    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private volatile boolean running;
    private volatile long processed;
    private volatile String lastProgress = "";

    private ChildProcessor(Process process) {
        this.process = process;
    }

    static ChildProcessor launch(String bootstrap, String group, String in, String out, String... jvmOptions) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC"));
        command.addAll(List.of(jvmOptions));
        String slf4jProvider = System.getProperty("slf4j.provider");
        if (slf4jProvider != null) {
            command.add("-Dslf4j.provider=" + slf4jProvider); // the test JVM's choice when several are on the class path
        }
        command.addAll(List.of(ProcessorMain.class.getName(), bootstrap, group, in, out));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        // The class path through the environment keeps a long one off the command line.
        pb.environment().put("CLASSPATH", System.getProperty("java.class.path"));
        Process p;
        try {
            p = pb.start();
            p.getOutputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + command, e);
        }
        ChildProcessor child = new ChildProcessor(p);
        Thread reader = new Thread(child::readOutput, "child-processor-" + p.pid() + "-output");
        reader.setDaemon(true);
        reader.start();
        return child;
    }

    private void readOutput() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                output.append(line).append('\n');
                if (line.startsWith(ProcessorMain.PROGRESS) || line.startsWith(ProcessorMain.RUNNING)) {
                    int at = line.indexOf("processed=");
                    processed = Long.parseLong(line.substring(at + "processed=".length(), line.indexOf(' ', at)));
                    lastProgress = line;
                } else {
                    System.out.println("[child " + process.pid() + "] " + line);
                }
                if (line.startsWith(ProcessorMain.RUNNING)) {
                    System.out.println("[child " + process.pid() + "] " + line);
                    running = true;
                }
            }
        } catch (IOException e) {
            // the child died
        }
    }

    boolean running() {
        return running;
    }

    long processed() {
        return processed;
    }

    String lastProgress() {
        return lastProgress;
    }

    boolean alive() {
        return process.isAlive();
    }

    String output() {
        return output.toString();
    }

    /** @return the partitions the child owned at its last progress line (printed every 100 ms) */
    Set<Integer> owned() {
        String line = lastProgress;
        int at = line.indexOf("partitions={");
        Set<Integer> owned = new TreeSet<>();
        if (at < 0) {
            return owned;
        }
        String map = line.substring(at + "partitions={".length(), line.indexOf('}', at));
        for (String entry : map.split(", ")) {
            if (!entry.isEmpty()) {
                owned.add(Integer.parseInt(entry.substring(0, entry.indexOf('='))));
            }
        }
        return owned;
    }

    /** SIGKILL (on Linux), then waits for the exit. Idempotent. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("child processor pid " + process.pid() + " still alive 30 s after SIGKILL");
        }
    }
}
