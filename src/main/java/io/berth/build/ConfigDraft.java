package io.berth.build;

import io.berth.image.ImageConfig;
import io.berth.image.ImageConfig.ContainerConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A stage's image config while instructions change it; {@link #build()} gives the immutable form. */
final class ConfigDraft {
    private final ContainerConfig base;
    String user;
    Map<String, Map<String, Object>> exposedPorts;
    List<String> env;
    List<String> cmd;
    ImageConfig.HealthConfig healthcheck;
    Boolean argsEscaped;
    Map<String, Map<String, Object>> volumes;
    String workingDir;
    List<String> entrypoint;
    List<String> onBuild;
    Map<String, String> labels;
    String stopSignal;
    List<String> shell;

    private ConfigDraft(ContainerConfig c) {
        base = c;
        user = c.user();
        exposedPorts = c.exposedPorts() == null ? null : new LinkedHashMap<>(c.exposedPorts());
        env = c.env() == null ? null : new ArrayList<>(c.env());
        cmd = c.cmd();
        healthcheck = c.healthcheck();
        argsEscaped = c.argsEscaped();
        volumes = c.volumes() == null ? null : new LinkedHashMap<>(c.volumes());
        workingDir = c.workingDir();
        entrypoint = c.entrypoint();
        onBuild = c.onBuild() == null ? null : new ArrayList<>(c.onBuild());
        labels = c.labels() == null ? null : new LinkedHashMap<>(c.labels());
        stopSignal = c.stopSignal();
        shell = c.shell();
    }

    /**
     * Most characters the variable parts of a config may hold (env, labels, command lines,
     * ONBUILD): a config is read whole by every listing of images, so an ARG chain that
     * expands to megabytes must fail the build rather than every later {@code docker images}.
     */
    static final int MAX_CONFIG_CHARS = 1 << 20;

    /** Refuses a config grown past {@link #MAX_CONFIG_CHARS}. */
    void checkSize() throws BuildException {
        long total = chars(env) + chars(cmd) + chars(entrypoint) + chars(onBuild) + chars(shell);
        if (labels != null) {
            for (Map.Entry<String, String> e : labels.entrySet()) total += e.getKey().length() + e.getValue().length();
        }
        if (total > MAX_CONFIG_CHARS) {
            throw new BuildException("the image config would exceed " + MAX_CONFIG_CHARS
                    + " characters of env, labels and commands (" + total + ")");
        }
    }

    private static long chars(List<String> words) {
        long n = 0;
        if (words != null) for (String w : words) n += w.length();
        return n;
    }

    static ConfigDraft of(ContainerConfig c) {
        return new ConfigDraft(c == null ? ContainerConfig.empty() : c);
    }

    ContainerConfig build() {
        return new ContainerConfig(base.hostname(), base.domainname(), emptyToNull(user), base.attachStdin(), base.attachStdout(),
                base.attachStderr(), exposedPorts == null || exposedPorts.isEmpty() ? null : new java.util.TreeMap<>(exposedPorts),
                base.tty(), base.openStdin(), base.stdinOnce(), env == null ? null : List.copyOf(env), cmd, healthcheck, argsEscaped,
                null, volumes == null || volumes.isEmpty() ? null : new java.util.TreeMap<>(volumes), emptyToNull(workingDir), entrypoint,
                onBuild == null || onBuild.isEmpty() ? null : List.copyOf(onBuild),
                labels == null || labels.isEmpty() ? null : new java.util.TreeMap<>(labels), emptyToNull(stopSignal),
                base.stopTimeout(), shell == null || shell.isEmpty() ? null : List.copyOf(shell));
    }

    /** The ENV in force as a map (later entries win). */
    Map<String, String> envMap() {
        Map<String, String> m = new LinkedHashMap<>();
        if (env == null) return m;
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq < 0) m.put(kv, ""); else m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }

    void setEnv(String key, String value) {
        if (env == null) env = new ArrayList<>();
        String kv = key + "=" + value;
        for (int i = 0; i < env.size(); i++) {
            String e = env.get(i);
            if (e.equals(key) || e.startsWith(key + "=")) {
                env.set(i, kv);
                return;
            }
        }
        env.add(kv);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
