package io.berth.plugin;

import io.berth.archive.TarEntry;
import io.berth.archive.TarReader;
import io.berth.archive.TarWriter;
import io.berth.content.Digest;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;
import io.berth.sys.AtomicFiles;
import io.berth.sys.FileTrees;
import io.berth.sys.PrivateFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Managed plugins as {@code docker plugin create} makes them: kept under
 * {@code <data root>/plugins/<id>/} (the plugin's JSON in Docker's shape, and its rootfs as a
 * tar), listed, inspected, configured ({@code docker plugin set}) and removed. Berth runs no
 * plugin process and installs none from a registry, so a plugin stays disabled: enabling,
 * installing, upgrading and pushing are refused with a message that says so.
 */
public final class Plugins {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SecureRandom RANDOM = new SecureRandom();
    /** A plugin reference: a lower-case repository path with an optional tag (no digest). */
    private static final Pattern REFERENCE = Pattern.compile("[a-z0-9]+(?:[._-][a-z0-9]+)*(?:[:.][0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\\w][\\w.-]{0,127})?");
    private static final long MAX_CONFIG = 1 << 20;

    private final Path dir;
    private final Object lock = new Object();

    public Plugins(Path dataRoot) {
        this.dir = dataRoot.resolve("plugins");
    }

    /** Makes a plugin from a tar holding {@code config.json} and a {@code rootfs/} folder; returns its JSON. */
    public ObjectNode create(String name, InputStream tar) throws IOException {
        String ref = normalize(name);
        synchronized (lock) {
            if (find(ref).isPresent()) throw new KindedException(ErrorKind.ALREADY_EXISTS, "plugin " + ref + " already exists");
        }
        PrivateFiles.createDirectories(dir);
        String id = newId();
        Path tmp = dir.resolve(".new-" + id);
        Files.createDirectories(tmp);
        try {
            byte[] config = null;
            boolean rootfs = false;
            MessageDigest sha = Digest.newSha256();
            try (OutputStream file = Files.newOutputStream(tmp.resolve("rootfs.tar"));
                 TarWriter out = new TarWriter(new DigestOutputStream(file, sha))) {
                TarReader in = new TarReader(tar);
                for (TarEntry e; (e = in.next()) != null; ) {
                    String path = e.name().startsWith("./") ? e.name().substring(2) : e.name();
                    if (path.equals("config.json")) {
                        config = readLimited(in.content());
                    } else if (path.equals("rootfs") || path.equals("rootfs/") || path.startsWith("rootfs/")) {
                        rootfs = true;
                        String inner = path.substring("rootfs".length()).replaceFirst("^/", "");
                        if (inner.isEmpty()) continue;
                        out.writeEntry(e.withName(inner), in.content());
                    } else {
                        in.drain();
                    }
                }
                out.finish();
            }
            if (config == null) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "the plugin context has no config.json");
            if (!rootfs) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "no rootfs found: the plugin context has no rootfs folder");
            JsonNode asked;
            try {
                asked = JSON.readTree(config);
            } catch (RuntimeException e) {
                throw new KindedException(ErrorKind.INVALID_ARGUMENT, "invalid config.json: " + e.getMessage());
            }
            if (!asked.isObject()) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "invalid config.json: not a JSON object");
            ObjectNode plugin = shape(id, ref, (ObjectNode) asked, Digest.ofSha256(sha).toString());
            AtomicFiles.write(tmp.resolve("plugin.json"), JSON.writeValueAsBytes(plugin));
            synchronized (lock) {
                if (find(ref).isPresent()) throw new KindedException(ErrorKind.ALREADY_EXISTS, "plugin " + ref + " already exists");
                Files.move(tmp, dir.resolve(id));
            }
            return plugin;
        } finally {
            if (Files.exists(tmp)) FileTrees.deleteTree(tmp);
        }
    }

    /** Every plugin, by name. */
    public List<ObjectNode> list() throws IOException {
        List<ObjectNode> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> ids = Files.newDirectoryStream(dir, p -> !p.getFileName().toString().startsWith("."))) {
            for (Path p : ids) {
                Path f = p.resolve("plugin.json");
                if (Files.exists(f)) out.add((ObjectNode) JSON.readTree(Files.readAllBytes(f)));
            }
        }
        out.sort((a, b) -> a.path("Name").asString("").compareTo(b.path("Name").asString("")));
        return out;
    }

    /** By name (a missing tag is {@code latest}), then by a unique ID prefix, as dockerd looks plugins up. */
    public Optional<ObjectNode> find(String nameOrId) throws IOException {
        List<ObjectNode> all = list();
        String ref = nameOrId.contains(":") || nameOrId.contains("@") ? nameOrId : nameOrId + ":latest";
        for (ObjectNode p : all) if (p.path("Name").asString("").equals(ref)) return Optional.of(p);
        ObjectNode match = null;
        for (ObjectNode p : all) {
            if (!nameOrId.isEmpty() && p.path("Id").asString("").startsWith(nameOrId)) {
                if (match != null) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "multiple plugins found for " + nameOrId);
                match = p;
            }
        }
        return Optional.ofNullable(match);
    }

    public ObjectNode inspect(String nameOrId) throws IOException {
        return find(nameOrId).orElseThrow(() -> notFound(nameOrId));
    }

    public void remove(String nameOrId) throws IOException {
        synchronized (lock) {
            ObjectNode p = inspect(nameOrId);
            FileTrees.deleteTree(dir.resolve(p.path("Id").asString()));
        }
    }

    /** {@code docker plugin set NAME KEY=VALUE...}: only env variables the plugin declares settable. */
    public void set(String nameOrId, List<String> settings) throws IOException {
        synchronized (lock) {
            ObjectNode p = inspect(nameOrId);
            Map<String, String> env = new LinkedHashMap<>();
            for (JsonNode e : p.path("Settings").path("Env")) {
                String s = e.asString();
                int eq = s.indexOf('=');
                env.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
            }
            for (String s : settings) {
                int eq = s.indexOf('=');
                String key = eq < 0 ? s : s.substring(0, eq);
                JsonNode declared = null;
                for (JsonNode e : p.path("Config").path("Env")) if (e.path("Name").asString("").equals(key)) declared = e;
                if (declared == null) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "setting \"" + key + "\" not found in the plugin configuration");
                boolean settable = false;
                for (JsonNode x : declared.path("Settable")) settable |= x.asString("").equals("value");
                if (!settable) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "setting \"" + key + "\" is not settable");
                env.put(key, eq < 0 ? "" : s.substring(eq + 1));
            }
            ArrayNode out = ((ObjectNode) p.get("Settings")).putArray("Env");
            env.forEach((k, v) -> out.add(k + "=" + v));
            AtomicFiles.write(dir.resolve(p.path("Id").asString()).resolve("plugin.json"), JSON.writeValueAsBytes(p));
        }
    }

    /** Berth has no plugin runtime: a plugin cannot be started. */
    public void enable(String nameOrId) throws IOException {
        ObjectNode p = inspect(nameOrId);
        throw new KindedException(ErrorKind.NOT_IMPLEMENTED,
                "berth does not run managed plugins: plugin " + p.path("Name").asString() + " cannot be enabled");
    }

    public void disable(String nameOrId) throws IOException {
        ObjectNode p = inspect(nameOrId);
        throw new KindedException(ErrorKind.CONFLICT,
                "plugin is already disabled: plugin " + p.path("Name").asString() + " found but disabled");
    }

    public static KindedException notFound(String nameOrId) {
        return new KindedException(ErrorKind.NOT_FOUND, "plugin \"" + nameOrId + "\" not found");
    }

    /** The plugin's name as dockerd keeps it: with a tag ({@code latest} when none). */
    static String normalize(String name) {
        if (name == null || name.isEmpty()) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "a plugin name is required");
        if (!REFERENCE.matcher(name).matches()) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "invalid reference format: " + name);
        int slash = name.lastIndexOf('/');
        return name.indexOf(':', slash + 1) < 0 ? name + ":latest" : name;
    }

    /** Docker's plugin JSON from a config.json (whose keys Docker reads regardless of case), with dockerd's defaults. */
    static ObjectNode shape(String id, String ref, ObjectNode asked, String diffId) {
        ObjectNode p = JSON.createObjectNode();
        ObjectNode c = JSON.createObjectNode();
        ObjectNode args = obj(asked, "args");
        ObjectNode a = c.putObject("Args");
        a.put("Description", text(args, "description"));
        a.put("Name", text(args, "name"));
        a.set("Settable", copy(args, "settable"));
        a.set("Value", copy(args, "value"));
        c.put("Description", text(asked, "description"));
        c.put("DockerVersion", "");
        c.put("Documentation", text(asked, "documentation"));
        c.set("Entrypoint", copy(asked, "entrypoint"));
        ArrayNode env = c.putArray("Env");
        List<String> envSettings = new ArrayList<>();
        JsonNode askedEnv = get(asked, "env");
        if (askedEnv != null && askedEnv.isArray()) {
            for (JsonNode e : askedEnv) {
                if (!e.isObject()) continue;
                ObjectNode x = env.addObject();
                x.put("Description", text((ObjectNode) e, "description"));
                x.put("Name", text((ObjectNode) e, "name"));
                x.set("Settable", copy((ObjectNode) e, "settable"));
                JsonNode v = get((ObjectNode) e, "value");
                x.set("Value", v == null ? JSON.nullNode() : v);
                if (v != null && !v.isNull()) envSettings.add(text((ObjectNode) e, "name") + "=" + v.asString(""));
            }
        }
        ObjectNode iface = obj(asked, "interface");
        ObjectNode i = c.putObject("Interface");
        i.put("Socket", text(iface, "socket"));
        i.set("Types", copy(iface, "types"));
        c.put("IpcHost", bool(asked, "ipchost"));
        ObjectNode linux = obj(asked, "linux");
        ObjectNode l = c.putObject("Linux");
        l.put("AllowAllDevices", bool(linux, "allowalldevices"));
        l.set("Capabilities", copy(linux, "capabilities"));
        l.set("Devices", copy(linux, "devices"));
        c.set("Mounts", copy(asked, "mounts"));
        c.putObject("Network").put("Type", text(obj(asked, "network"), "type"));
        c.put("PidHost", bool(asked, "pidhost"));
        c.put("PropagatedMount", text(asked, "propagatedmount"));
        JsonNode user = get(asked, "user");
        c.set("User", user != null && user.isObject() ? user : JSON.createObjectNode());
        c.put("WorkDir", text(asked, "workdir"));
        ObjectNode rootfs = c.putObject("rootfs");
        rootfs.putArray("diff_ids").add(diffId);
        rootfs.put("type", "layers");

        p.set("Config", c);
        p.put("Enabled", false);
        p.put("Id", id);
        p.put("Name", ref);
        p.put("PluginReference", ref);
        ObjectNode s = p.putObject("Settings");
        ArrayNode sargs = s.putArray("Args");
        JsonNode argValues = get(args, "value");
        if (argValues != null && argValues.isArray()) argValues.forEach(sargs::add);
        ArrayNode devices = s.putArray("Devices");
        JsonNode dev = get(linux, "devices");
        if (dev != null && dev.isArray()) dev.forEach(devices::add);
        ArrayNode senv = s.putArray("Env");
        envSettings.forEach(senv::add);
        ArrayNode mounts = s.putArray("Mounts");
        JsonNode m = get(asked, "mounts");
        if (m != null && m.isArray()) m.forEach(mounts::add);
        return p;
    }

    private static JsonNode get(ObjectNode o, String lowerName) {
        if (o == null) return null;
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            if (e.getKey().toLowerCase(Locale.ROOT).equals(lowerName)) return e.getValue();
        }
        return null;
    }

    private static ObjectNode obj(ObjectNode o, String lowerName) {
        JsonNode v = get(o, lowerName);
        return v != null && v.isObject() ? (ObjectNode) v : null;
    }

    private static String text(ObjectNode o, String lowerName) {
        JsonNode v = get(o, lowerName);
        return v == null || v.isNull() ? "" : v.asString("");
    }

    private static boolean bool(ObjectNode o, String lowerName) {
        JsonNode v = get(o, lowerName);
        return v != null && v.asBoolean(false);
    }

    private static JsonNode copy(ObjectNode o, String lowerName) {
        JsonNode v = get(o, lowerName);
        return v == null ? JSON.nullNode() : v;
    }

    private static byte[] readLimited(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
            if (out.size() > MAX_CONFIG) throw new KindedException(ErrorKind.INVALID_ARGUMENT, "config.json is larger than 1 MiB");
        }
        return out.toByteArray();
    }

    private static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
