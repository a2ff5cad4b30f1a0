package io.berth;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version this build reports in /version and /info. */
public final class BuildInfo {
    public static final String VERSION = load();

    /**
     * The version /version and /info report: the dockerd release whose API (1.41) Berth
     * serves, then Berth's own. Clients such as Testcontainers refuse servers that report a
     * version below Docker 1.6, which Berth's own 0.x would be.
     */
    public static final String ENGINE_VERSION = "20.10.0-berth-" + VERSION;

    private BuildInfo() {}

    private static String load() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("version.properties")) {
            if (in == null) return "dev";
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "dev");
            return v.startsWith("${") ? "dev" : v;
        } catch (IOException e) {
            return "dev";
        }
    }
}
