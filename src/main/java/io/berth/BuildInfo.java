package io.berth;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version this build reports in /version and /info. */
public final class BuildInfo {
    public static final String VERSION = load();

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
