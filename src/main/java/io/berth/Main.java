package io.berth;

import io.berth.daemon.Berthd;
import io.berth.daemon.DaemonConfig;
import io.berth.daemon.DaemonConfigLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The berth command: `berth daemon ...` runs berthd; the launcher script handles the rest. */
@Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        subcommands = {Main.DaemonCommand.class},
        description = "A container engine that serves the Docker Engine API.")
public final class Main implements Callable<Integer> {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"berth " + BuildInfo.VERSION};
        }
    }

    @Command(name = "daemon", mixinStandardHelpOptions = true, description = "Run berthd in the foreground.")
    static final class DaemonCommand implements Callable<Integer> {
        @Option(names = "--data-root", description = "Where images, containers and volumes live (default /var/lib/berth).")
        Path dataRoot;

        @Option(names = "--exec-root", description = "Where runtime state lives (default /run/berth).")
        Path execRoot;

        @Option(names = {"-H", "--host"}, description = "unix:///path.sock or tcp://addr:port; repeatable (default unix:///run/berth/berth.sock).")
        List<String> hosts;

        @Option(names = "--tls", arity = "0..1", fallbackValue = "true", description = "Serve TCP with TLS.")
        Boolean tls;

        @Option(names = "--tlsverify", arity = "0..1", fallbackValue = "true", description = "Serve TCP with TLS and require client certificates signed by --tlscacert.")
        Boolean tlsVerify;

        @Option(names = "--tlscacert", description = "CA certificate (PEM) that signs client certificates.")
        Path tlsCaCert;

        @Option(names = "--tlscert", description = "Server certificate (PEM).")
        Path tlsCert;

        @Option(names = "--tlskey", description = "Server private key (PEM).")
        Path tlsKey;

        @Option(names = "--config-file", description = "daemon.json (default /etc/berth/daemon.json).")
        Path configFile;

        @Option(names = {"-l", "--log-level"}, description = "debug, info, warn, error or fatal.")
        String logLevel;

        @Option(names = {"-D", "--debug"}, arity = "0..1", fallbackValue = "true", description = "Debug logging.")
        Boolean debug;

        @Option(names = "--default-runtime", description = "The OCI runtime containers get when they name none.")
        String defaultRuntime;

        @Override
        public Integer call() throws Exception {
            var flags = new DaemonConfigLoader.Flags(dataRoot, execRoot, hosts, tls, tlsVerify, tlsCaCert, tlsCert, tlsKey,
                    logLevel, debug, defaultRuntime, configFile);
            DaemonConfig config;
            try {
                config = DaemonConfigLoader.load(flags);
            } catch (DaemonConfigLoader.ConfigException e) {
                System.err.println("berthd: " + e.getMessage());
                return 1;
            }
            configureLogging(config.logLevel());
            Berthd daemon;
            try {
                daemon = Berthd.start(config, flags);
            } catch (Exception e) {
                System.err.println("berthd: " + e.getMessage());
                return 1;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "berthd-shutdown"));
            Signals.onHangup(daemon::reload);
            daemon.awaitStop();
            return 0;
        }

        /** slf4j-simple reads its settings once, when the first logger is made: set them before. */
        private static void configureLogging(String level) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level.equals("fatal") ? "error" : level);
            System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
            System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
            System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
            System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        }
    }
}
