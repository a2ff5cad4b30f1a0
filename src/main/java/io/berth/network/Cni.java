package io.berth.network;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Runs CNI plugins ourselves, as the CNI spec describes: one executable a plugin of the
 * list, the command and the container in the environment, the plugin's configuration on
 * stdin (with {@code cniVersion}, {@code name}, {@code runtimeConfig} limited to the
 * plugin's capabilities, and the previous plugin's result as {@code prevResult}), the
 * result or a {@code {code, msg, details}} error on stdout.
 */
final class Cni {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Cni.class);

    static final List<Path> DEFAULT_PLUGIN_DIRS = List.of(Path.of("/usr/lib/cni"), Path.of("/opt/cni/bin"), Path.of("/usr/libexec/cni"));
    /** How long one plugin may run before it is killed; the bridge plugin takes milliseconds. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final List<Path> pluginDirs;
    private final Duration timeout;

    Cni(List<Path> pluginDirs) {
        this(pluginDirs, DEFAULT_TIMEOUT);
    }

    Cni(List<Path> pluginDirs, Duration timeout) {
        this.pluginDirs = List.copyOf(pluginDirs);
        this.timeout = timeout;
    }

    /** A plugin failed: its error code and its message, as it gave them. */
    static final class PluginException extends IOException {
        final int code;

        PluginException(String message, int code) {
            super(message);
            this.code = code;
        }
    }

    /** ADD through the whole list; the last plugin's result. A failed plugin's message is thrown. */
    JsonNode add(ObjectNode confList, String containerId, String netns, String ifName, ObjectNode runtimeConfig) throws IOException {
        JsonNode prev = null;
        for (JsonNode plugin : confList.get("plugins")) {
            JsonNode result = run("ADD", confList, plugin, containerId, netns, ifName, runtimeConfig, prev);
            if (result != null && !result.isEmpty()) prev = result;
        }
        return prev;
    }

    /** CHECK through the whole list with the cached ADD result. */
    void check(ObjectNode confList, String containerId, String netns, String ifName, ObjectNode runtimeConfig, JsonNode cached) throws IOException {
        for (JsonNode plugin : confList.get("plugins")) {
            run("CHECK", confList, plugin, containerId, netns, ifName, runtimeConfig, cached);
        }
    }

    /**
     * DEL through the list in reverse, with the cached ADD result (or none after a crash
     * during ADD). Every plugin is run even when one fails; the failures are thrown together.
     */
    void del(ObjectNode confList, String containerId, String netns, String ifName, ObjectNode runtimeConfig, JsonNode cached) throws IOException {
        List<JsonNode> plugins = new ArrayList<>();
        confList.get("plugins").forEach(plugins::add);
        List<String> failures = new ArrayList<>();
        for (JsonNode plugin : plugins.reversed()) {
            try {
                if ((netns == null || netns.isEmpty()) && isBridgeWithIpam(plugin)) {
                    // Without a namespace the bridge plugin's DEL is its IPAM plugin's DEL, with
                    // the same input: run that one directly, one process fewer per removal.
                    run("DEL", confList, plugin, plugin.path("ipam").path("type").asString(), containerId, netns, ifName, runtimeConfig, cached);
                } else {
                    run("DEL", confList, plugin, containerId, netns, ifName, runtimeConfig, cached);
                }
            } catch (IOException e) {
                failures.add(e.getMessage());
            }
        }
        if (!failures.isEmpty()) throw new IOException(String.join("; ", failures));
    }

    private static boolean isBridgeWithIpam(JsonNode plugin) {
        return plugin.path("type").asString("").equals("bridge") && !plugin.path("ipam").path("type").asString("").isEmpty()
                && !plugin.path("ipMasq").asBoolean(false);
    }

    private JsonNode run(String command, ObjectNode confList, JsonNode plugin, String containerId, String netns, String ifName,
                         ObjectNode runtimeConfig, JsonNode prevResult) throws IOException {
        return run(command, confList, plugin, plugin.get("type").asString(), containerId, netns, ifName, runtimeConfig, prevResult);
    }

    /** Runs the plugin {@code type} with {@code plugin}'s configuration (an IPAM plugin takes its main plugin's). */
    private JsonNode run(String command, ObjectNode confList, JsonNode plugin, String type, String containerId, String netns, String ifName,
                         ObjectNode runtimeConfig, JsonNode prevResult) throws IOException {
        Path exe = find(type);
        ObjectNode conf = (ObjectNode) plugin.deepCopy();
        conf.put("cniVersion", confList.get("cniVersion").asString());
        conf.put("name", confList.get("name").asString());
        ObjectNode rc = NetJson.object();
        JsonNode caps = plugin.get("capabilities");
        if (caps != null && runtimeConfig != null) {
            for (Map.Entry<String, JsonNode> cap : caps.properties()) {
                if (cap.getValue().asBoolean() && runtimeConfig.has(cap.getKey())) rc.set(cap.getKey(), runtimeConfig.get(cap.getKey()));
            }
        }
        if (!rc.isEmpty()) conf.set("runtimeConfig", rc);
        if (prevResult != null) conf.set("prevResult", prevResult);

        long started = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(exe.toString());
        Map<String, String> env = pb.environment();
        env.put("CNI_COMMAND", command);
        env.put("CNI_CONTAINERID", containerId);
        env.put("CNI_NETNS", netns == null ? "" : netns);
        env.put("CNI_IFNAME", ifName);
        env.put("CNI_PATH", pluginDirs.stream().map(Path::toString).collect(Collectors.joining(":")));
        pb.redirectErrorStream(false);
        Process p = pb.start();
        byte[] stdin = NetJson.MAPPER.writeValueAsBytes(conf);
        Thread.startVirtualThread(() -> {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin);
            } catch (IOException ignored) {
                // the plugin stopped reading; its exit status tells
            }
        });
        // Both pipes are read aside, so a plugin that hangs (or leaves a child holding its
        // stdout) cannot hold this thread past the timeout.
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread errReader = Thread.startVirtualThread(() -> drain(p.getErrorStream(), err));
        Thread outReader = Thread.startVirtualThread(() -> drain(p.getInputStream(), out));
        long deadline = started + timeout.toNanos();
        int exit;
        try {
            boolean finished = p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)
                    && outReader.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (!finished) {
                kill(p);
                throw new IOException("CNI plugin " + type + " (" + command + ") did not finish within " + timeout.toMillis() + " ms and was killed (" + exe + ")");
            }
            exit = p.exitValue();
            errReader.join(Duration.ofSeconds(1));
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running CNI plugin " + type, e);
        }
        String text = out.toString(StandardCharsets.UTF_8).trim();
        if (LOG.isDebugEnabled()) LOG.debug("CNI {} {} took {} ms", type, command, (System.nanoTime() - started) / 1_000_000);
        if (exit != 0) {
            String msg = text;
            int code = 0;
            try {
                JsonNode e = NetJson.MAPPER.readTree(text);
                code = e.path("code").asInt(0);
                msg = e.path("msg").asString("");
                String details = e.path("details").asString("");
                if (!details.isEmpty()) msg = msg + ": " + details;
            } catch (RuntimeException notJson) {
                if (msg.isEmpty()) msg = err.toString(StandardCharsets.UTF_8).trim();
            }
            throw new PluginException("plugin type=\"" + type + "\" failed (" + command.toLowerCase() + "): " + msg, code);
        }
        if (text.isEmpty() || !"ADD".equals(command)) return null;
        try {
            return NetJson.MAPPER.readTree(text);
        } catch (RuntimeException e) {
            throw new IOException("CNI plugin " + type + " printed a result that is not JSON: " + abbreviate(text));
        }
    }

    /** Kills a plugin and whatever it started (iptables, a helper), so nothing outlives the timeout. */
    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS); // reaped, not left a zombie
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Path find(String type) throws IOException {
        if (type.contains("/")) throw new IOException("invalid CNI plugin type " + type);
        for (Path dir : pluginDirs) {
            Path p = dir.resolve(type);
            if (Files.isExecutable(p)) return p;
        }
        throw new IOException("failed to find plugin \"" + type + "\" in path " + pluginDirs
                + ": install the containernetworking-plugins package");
    }

    private static void drain(InputStream in, ByteArrayOutputStream sink) {
        try (in) {
            in.transferTo(sink);
        } catch (IOException ignored) {
            // nothing more to read
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
