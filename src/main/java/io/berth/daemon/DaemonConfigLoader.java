package io.berth.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Merges command-line flags with daemon.json as dockerd does: an option may come from
 * either place but not both, and an unknown key in the file is an error.
 */
public final class DaemonConfigLoader {
    static final Set<String> KNOWN_KEYS = Set.of(
            "data-root", "exec-root", "hosts", "tls", "tlsverify", "tlscacert", "tlscert", "tlskey",
            "log-level", "debug", "default-runtime", "runtimes", "insecure-registries", "registry-mirrors", "registry-host-mirrors",
            "default-address-pools", "labels", "max-concurrent-downloads", "max-concurrent-uploads",
            "live-restore", "storage-driver", "log-driver", "log-opts",
            "bridge", "bip", "fixed-cidr", "iptables", "ip-masq", "ip-forward", "cri-socket");

    /** Jackson costs a few hundred milliseconds to start: only a daemon.json with content pays it. */
    private static final class Holder {
        static final JsonMapper JSON = JsonMapper.builder().build();
    }

    private DaemonConfigLoader() {}

    /** Flags as given on the command line; null means "not given". */
    public record Flags(
            Path dataRoot, Path execRoot, List<String> hosts, Boolean tls, Boolean tlsVerify, Path tlsCaCert,
            Path tlsCert, Path tlsKey, String logLevel, Boolean debug, String defaultRuntime, Path configFile,
            String bridge, String bip, String fixedCidr, Boolean iptables, Boolean ipMasq, Boolean ipForward,
            String criSocket) {
        public Flags(Path dataRoot, Path execRoot, List<String> hosts, Boolean tls, Boolean tlsVerify, Path tlsCaCert,
                     Path tlsCert, Path tlsKey, String logLevel, Boolean debug, String defaultRuntime, Path configFile,
                     String bridge, String bip, String fixedCidr, Boolean iptables, Boolean ipMasq, Boolean ipForward) {
            this(dataRoot, execRoot, hosts, tls, tlsVerify, tlsCaCert, tlsCert, tlsKey, logLevel, debug, defaultRuntime, configFile,
                    bridge, bip, fixedCidr, iptables, ipMasq, ipForward, null);
        }

        public Flags(Path dataRoot, Path execRoot, List<String> hosts, Boolean tls, Boolean tlsVerify, Path tlsCaCert,
                     Path tlsCert, Path tlsKey, String logLevel, Boolean debug, String defaultRuntime, Path configFile) {
            this(dataRoot, execRoot, hosts, tls, tlsVerify, tlsCaCert, tlsCert, tlsKey, logLevel, debug, defaultRuntime, configFile,
                    null, null, null, null, null, null, null);
        }
    }

    public static DaemonConfig load(Flags flags) throws ConfigException {
        boolean explicitFile = flags.configFile() != null;
        Path file = explicitFile ? flags.configFile() : DaemonConfig.DEFAULT_CONFIG_FILE;
        JsonNode json = readFile(file, explicitFile);
        return merge(flags, json, json == null ? null : file);
    }

    static DaemonConfig merge(Flags flags, JsonNode json, Path file) throws ConfigException {
        Map<String, JsonNode> fromFile = new LinkedHashMap<>();
        if (json != null) {
            if (!json.isObject()) throw new ConfigException("configuration file " + file + " must hold a JSON object");
            Set<String> unknown = new TreeSet<>();
            for (Map.Entry<String, JsonNode> e : json.properties()) {
                if (!KNOWN_KEYS.contains(e.getKey())) unknown.add(e.getKey());
                fromFile.put(e.getKey(), e.getValue());
            }
            if (!unknown.isEmpty()) {
                throw new ConfigException("the following directives don't match any configuration option: " + String.join(", ", unknown));
            }
        }
        List<String> conflicts = new ArrayList<>();
        conflict(conflicts, "data-root", flags.dataRoot(), fromFile);
        conflict(conflicts, "exec-root", flags.execRoot(), fromFile);
        conflict(conflicts, "hosts", flags.hosts() == null || flags.hosts().isEmpty() ? null : flags.hosts(), fromFile);
        conflict(conflicts, "tls", flags.tls(), fromFile);
        conflict(conflicts, "tlsverify", flags.tlsVerify(), fromFile);
        conflict(conflicts, "tlscacert", flags.tlsCaCert(), fromFile);
        conflict(conflicts, "tlscert", flags.tlsCert(), fromFile);
        conflict(conflicts, "tlskey", flags.tlsKey(), fromFile);
        conflict(conflicts, "log-level", flags.logLevel(), fromFile);
        conflict(conflicts, "debug", flags.debug(), fromFile);
        conflict(conflicts, "default-runtime", flags.defaultRuntime(), fromFile);
        conflict(conflicts, "bridge", flags.bridge(), fromFile);
        conflict(conflicts, "bip", flags.bip(), fromFile);
        conflict(conflicts, "fixed-cidr", flags.fixedCidr(), fromFile);
        conflict(conflicts, "iptables", flags.iptables(), fromFile);
        conflict(conflicts, "ip-masq", flags.ipMasq(), fromFile);
        conflict(conflicts, "ip-forward", flags.ipForward(), fromFile);
        conflict(conflicts, "cri-socket", flags.criSocket(), fromFile);
        if (!conflicts.isEmpty()) {
            throw new ConfigException("the following directives are specified both as a flag and in the configuration file: "
                    + String.join(", ", conflicts));
        }

        String storageDriver = text(fromFile, "storage-driver", "overlay2");
        if (!storageDriver.equals("overlay2")) {
            throw new ConfigException("storage-driver \"" + storageDriver + "\" is not supported: berthd uses overlay2");
        }
        String logDriver = text(fromFile, "log-driver", "json-file");
        if (!logDriver.equals("json-file") && !logDriver.equals("k8s-file")) {
            throw new ConfigException("log-driver \"" + logDriver + "\" is not supported: berthd keeps json-file logs");
        }

        Path dataRoot = pick(flags.dataRoot(), path(fromFile, "data-root"), DaemonConfig.DEFAULT_DATA_ROOT);
        Path execRoot = pick(flags.execRoot(), path(fromFile, "exec-root"), DaemonConfig.DEFAULT_EXEC_ROOT);
        List<String> hosts = flags.hosts() != null && !flags.hosts().isEmpty() ? flags.hosts() : strings(fromFile, "hosts");
        if (hosts.isEmpty()) hosts = List.of(DaemonConfig.DEFAULT_HOST);
        boolean tlsVerify = pick(flags.tlsVerify(), bool(fromFile, "tlsverify"), false);
        boolean tls = pick(flags.tls(), bool(fromFile, "tls"), false) || tlsVerify;

        Map<String, DaemonConfig.RuntimeEntry> runtimes = new LinkedHashMap<>();
        JsonNode rt = fromFile.get("runtimes");
        if (rt != null) {
            if (!rt.isObject()) throw new ConfigException("\"runtimes\" must be an object of {\"path\": ...} entries");
            for (Map.Entry<String, JsonNode> e : rt.properties()) {
                JsonNode p = e.getValue().get("path");
                if (p == null || !p.isString() || p.asString().isEmpty()) {
                    throw new ConfigException("runtime \"" + e.getKey() + "\" needs a \"path\"");
                }
                List<String> args = new ArrayList<>();
                JsonNode a = e.getValue().get("runtimeArgs");
                if (a != null) a.forEach(x -> args.add(x.asString()));
                runtimes.put(e.getKey(), new DaemonConfig.RuntimeEntry(p.asString(), args));
            }
        }
        List<DaemonConfig.AddressPool> pools = new ArrayList<>();
        JsonNode poolsJson = fromFile.get("default-address-pools");
        if (poolsJson != null) {
            for (JsonNode p : poolsJson) {
                if (!p.has("base") || !p.has("size")) throw new ConfigException("each default-address-pools entry needs \"base\" and \"size\"");
                pools.add(new DaemonConfig.AddressPool(p.get("base").asString(), p.get("size").asInt()));
            }
        }
        String logLevel = pick(flags.logLevel(), textOrNull(fromFile, "log-level"), "info");
        if (!Set.of("debug", "info", "warn", "error", "fatal").contains(logLevel)) {
            throw new ConfigException("unable to parse logging level: " + logLevel + " (want debug, info, warn, error or fatal)");
        }
        boolean debug = pick(flags.debug(), bool(fromFile, "debug"), false);
        io.berth.network.DefaultBridge bridge;
        try {
            bridge = io.berth.network.DefaultBridge.of(
                    pick(flags.bridge(), textOrNull(fromFile, "bridge"), null),
                    pick(flags.bip(), textOrNull(fromFile, "bip"), null),
                    pick(flags.fixedCidr(), textOrNull(fromFile, "fixed-cidr"), null),
                    pick(flags.iptables(), bool(fromFile, "iptables"), null),
                    pick(flags.ipMasq(), bool(fromFile, "ip-masq"), null),
                    pick(flags.ipForward(), bool(fromFile, "ip-forward"), null));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        // The CRI listens by default; an empty value (flag or file) turns it off.
        String cri = pick(flags.criSocket(), textOrNull(fromFile, "cri-socket"), null);
        Path criSocket = cri == null ? DaemonConfig.defaultCriSocket(execRoot.toAbsolutePath().normalize())
                : cri.isEmpty() ? null : Path.of(cri.startsWith("unix://") ? cri.substring("unix://".length()) : cri).toAbsolutePath().normalize();
        return new DaemonConfig(
                dataRoot.toAbsolutePath().normalize(),
                execRoot.toAbsolutePath().normalize(),
                hosts,
                tls,
                tlsVerify,
                pick(flags.tlsCaCert(), path(fromFile, "tlscacert"), null),
                pick(flags.tlsCert(), path(fromFile, "tlscert"), null),
                pick(flags.tlsKey(), path(fromFile, "tlskey"), null),
                debug ? "debug" : logLevel,
                debug,
                pick(flags.defaultRuntime(), textOrNull(fromFile, "default-runtime"), null),
                runtimes,
                strings(fromFile, "insecure-registries"),
                strings(fromFile, "registry-mirrors"),
                hostMirrors(fromFile),
                pools,
                strings(fromFile, "labels"),
                fromFile.containsKey("max-concurrent-downloads") ? fromFile.get("max-concurrent-downloads").asInt() : 3,
                fromFile.containsKey("max-concurrent-uploads") ? fromFile.get("max-concurrent-uploads").asInt() : 5,
                file,
                logDriver,
                logOpts(fromFile),
                bridge,
                criSocket);
    }

    /**
     * "registry-host-mirrors": {"registry.k8s.io": ["http://127.0.0.1:5000"], ...}: mirrors tried
     * before a registry other than Docker Hub (whose mirrors are "registry-mirrors"), as
     * containerd's hosts.toml or registries.conf give them; kubelet's images come from several.
     */
    private static Map<String, List<String>> hostMirrors(Map<String, JsonNode> json) throws ConfigException {
        JsonNode n = json.get("registry-host-mirrors");
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) return out;
        String shape = "\"registry-host-mirrors\" must map registry hosts to lists of mirror URLs, as {\"gcr.io\": [\"https://mirror.example\"]}";
        if (!n.isObject()) throw new ConfigException(shape);
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            if (!e.getValue().isArray()) throw new ConfigException(shape);
            List<String> urls = new ArrayList<>();
            for (JsonNode u : e.getValue()) {
                if (!u.isString()) throw new ConfigException(shape);
                urls.add(u.asString());
            }
            out.put(e.getKey().toLowerCase(java.util.Locale.ROOT), urls);
        }
        try {
            new io.berth.registry.RegistryConfig(List.of(), List.of(), out);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("registry-host-mirrors: " + e.getMessage());
        }
        return out;
    }

    private static Map<String, String> logOpts(Map<String, JsonNode> json) throws ConfigException {
        JsonNode n = json.get("log-opts");
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) return out;
        if (!n.isObject()) throw new ConfigException("\"log-opts\" must be an object of strings, as {\"max-size\": \"10m\"}");
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            if (!e.getValue().isString()) throw new ConfigException("log-opts \"" + e.getKey() + "\" must be a string");
            out.put(e.getKey(), e.getValue().asString());
        }
        try {
            io.berth.container.LogOptions.validate(null, new io.berth.container.HostConfig.LogConfig(null, out));
        } catch (io.berth.container.ContainerException e) {
            throw new ConfigException("log-opts: " + e.getMessage());
        }
        return out;
    }

    private static JsonNode readFile(Path file, boolean mustExist) throws ConfigException {
        try {
            byte[] bytes = Files.readAllBytes(file);
            if (new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) return null; // an empty file sets nothing
            return Holder.JSON.readTree(bytes);
        } catch (NoSuchFileException e) {
            if (mustExist) throw new ConfigException("unable to configure the daemon with file " + file + ": no such file");
            return null;
        } catch (IOException e) {
            throw new ConfigException("unable to read configuration file " + file + ": " + e.getMessage());
        } catch (JacksonException e) {
            throw new ConfigException("configuration file " + file + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static void conflict(List<String> conflicts, String key, Object flag, Map<String, JsonNode> fromFile) {
        if (flag != null && fromFile.containsKey(key)) {
            conflicts.add(key + ": (from flag: " + flag + ", from file: " + fromFile.get(key) + ")");
        }
    }

    private static <T> T pick(T flag, T file, T fallback) {
        return flag != null ? flag : file != null ? file : fallback;
    }

    private static Path path(Map<String, JsonNode> json, String key) {
        String s = textOrNull(json, key);
        return s == null ? null : Path.of(s);
    }

    private static Boolean bool(Map<String, JsonNode> json, String key) throws ConfigException {
        JsonNode n = json.get(key);
        if (n == null) return null;
        if (!n.isBoolean()) throw new ConfigException("\"" + key + "\" must be true or false");
        return n.asBoolean();
    }

    private static String text(Map<String, JsonNode> json, String key, String fallback) throws ConfigException {
        String s = textOrNull(json, key);
        return s == null ? fallback : s;
    }

    private static String textOrNull(Map<String, JsonNode> json, String key) {
        JsonNode n = json.get(key);
        return n == null || n.isNull() ? null : n.asString();
    }

    private static List<String> strings(Map<String, JsonNode> json, String key) throws ConfigException {
        JsonNode n = json.get(key);
        if (n == null || n.isNull()) return List.of();
        if (!n.isArray()) throw new ConfigException("\"" + key + "\" must be a list of strings");
        List<String> out = new ArrayList<>();
        n.forEach(x -> out.add(x.asString()));
        return out;
    }

    /** A configuration that cannot be used; the message says what to change. */
    public static final class ConfigException extends Exception {
        public ConfigException(String message) {
            super(message);
        }
    }
}
