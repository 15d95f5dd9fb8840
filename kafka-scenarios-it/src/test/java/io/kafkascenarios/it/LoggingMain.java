package io.kafkascenarios.it;

import java.nio.file.Path;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;

/**
 * A plain Java application, for {@link LogbackAppenderIT}'s shutdown-hook case: configures Logback
 * from the {@code logback.xml} it is given, logs {@code count} events, says so, and waits to be
 * terminated. Nothing here stops Logback: only the appender's own shutdown hook can flush.
 * Arguments: the configuration file, the count.
 */
public final class LoggingMain {
    private LoggingMain() {
    }

    public static void main(String[] args) throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(Path.of(args[0]).toFile());
        Logger log = context.getLogger("app.Main");
        int count = Integer.parseInt(args[1]);
        for (int i = 0; i < count; i++) {
            log.info("event {} of a plain Java application", i);
        }
        System.out.println("logged " + count);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE); // until SIGTERM
    }
}
