package io.berth;

import io.berth.daemon.Berthd;
import io.berth.daemon.DaemonConfig;
import io.berth.daemon.DaemonConfigLoader;
import io.berth.daemon.DaemonFlags;
import java.io.PrintStream;

/**
 * The berth command: {@code berth daemon ...} runs berthd; the launcher script handles the
 * rest. Flags are parsed by hand (see {@link DaemonFlags}): picocli's reflection cost half a
 * second of every daemon start.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            usage(System.out);
            return 0;
        }
        if (args[0].equals("--version") || args[0].equals("version")) {
            System.out.println("berth " + BuildInfo.VERSION);
            return 0;
        }
        if (!args[0].equals("daemon")) {
            System.err.println("berth: unknown command \"" + args[0] + "\"");
            usage(System.err);
            return 2;
        }
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        DaemonConfigLoader.Flags flags;
        try {
            if (java.util.List.of(rest).contains("--help") || java.util.List.of(rest).contains("-h")) {
                System.out.print(DaemonFlags.USAGE);
                return 0;
            }
            flags = DaemonFlags.parse(rest);
        } catch (IllegalArgumentException e) {
            System.err.println("berthd: " + e.getMessage());
            System.err.print(DaemonFlags.USAGE);
            return 2;
        }
        return runDaemon(flags);
    }

    private static int runDaemon(DaemonConfigLoader.Flags flags) {
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
        try {
            daemon.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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

    private static void usage(PrintStream out) {
        out.println("usage: berth daemon [flags]     run berthd in the foreground (berth daemon --help)");
        out.println("       berth --version");
        out.println("The ./berth launcher also offers: up, down, test, bench, and any docker CLI command.");
    }
}
