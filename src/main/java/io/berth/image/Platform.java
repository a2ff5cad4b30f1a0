package io.berth.image;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * An OCI platform: where an image runs. {@link #normalize()} gives the canonical spelling
 * ({@code x86_64} is {@code amd64}, {@code aarch64} is {@code arm64}, {@code arm64/v8} is
 * {@code arm64} with no variant, {@code arm} alone is {@code arm/v7}).
 */
public record Platform(
        String architecture,
        String os,
        @JsonProperty("os.version") String osVersion,
        @JsonProperty("os.features") List<String> osFeatures,
        String variant,
        List<String> features) {

    public Platform {
        osFeatures = osFeatures == null ? null : List.copyOf(osFeatures);
        features = features == null ? null : List.copyOf(features);
    }

    public static Platform of(String os, String architecture, String variant) {
        return new Platform(architecture, os, null, null, emptyToNull(variant), null);
    }

    /** Parses {@code os/arch[/variant]}, as in {@code --platform linux/arm64/v8}. */
    public static Platform parse(String text) {
        String[] parts = text.trim().split("/", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty() || (parts.length == 3 && parts[2].isEmpty())) {
            throw new IllegalArgumentException("invalid platform \"" + text + "\": want os/arch[/variant], e.g. linux/amd64 or linux/arm/v7");
        }
        return of(parts[0].toLowerCase(Locale.ROOT), parts[1].toLowerCase(Locale.ROOT), parts.length == 3 ? parts[2].toLowerCase(Locale.ROOT) : null).normalize();
    }

    /** This machine: linux and the JVM's architecture, normalised. */
    public static Platform host() {
        return of("linux", System.getProperty("os.arch"), null).normalize();
    }

    /** The canonical spelling of this platform (see the class comment). */
    public Platform normalize() {
        String o = os == null ? null : os.toLowerCase(Locale.ROOT);
        if ("macos".equals(o)) o = "darwin";
        String a = architecture == null ? null : architecture.toLowerCase(Locale.ROOT);
        String v = variant == null || variant.isEmpty() ? null : variant.toLowerCase(Locale.ROOT);
        if (a != null) {
            switch (a) {
                case "x86_64", "x86-64", "amd64" -> {
                    a = "amd64";
                    if ("v1".equals(v)) v = null;
                }
                case "aarch64", "arm64" -> {
                    a = "arm64";
                    if (v != null) {
                        switch (v) {
                            case "8", "v8", "v8.0" -> v = null;
                            case "9", "9.0", "v9.0" -> v = "v9";
                            default -> { }
                        }
                    }
                }
                case "armhf" -> { a = "arm"; v = "v7"; }
                case "armel" -> { a = "arm"; v = "v6"; }
                case "arm" -> {
                    if (v == null || v.equals("7")) v = "v7";
                    else if (v.matches("[5-8]")) v = "v" + v;
                }
                case "i386", "i486", "i586", "i686", "x86", "386" -> a = "386";
                case "loongarch64" -> a = "loong64";
                case "mips64el" -> a = "mips64le";
                default -> { }
            }
        }
        return new Platform(a, o, osVersion, osFeatures, v, features);
    }

    /** {@code linux/arm64}, {@code linux/arm/v7}. */
    @Override
    public String toString() {
        String s = Objects.toString(os, "unknown") + "/" + Objects.toString(architecture, "unknown");
        return variant == null || variant.isEmpty() ? s : s + "/" + variant;
    }

    /** {@link #toString()} plus the OS version when there is one (Windows images). */
    @JsonIgnore
    public String describe() {
        return osVersion == null || osVersion.isEmpty() ? toString() : toString() + " (os.version " + osVersion + ")";
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
