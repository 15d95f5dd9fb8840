package io.kafkascenarios.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Free ports on the loopback address, and how a bind failure looks. Any thread. */
public final class Ports {
    /** Where test brokers listen. */
    public static final String HOST = "127.0.0.1";

    private Ports() {
    }

    /**
     * @param count how many
     * @return ports free a moment ago (another process may take one before the broker binds it)
     */
    public static int[] free(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName(HOST));
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("could not find free ports on " + HOST, e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // released either way
                }
            }
        }
    }

    /** @return true if {@code port} can be bound now */
    public static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** @return true if the failure, or a cause, is a failed bind */
    public static boolean isBindFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BindException || (c.getMessage() != null && isBindFailure(c.getMessage()))) {
                return true;
            }
        }
        return false;
    }

    /** @return true if a log text reports a failed bind */
    public static boolean isBindFailure(String text) {
        return text.contains("Address already in use") || text.contains("java.net.BindException")
                || text.contains("failed to bind");
    }
}
