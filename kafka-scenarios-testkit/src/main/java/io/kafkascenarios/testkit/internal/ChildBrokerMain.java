package io.kafkascenarios.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;

/**
 * Entry point of the child JVM started by {@code EmbeddedKafkaBroker.childJvm()}; not meant to be used
 * directly. It runs one KRaft broker from an already formatted data directory.
 *
 * <p>Arguments: {@code <server.properties> <ready-token> <parent-pid> <data-dir>}. Once the broker has started
 * (it is registered and unfenced), it prints {@code READY_PREFIX + token} on stdout, which the parent
 * redirects to a log file and watches. SIGTERM shuts the broker down gracefully through a shutdown hook. When
 * the parent process dies (e.g. a SIGKILLed test JVM), the child shuts down and deletes the data directory,
 * so a crashed test run leaves neither a broker nor its files behind. If start-up fails it prints the stack
 * trace and halts with exit code 2.
 *
 * <p>Threads: {@link #main} runs on the child's main thread only.
 */
public final class ChildBrokerMain {

    /** Prefix of the readiness line printed on stdout; followed by the token given as second argument. */
    public static final String READY_PREFIX = "KAFKA-SCENARIOS-BROKER-READY ";

    private ChildBrokerMain() {
    }

    /**
     * Runs the broker until SIGTERM or the parent's death.
     *
     * @param args {@code <server.properties> <ready-token> <parent-pid> <data-dir>}
     * @throws IOException if the properties cannot be read
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: ChildBrokerMain <server.properties> <ready-token> <parent-pid> <data-dir>");
            System.exit(64);
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
            props.load(in);
        }
        String token = args[1];
        long parentPid = Long.parseLong(args[2]);
        Path dataDir = Path.of(args[3]);
        AtomicBoolean orphaned = new AtomicBoolean();

        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("kafka-scenarios child broker: shutting down");
            server.shutdown();
            server.awaitShutdown();
            System.out.println("kafka-scenarios child broker: shut down");
            System.out.flush();
            if (orphaned.get()) {
                deleteRecursively(dataDir);
            }
        }, "kafka-scenarios-broker-shutdown"));

        ProcessHandle.of(parentPid).ifPresentOrElse(
                parent -> parent.onExit().thenRun(() -> {
                    System.out.println("kafka-scenarios child broker: parent " + parentPid + " exited");
                    orphaned.set(true);
                    System.exit(0);
                }),
                () -> {
                    System.out.println("kafka-scenarios child broker: parent " + parentPid + " is gone");
                    orphaned.set(true);
                    System.exit(0);
                });

        try {
            server.startup();
        } catch (Throwable t) {
            System.out.println("kafka-scenarios child broker: start-up failed");
            t.printStackTrace(System.out);
            System.out.flush();
            // Not System.exit: the shutdown hook could block on a half-started server.
            Runtime.getRuntime().halt(2);
        }
        System.out.println(READY_PREFIX + token);
        System.out.flush();
        server.awaitShutdown();
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.out.println("kafka-scenarios child broker: could not delete " + dir + ": " + e);
        }
    }
}
