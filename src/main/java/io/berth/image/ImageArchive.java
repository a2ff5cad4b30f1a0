package io.berth.image;

import io.berth.archive.TarEntry;
import io.berth.archive.TarReader;
import io.berth.archive.TarWriter;
import io.berth.content.ContentStore;
import io.berth.content.Digest;
import io.berth.snapshot.Decompression;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * {@code docker save} and {@code docker load} archives.
 *
 * <p>Loading reads the tar once, as a stream: every member goes straight into the content
 * store (hashed on the way, nothing held in memory but the small index files), then the
 * layers are unpacked from there in the order manifest.json (docker-archive) or index.json
 * (OCI image layout) gives. A layer that fails (hostile paths, a DiffID that does not match)
 * fails the load, and what it stored is collected again.
 *
 * <p>Saving writes Docker 25's layout, which both old and new Docker load: {@code blobs/sha256/…}
 * (uncompressed layer tars, config, OCI manifest), {@code index.json}, {@code oci-layout},
 * {@code manifest.json}, {@code repositories}.
 */
public final class ImageArchive {
    private static final int MAX_INDEX_FILE = 16 << 20;
    private static final Set<String> INDEX_FILES = Set.of("manifest.json", "index.json", "repositories", "oci-layout");
    private static final Instant EPOCH = Instant.EPOCH;

    private ImageArchive() {}

    /** The prefix of the content store's ingest refs of loads, which never resume. */
    public static final String LOAD_INGEST = "load-";

    /** One image a load stored. */
    public record Loaded(Digest id, List<ImageReference> tags) {}

    /** Reads an archive from {@code tar} into the store. {@code onTag} is told each tag as it is set (for events). */
    public static List<Loaded> load(ImageStore store, InputStream tar, Consumer<String> progress) throws IOException {
        ContentStore content = store.content();
        Map<String, Digest> files = new HashMap<>();
        Map<String, String> links = new HashMap<>();
        Map<String, byte[]> indexFiles = new HashMap<>();
        List<ContentStore.Lease> leases = new ArrayList<>();
        List<ImageStore.Hold> holds = new ArrayList<>();
        boolean ok = false;
        try {
            TarReader reader = new TarReader(tar);
            for (TarEntry e; (e = reader.next()) != null; ) {
                String name = clean(e.name());
                if (name.isEmpty()) continue;
                switch (e.type()) {
                    case SYMLINK -> links.put(name, resolveLink(name, e.linkName()));
                    case HARDLINK -> links.put(name, clean(e.linkName()));
                    case FILE -> {
                        if (INDEX_FILES.contains(name)) {
                            if (e.size() > MAX_INDEX_FILE) throw new IOException("invalid image archive: " + name + " is " + e.size() + " bytes");
                            indexFiles.put(name, reader.content().readAllBytes());
                            continue;
                        }
                        Digest expected = blobDigest(name);
                        if (expected != null && content.exists(expected)) {
                            leases.add(content.lease(List.of(expected)));
                            files.put(name, expected);
                            continue;
                        }
                        try (ContentStore.Writer w = content.openWriter(LOAD_INGEST + (expected != null ? expected.toString() : UUID.randomUUID().toString()),
                                expected, e.size())) {
                            try {
                                if (!w.alreadyExists()) {
                                    if (w.offset() > 0) w.reset();
                                    reader.content().transferTo(w);
                                }
                                Digest d = w.commit();
                                leases.add(content.lease(List.of(d)));
                                files.put(name, d);
                            } catch (IOException | RuntimeException failed) {
                                // a load never resumes: a partial blob (a full disk, a client that left) only takes room
                                w.abort();
                                throw failed;
                            }
                        }
                    }
                    default -> { }
                }
            }
            reader.drain();

            List<Loaded> loaded;
            if (indexFiles.containsKey("manifest.json")) {
                loaded = loadDockerArchive(store, indexFiles.get("manifest.json"), files, links, holds, progress);
            } else if (indexFiles.containsKey("index.json")) {
                loaded = loadOciLayout(store, indexFiles.get("index.json"), files, links, holds, progress);
            } else {
                throw new IOException("invalid image archive: it has neither manifest.json nor index.json (is it a tar made by docker save?)");
            }
            ok = true;
            return loaded;
        } finally {
            for (ImageStore.Hold h : holds) h.close();
            for (ContentStore.Lease l : leases) l.close();
            try {
                store.collectGarbage();
            } catch (IOException e) {
                if (ok) throw e;
            }
        }
    }

    private record ArchiveImage(Digest config, List<Digest> layers, List<String> layerTypes, List<String> repoTags, List<Digest> manifests) {}

    private static List<Loaded> loadDockerArchive(ImageStore store, byte[] manifestJson, Map<String, Digest> files, Map<String, String> links,
                                                  List<ImageStore.Hold> holds, Consumer<String> progress) throws IOException {
        JsonNode root = parse(manifestJson, "manifest.json");
        if (!root.isArray()) throw new IOException("invalid image archive: manifest.json is not a list");
        List<ArchiveImage> images = new ArrayList<>();
        for (JsonNode m : root) {
            Digest config = member(files, links, m.path("Config").asString(""), "config");
            List<Digest> layers = new ArrayList<>();
            for (JsonNode l : m.path("Layers")) layers.add(member(files, links, l.asString(""), "layer"));
            List<String> tags = new ArrayList<>();
            for (JsonNode t : m.path("RepoTags")) tags.add(t.asString(""));
            images.add(new ArchiveImage(config, layers, null, tags, List.of()));
        }
        List<Loaded> out = new ArrayList<>();
        for (ArchiveImage a : images) out.add(store(store, a, holds, progress));
        return out;
    }

    private static List<Loaded> loadOciLayout(ImageStore store, byte[] indexJson, Map<String, Digest> files, Map<String, String> links,
                                              List<ImageStore.Hold> holds, Consumer<String> progress) throws IOException {
        ContentStore content = store.content();
        ParsedManifest top = ManifestParser.parse(indexJson, MediaTypes.OCI_INDEX);
        if (!(top instanceof ParsedManifest.Index index)) throw new IOException("invalid OCI layout: index.json is not an index");
        List<ArchiveImage> images = new ArrayList<>();
        for (Descriptor d : index.index().manifests()) {
            String name = nameOf(d);
            List<Digest> manifests = new ArrayList<>();
            Descriptor current = d;
            ParsedManifest.Image image = null;
            for (int depth = 0; depth < 4 && image == null; depth++) {
                Digest blob = member(files, links, "blobs/sha256/" + current.digest().hex(), "manifest");
                manifests.add(blob);
                ParsedManifest p = ManifestParser.parse(content.readAll(blob), current.mediaType());
                if (p instanceof ParsedManifest.Image img) {
                    image = img;
                } else if (p instanceof ParsedManifest.Index idx) {
                    var pick = PlatformMatcher.forHost().trySelect(idx.index());
                    if (pick.isEmpty()) break;
                    current = pick.get();
                }
            }
            if (image == null) continue;
            Digest config = member(files, links, "blobs/sha256/" + image.manifest().config().digest().hex(), "config");
            List<Digest> layers = new ArrayList<>();
            List<String> types = new ArrayList<>();
            for (Descriptor l : image.manifest().layers()) {
                layers.add(member(files, links, "blobs/sha256/" + l.digest().hex(), "layer"));
                types.add(l.mediaType());
            }
            List<String> tags = new ArrayList<>();
            if (name != null) tags.add(name);
            images.add(new ArchiveImage(config, layers, types, tags, manifests));
        }
        if (images.isEmpty()) throw new IOException("invalid OCI layout: index.json lists no image for " + PlatformMatcher.forHost().wanted());
        List<Loaded> out = new ArrayList<>();
        for (ArchiveImage a : images) out.add(store(store, a, holds, progress));
        return out;
    }

    /** The image name an OCI index entry carries: containerd's full name, or a full reference in the OCI ref.name. */
    private static String nameOf(Descriptor d) {
        if (d.annotations() == null) return null;
        String full = d.annotations().get("io.containerd.image.name");
        if (full != null && !full.isEmpty()) return full;
        String ref = d.annotations().get("org.opencontainers.image.ref.name");
        if (ref != null && (ref.contains("/") || ref.contains(":")) && ImageReference.tryParse(ref).isPresent()) return ref;
        return null;
    }

    private static Loaded store(ImageStore store, ArchiveImage a, List<ImageStore.Hold> holds, Consumer<String> progress) throws IOException {
        ContentStore content = store.content();
        ImageConfigBlob config = ImageConfigBlob.parse(content.readAll(a.config()));
        List<Digest> diffIds = config.config().diffIds();
        if (diffIds.size() != a.layers().size()) {
            throw new IOException("invalid image archive: the config of " + a.config() + " lists " + diffIds.size()
                    + " layers, but the archive gives " + a.layers().size());
        }
        List<Digest> chains = ImageRecord.chainIds(diffIds);
        holds.add(store.hold(chains));
        List<ImageRecord.Layer> layers = new ArrayList<>();
        for (int i = 0; i < chains.size(); i++) {
            Digest blob = a.layers().get(i);
            String type = a.layerTypes() != null ? a.layerTypes().get(i) : sniff(content, blob);
            if (progress != null) progress.accept("Loading layer " + diffIds.get(i).shortHex());
            ImageStore.LayerApplied applied;
            try {
                applied = store.applyLayer(chains.get(i), i == 0 ? null : chains.get(i - 1), diffIds.get(i), () -> content.open(blob));
            } catch (IOException e) {
                throw new IOException("loading layer " + diffIds.get(i).shortHex() + " failed: " + e.getMessage(), e);
            }
            layers.add(new ImageRecord.Layer(diffIds.get(i), chains.get(i), applied.size(), applied.tarSize(), blob, type));
        }
        ImageStore.Image img = store.add(config, layers, a.manifests());
        List<ImageReference> tags = new ArrayList<>();
        for (String t : a.repoTags()) {
            ImageReference ref = ImageReference.parse(t);
            if (ref.digestOrNull() != null) continue;
            ref = ref.withDefaultTag();
            store.tag(img.id(), ref);
            tags.add(ref);
        }
        return new Loaded(img.id(), tags);
    }

    private static String sniff(ContentStore content, Digest blob) throws IOException {
        try (BufferedInputStream in = new BufferedInputStream(content.open(blob), 64)) {
            return switch (Decompression.detect(in)) {
                case GZIP -> MediaTypes.DOCKER_LAYER_GZIP;
                case ZSTD -> MediaTypes.DOCKER_LAYER_ZSTD;
                case NONE -> MediaTypes.DOCKER_LAYER;
            };
        }
    }

    private static JsonNode parse(byte[] json, String what) throws IOException {
        try {
            return ImageJson.MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new IOException("invalid image archive: " + what + " is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static Digest member(Map<String, Digest> files, Map<String, String> links, String path, String what) throws IOException {
        String name = clean(path);
        for (int hops = 0; hops < 16 && links.containsKey(name); hops++) name = links.get(name);
        Digest d = files.get(name);
        if (d == null) throw new IOException("invalid image archive: the " + what + " " + path + " named in the manifest is not in the archive");
        return d;
    }

    private static Digest blobDigest(String name) {
        if (!name.startsWith("blobs/sha256/")) return null;
        String hex = name.substring("blobs/sha256/".length());
        return hex.matches("[a-f0-9]{64}") ? new Digest("sha256", hex) : null;
    }

    /** A member name without leading "./" or "/", with "." and ".." applied. */
    static String clean(String name) {
        return io.berth.archive.TarNames.cleanWithin(name);
    }

    private static String resolveLink(String name, String target) {
        if (target.startsWith("/")) return clean(target);
        int slash = name.lastIndexOf('/');
        return clean((slash < 0 ? "" : name.substring(0, slash + 1)) + target);
    }

    // ---------------------------------------------------------------- save

    /** An image to save, with the names to give it in the archive (none for an image saved by ID). */
    public record Saved(ImageStore.Image image, List<ImageReference> names) {}

    /** Writes a docker-archive of {@code images} to {@code out}, streaming each layer from its blob. */
    public static void save(ImageStore store, List<Saved> images, OutputStream out) throws IOException {
        ContentStore content = store.content();
        TarWriter w = new TarWriter(out);
        Set<Digest> written = new HashSet<>();
        List<Map<String, Object>> manifestJson = new ArrayList<>();
        List<Map<String, Object>> indexEntries = new ArrayList<>();
        Map<String, Map<String, String>> repositories = new LinkedHashMap<>();
        w.writeEntry(TarEntry.dir("blobs").withMtime(EPOCH), new byte[0]);
        w.writeEntry(TarEntry.dir("blobs/sha256").withMtime(EPOCH), new byte[0]);
        for (Saved s : images) {
            ImageStore.Image img = s.image();
            List<Map<String, Object>> layerDescriptors = new ArrayList<>();
            List<String> layerPaths = new ArrayList<>();
            for (ImageRecord.Layer l : img.record().layers()) {
                String path = "blobs/sha256/" + l.diffId().hex();
                layerPaths.add(path);
                long size = writeLayer(content, w, l, written);
                layerDescriptors.add(descriptor(MediaTypes.OCI_LAYER, l.diffId(), size));
            }
            byte[] config = img.configBlob().bytes();
            writeBlob(w, img.id(), config, written);
            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("schemaVersion", 2);
            manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
            manifest.put("config", descriptor(MediaTypes.OCI_CONFIG, img.id(), config.length));
            manifest.put("layers", layerDescriptors);
            byte[] manifestBytes = ImageJson.toBytes(manifest);
            Digest manifestDigest = Digest.sha256(manifestBytes);
            writeBlob(w, manifestDigest, manifestBytes, written);

            List<String> repoTags = s.names().stream().map(ImageReference::familiarString).toList();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Config", "blobs/sha256/" + img.id().hex());
            m.put("RepoTags", repoTags.isEmpty() ? null : repoTags);
            m.put("Layers", layerPaths);
            manifestJson.add(m);
            if (s.names().isEmpty()) {
                indexEntries.add(descriptor(MediaTypes.OCI_MANIFEST, manifestDigest, manifestBytes.length));
            }
            for (ImageReference name : s.names()) {
                Map<String, Object> d = descriptor(MediaTypes.OCI_MANIFEST, manifestDigest, manifestBytes.length);
                d.put("annotations", Map.of("io.containerd.image.name", name.canonicalString(), "org.opencontainers.image.ref.name", name.tagOrNull()));
                indexEntries.add(d);
                String top = img.record().layers().isEmpty() ? "" : img.record().layers().getLast().diffId().hex();
                repositories.computeIfAbsent(name.familiarName(), k -> new LinkedHashMap<>()).put(name.tagOrNull(), top);
            }
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        index.put("manifests", indexEntries);
        writeFile(w, "index.json", ImageJson.toBytes(index));
        writeFile(w, "manifest.json", ImageJson.toBytes(manifestJson));
        writeFile(w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        if (!repositories.isEmpty()) writeFile(w, "repositories", ImageJson.toBytes(repositories));
        w.finish();
        out.flush();
    }

    private static Map<String, Object> descriptor(String mediaType, Digest digest, long size) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mediaType", mediaType);
        d.put("digest", digest.toString());
        d.put("size", size);
        return d;
    }

    private static void writeFile(TarWriter w, String name, byte[] bytes) throws IOException {
        w.writeEntry(TarEntry.file(name, bytes.length).withMtime(EPOCH), bytes);
    }

    private static void writeBlob(TarWriter w, Digest d, byte[] bytes, Set<Digest> written) throws IOException {
        if (!written.add(d)) return;
        writeFile(w, "blobs/sha256/" + d.hex(), bytes);
    }

    /** Writes the layer's uncompressed tar under its DiffID, checking the DiffID as it streams; returns its size. */
    private static long writeLayer(ContentStore content, TarWriter w, ImageRecord.Layer l, Set<Digest> written) throws IOException {
        if (l.blob() == null || !content.exists(l.blob())) {
            throw new IOException("cannot save layer " + l.diffId() + ": its blob is no longer stored; pull or load the image again");
        }
        long size = l.tarSize();
        if (size < 0) {
            try (InputStream in = Decompression.open(content.open(l.blob()))) {
                size = in.transferTo(OutputStream.nullOutputStream());
            }
        }
        if (!written.add(l.diffId())) return size;
        MessageDigest md = Digest.newSha256();
        try (InputStream in = new DigestInputStream(Decompression.open(content.open(l.blob())), md)) {
            w.writeEntry(TarEntry.file("blobs/sha256/" + l.diffId().hex(), size).withMtime(EPOCH), in);
        }
        Digest got = Digest.ofSha256(md);
        if (!got.equals(l.diffId())) {
            throw new IOException("layer blob " + l.blob() + " does not hold layer " + l.diffId() + " (its tar hashes to " + got + ")");
        }
        return size;
    }
}
