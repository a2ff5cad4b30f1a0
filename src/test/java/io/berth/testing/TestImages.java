package io.berth.testing;

import io.berth.archive.TarEntry;
import io.berth.archive.TarWriter;
import io.berth.content.Digest;
import io.berth.image.Platform;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import tools.jackson.databind.json.JsonMapper;

/**
 * Test images without a network: docker-archive tars (what {@code docker save} writes and
 * {@code docker load} reads) built from Debian's busybox-static, plus large random images
 * for benchmarks. Everything is deterministic: the same builder gives the same image ID.
 *
 * <pre>{@code
 * TestImages.Built b = TestImages.busybox().tag("busybox:latest").label("a", "b").writeTo(dir.resolve("bb.tar"));
 * docker.run("load", "-i", b.archive().toString());   // b.imageId() is what docker images shows
 * }</pre>
 */
public final class TestImages {
    /** Applets linked to /bin/busybox in the base layer. */
    public static final List<String> APPLETS = List.of(
            "sh", "ash", "ls", "cat", "echo", "sleep", "true", "false", "wget", "id", "env", "top", "ps", "mkdir", "rm",
            "rmdir", "cp", "mv", "ln", "chmod", "chown", "grep", "sed", "awk", "head", "tail", "wc", "sort", "uniq",
            "touch", "date", "hostname", "ip", "ifconfig", "ping", "nc", "kill", "pwd", "stat", "test", "[", "uname",
            "whoami", "which", "find", "xargs", "tee", "printf", "seq", "sync", "mount", "umount", "dd", "df", "du",
            "free", "vi", "mktemp", "basename", "dirname", "readlink", "realpath", "cut", "tr", "od", "hexdump",
            "nslookup", "netstat", "route", "yes", "timeout", "nproc", "md5sum", "sha256sum", "tar", "gzip", "gunzip",
            "less", "more", "init", "su", "login", "passwd", "adduser", "addgroup", "watch", "pidof", "pkill", "killall",
            "usleep", "dmesg", "mknod", "expr", "bc", "diff", "cmp", "nohup", "setsid", "chroot", "traceroute", "arp",
            "udhcpc", "httpd", "telnet");
    /** A fixed time, so that the same content always gives the same image ID. */
    public static final Instant EPOCH = Instant.parse("2024-01-01T00:00:00Z");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TestImages() {}

    /** A layer tar held in a file, with its DiffID (sha256 of the tar). */
    public record Layer(Path tar, Digest diffId, long size) {}

    /**
     * A built docker-archive.
     *
     * @param imageId     sha256 of {@link #configBytes}: the ID dockerd gives the image
     * @param configBytes the exact config JSON in the archive
     */
    public record Built(Path archive, Digest imageId, byte[] configBytes, List<Layer> layers, List<String> repoTags) {
        public List<Digest> diffIds() {
            return layers.stream().map(Layer::diffId).toList();
        }
    }

    /** A busybox image: one layer with /bin/busybox, applet links, /etc/passwd and /etc/group, /tmp. */
    public static Builder busybox() {
        return new Builder().layer(busyboxLayer());
    }

    /** An image with no base layer: only the layers added. */
    public static Builder empty() {
        return new Builder();
    }

    /** The busybox base layer as a tar, built once per JVM. */
    public static synchronized Layer busyboxLayer() {
        if (busybox == null) {
            try {
                Path tar = Files.createTempFile("berth-busybox-layer", ".tar");
                tar.toFile().deleteOnExit();
                busybox = writeLayer(tar, TestImages::busyboxEntries);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return busybox;
    }

    private static Layer busybox;

    private static void busyboxEntries(TarWriter w) throws IOException {
        Path bin = Path.of("/bin/busybox");
        if (!Files.isRegularFile(bin)) throw new IOException("/bin/busybox is missing: install Debian's busybox-static");
        for (String d : List.of("bin", "dev", "etc", "home", "proc", "root", "sys", "usr", "usr/bin", "var")) {
            w.writeEntry(TarEntry.dir(d).withMtime(EPOCH), new byte[0]);
        }
        w.writeEntry(TarEntry.dir("home/app").withOwner(1000, 1000).withMtime(EPOCH), new byte[0]);
        w.writeEntry(TarEntry.dir("tmp").withMode(01777).withMtime(EPOCH), new byte[0]);
        try (InputStream in = Files.newInputStream(bin)) {
            w.writeEntry(TarEntry.file("bin/busybox", Files.size(bin)).withMode(0755).withMtime(EPOCH), in);
        }
        for (String a : APPLETS) w.writeEntry(TarEntry.symlink("bin/" + a, "busybox").withMtime(EPOCH), new byte[0]);
        w.writeEntry(TarEntry.symlink("usr/bin/env", "../../bin/busybox").withMtime(EPOCH), new byte[0]);
        file(w, "etc/passwd", """
                root:x:0:0:root:/root:/bin/sh
                nobody:x:65534:65534:nobody:/nonexistent:/bin/false
                app:x:1000:1000:app:/home/app:/bin/sh
                """);
        file(w, "etc/group", """
                root:x:0:
                nogroup:x:65534:
                app:x:1000:
                """);
        file(w, "etc/hostname", "busybox\n");
    }

    private static void file(TarWriter w, String name, String content) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        w.writeEntry(TarEntry.file(name, b.length).withMtime(EPOCH), b);
    }

    /** Writes entries into a tar file and hashes it. */
    public static Layer writeLayer(Path tar, TarBody body) throws IOException {
        MessageDigest md = Digest.newSha256();
        try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(tar), 1 << 16), md);
             TarWriter w = new TarWriter(out)) {
            body.write(w);
            w.finish();
        }
        return new Layer(tar, Digest.ofSha256(md), Files.size(tar));
    }

    /** A layer of small text files, name → content. */
    public static Layer filesLayer(Path tar, Map<String, String> files) throws IOException {
        return writeLayer(tar, w -> {
            for (var e : files.entrySet()) {
                String name = e.getKey();
                int slash = name.lastIndexOf('/');
                if (slash > 0) w.writeEntry(TarEntry.dir(name.substring(0, slash)).withMtime(EPOCH), new byte[0]);
                file(w, name, e.getValue());
            }
        });
    }

    /** A layer with one file of {@code bytes} pseudo-random (incompressible) bytes from {@code seed}. */
    public static Layer randomLayer(Path tar, String fileName, long bytes, long seed) throws IOException {
        return writeLayer(tar, w -> {
            w.putEntry(TarEntry.file(fileName, bytes).withMtime(EPOCH));
            writeRandom(w.content(), bytes, seed);
        });
    }

    /** The bytes {@link #randomLayer} writes, for checking unpacked files. */
    public static void writeRandom(OutputStream out, long bytes, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] buf = new byte[1 << 16];
        long left = bytes;
        while (left > 0) {
            int n = (int) Math.min(buf.length, left);
            for (int i = 0; i < n; i += 8) {
                long v = r.nextLong();
                for (int k = 0; k < 8 && i + k < n; k++) buf[i + k] = (byte) (v >>> (8 * k));
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    /**
     * An image of {@code layers} layers of random data, about {@code megabytes} MB in all
     * (for benchmarks and big pulls); layer {@code i} holds {@code /data/blob<i>}. The layer
     * tars stay beside the archive (same folder) for tests that push them to a registry.
     */
    public static Built randomImage(Path archive, String tag, int layers, long megabytes, long seed) throws IOException {
        Builder b = empty().tag(tag);
        long per = Math.max(1, megabytes * 1_000_000 / Math.max(1, layers));
        for (int i = 0; i < layers; i++) {
            Path tar = Files.createTempFile(archive.getParent(), "random-layer", ".tar");
            b.layer(randomLayer(tar, "data/blob" + i, per, seed + i));
        }
        return b.writeTo(archive);
    }

    @FunctionalInterface
    public interface TarBody {
        void write(TarWriter w) throws IOException;
    }

    /** Builds a config and a docker-archive around layers. */
    public static final class Builder {
        private final List<Layer> layers = new ArrayList<>();
        private final List<String> tags = new ArrayList<>();
        private final Map<String, String> labels = new LinkedHashMap<>();
        private List<String> env = List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        private List<String> cmd = List.of("sh");
        private List<String> entrypoint;
        private String user;
        private String workingDir;
        private String architecture = Platform.host().architecture();
        private String variant;
        private Instant created = EPOCH;
        private final List<String> exposedPorts = new ArrayList<>();
        private final List<String> volumes = new ArrayList<>();

        public Builder layer(Layer l) {
            layers.add(l);
            return this;
        }

        /** Adds a layer of small text files (written to a temp file). */
        public Builder files(Map<String, String> files) {
            try {
                Path tar = Files.createTempFile("berth-files-layer", ".tar");
                tar.toFile().deleteOnExit();
                return layer(filesLayer(tar, files));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public Builder tag(String... t) {
            tags.addAll(List.of(t));
            return this;
        }

        public Builder label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        public Builder env(String... e) {
            List<String> all = new ArrayList<>(env);
            all.addAll(List.of(e));
            env = all;
            return this;
        }

        public Builder cmd(String... c) {
            cmd = List.of(c);
            return this;
        }

        public Builder entrypoint(String... e) {
            entrypoint = List.of(e);
            return this;
        }

        /** ExposedPorts entries such as "80/tcp". */
        public Builder exposedPorts(String... ports) {
            exposedPorts.addAll(List.of(ports));
            return this;
        }

        /** VOLUME entries such as "/data". */
        public Builder volumes(String... paths) {
            volumes.addAll(List.of(paths));
            return this;
        }

        public Builder user(String u) {
            user = u;
            return this;
        }

        public Builder workingDir(String w) {
            workingDir = w;
            return this;
        }

        public Builder architecture(String arch, String variant) {
            this.architecture = arch;
            this.variant = variant;
            return this;
        }

        public Builder created(Instant t) {
            created = t;
            return this;
        }

        /** The config JSON, exactly as the archive holds it. */
        public byte[] configBytes() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("architecture", architecture);
            if (variant != null) c.put("variant", variant);
            Map<String, Object> cc = new LinkedHashMap<>();
            cc.put("Env", env);
            if (cmd != null) cc.put("Cmd", cmd);
            if (entrypoint != null) cc.put("Entrypoint", entrypoint);
            if (user != null) cc.put("User", user);
            if (workingDir != null) cc.put("WorkingDir", workingDir);
            if (!labels.isEmpty()) cc.put("Labels", labels);
            if (!exposedPorts.isEmpty()) cc.put("ExposedPorts", mapOfEmpty(exposedPorts));
            if (!volumes.isEmpty()) cc.put("Volumes", mapOfEmpty(volumes));
            c.put("config", cc);
            c.put("created", created.toString());
            List<Map<String, Object>> history = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("created", created.toString());
                h.put("created_by", i == 0 ? "ADD rootfs.tar / # berth test image" : "COPY layer" + i + " / # berth test image");
                history.add(h);
            }
            Map<String, Object> cmdStep = new LinkedHashMap<>();
            cmdStep.put("created", created.toString());
            cmdStep.put("created_by", "CMD " + JSON.writeValueAsString(cmd));
            cmdStep.put("empty_layer", true);
            history.add(cmdStep);
            c.put("history", history);
            c.put("os", "linux");
            c.put("rootfs", Map.of("type", "layers", "diff_ids", layers.stream().map(l -> l.diffId().toString()).toList()));
            return JSON.writeValueAsBytes(c);
        }

        private static Map<String, Object> mapOfEmpty(List<String> keys) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (String k : keys) m.put(k, Map.of());
            return m;
        }

        public List<Layer> layers() {
            return List.copyOf(layers);
        }

        /**
         * Writes a docker-archive in the legacy layout ({@code <config-hex>.json},
         * {@code <n>/layer.tar}, {@code manifest.json}, {@code repositories}).
         */
        public Built writeTo(Path archive) throws IOException {
            byte[] config = configBytes();
            Digest id = Digest.sha256(config);
            List<String> layerPaths = new ArrayList<>();
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(archive), 1 << 16);
                 TarWriter w = new TarWriter(out)) {
                w.writeEntry(TarEntry.file(id.hex() + ".json", config.length).withMtime(EPOCH), config);
                for (Layer l : layers) {
                    String dir = l.diffId().hex();
                    String path = dir + "/layer.tar";
                    if (layerPaths.contains(path)) {
                        layerPaths.add(path);
                        continue;
                    }
                    w.writeEntry(TarEntry.dir(dir).withMtime(EPOCH), new byte[0]);
                    w.writeEntry(TarEntry.file(dir + "/VERSION", 3).withMtime(EPOCH), "1.0".getBytes(StandardCharsets.US_ASCII));
                    try (InputStream in = Files.newInputStream(l.tar())) {
                        w.writeEntry(TarEntry.file(path, l.size()).withMtime(EPOCH), in);
                    }
                    layerPaths.add(path);
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("Config", id.hex() + ".json");
                m.put("RepoTags", tags.isEmpty() ? null : tags);
                m.put("Layers", layerPaths);
                byte[] manifest = JSON.writeValueAsBytes(List.of(m));
                w.writeEntry(TarEntry.file("manifest.json", manifest.length).withMtime(EPOCH), manifest);
                if (!tags.isEmpty()) {
                    Map<String, Map<String, String>> repos = new LinkedHashMap<>();
                    for (String t : tags) {
                        int colon = t.lastIndexOf(':');
                        String repo = colon > t.lastIndexOf('/') ? t.substring(0, colon) : t;
                        String tag = colon > t.lastIndexOf('/') ? t.substring(colon + 1) : "latest";
                        repos.computeIfAbsent(repo, k -> new LinkedHashMap<>()).put(tag, layers.isEmpty() ? "" : layers.getLast().diffId().hex());
                    }
                    byte[] r = JSON.writeValueAsBytes(repos);
                    w.writeEntry(TarEntry.file("repositories", r.length).withMtime(EPOCH), r);
                }
                w.finish();
            }
            return new Built(archive, id, config, List.copyOf(layers), List.copyOf(tags));
        }
    }

    /** Gzips bytes (for tests that need a compressed layer blob). */
    public static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var gz = new java.util.zip.GZIPOutputStream(out)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
