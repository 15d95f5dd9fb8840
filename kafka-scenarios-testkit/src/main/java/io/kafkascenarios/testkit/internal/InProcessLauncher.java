package io.kafkascenarios.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;

/**
 * The broker as a {@code KafkaRaftServer} inside the test JVM: fastest to start (about 2 s); it shares
 * the test JVM's heap, cannot be killed, and a fatal broker error ({@code Exit.halt}) would end the
 * test JVM.
 *
 * <p>Threads: see {@link BrokerLauncher}.
 */
public final class InProcessLauncher implements BrokerLauncher {
    /** The running server, else null. Written under the broker's lock; volatile for lock-free reads. */
    private volatile KafkaRaftServer server;

    @Override
    public void launch(BrokerFiles files, String bootstrapServers, long deadlineNanos) {
        KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(read(files.configFile()), false), Time.SYSTEM);
        try {
            s.startup();
        } catch (RuntimeException e) {
            try {
                s.shutdown();
                s.awaitShutdown();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (Ports.isBindFailure(e)) {
                throw new BindFailedException(String.valueOf(e.getMessage()), e);
            }
            throw new IllegalStateException("the in-process broker failed to start on " + bootstrapServers, e);
        }
        server = s;
    }

    private static Properties read(Path config) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(config)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + config, e);
        }
        return p;
    }

    @Override
    public void stop() {
        KafkaRaftServer s = server;
        if (s != null) {
            server = null;
            s.shutdown();
            s.awaitShutdown();
        }
    }

    @Override
    public void kill() {
        throw new UnsupportedOperationException("kill() needs the child-JVM broker (EmbeddedKafkaBroker.childJvm() or "
                + "KafkaClusterExtension.childJvm()); an in-process broker runs inside the test JVM, which a SIGKILL"
                + " would end too");
    }

    @Override
    public boolean isRunning() {
        return server != null;
    }

    @Override
    public boolean supportsFaults() {
        return false;
    }

    @Override
    public String logTail() {
        return ""; // it logs through the test JVM's logging
    }

    @Override
    public void emergencyStop() {
        // it ends with the JVM
    }
}
