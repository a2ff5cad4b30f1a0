package io.berth.build;

import io.berth.content.Digest;
import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The classic builder's cache: which image a step made from which parent. A key is the
 * sha256 of the parent image ID, the step's text after expansion, the build args it used
 * and, for COPY/ADD, the sources' content hash ({@link #key}); the value the image ID the
 * step produced (an untagged image record, as the classic builder's intermediate images).
 * Kept in {@code build/cache.json}, written atomically on every change, so it survives a
 * restart. An entry whose image is gone (pruned, removed) is simply a miss.
 */
public final class BuildCache {
    private static final Logger LOG = LoggerFactory.getLogger(BuildCache.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path file;
    private final TreeMap<String, String> entries = new TreeMap<>();
    private final java.util.TreeSet<String> results = new java.util.TreeSet<>();

    public BuildCache(Path file) throws IOException {
        this.file = file;
        if (Files.exists(file)) {
            try {
                Map<String, Object> m = JSON.readValue(Files.readAllBytes(file), new TypeReference<>() {});
                if (m.get("entries") instanceof Map<?, ?> e) e.forEach((k, v) -> entries.put(String.valueOf(k), String.valueOf(v)));
                if (m.get("results") instanceof List<?> r) r.forEach(x -> results.add(String.valueOf(x)));
            } catch (RuntimeException e) {
                LOG.warn("ignoring unreadable build cache {}: {}", file, e.getMessage());
            }
        }
    }

    /** The cache key of a step: the sha256 of its parts, each followed by a NUL. */
    public static String key(String parentImageId, String kind, String text, List<String> more) {
        StringBuilder b = new StringBuilder();
        b.append(parentImageId == null ? "" : parentImageId).append('\0').append(kind).append('\0').append(text).append('\0');
        for (String m : more) b.append(m).append('\0');
        return Digest.sha256(b.toString().getBytes(StandardCharsets.UTF_8)).hex();
    }

    public synchronized Digest get(String key) {
        String v = entries.get(key);
        return v == null ? null : Digest.parse(v);
    }

    public synchronized void put(String key, Digest imageId) throws IOException {
        String old = entries.put(key, imageId.toString());
        if (!imageId.toString().equals(old)) save();
    }

    /** Removes the entries whose image {@code drop} picks; returns those images, each once. */
    public synchronized List<Digest> removeIf(Predicate<Digest> drop) throws IOException {
        List<Digest> removed = new ArrayList<>();
        var it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Digest d = Digest.parse(it.next().getValue());
            if (drop.test(d)) {
                it.remove();
                if (!removed.contains(d)) removed.add(d);
            }
        }
        results.removeIf(r -> drop.test(Digest.parse(r)));
        if (!removed.isEmpty()) save();
        return removed;
    }

    /** True when a cache entry names this image (an intermediate image of some build). */
    public synchronized boolean names(Digest imageId) {
        return entries.containsValue(imageId.toString());
    }

    /** Remembers that a build ended with this image: it is a result, not only an intermediate step. */
    public synchronized void markResult(Digest imageId) throws IOException {
        if (results.add(imageId.toString())) save();
    }

    /** True when some build ended with this image. */
    public synchronized boolean isResult(Digest imageId) {
        return results.contains(imageId.toString());
    }

    /** The entries, cache key to the image ID the step made, in key order. */
    public synchronized Map<String, String> entries() {
        return new TreeMap<>(entries);
    }

    /** Every image the cache names, each once. */
    public synchronized List<Digest> images() {
        return entries.values().stream().distinct().map(Digest::parse).toList();
    }

    public synchronized int size() {
        return entries.size();
    }

    private void save() throws IOException {
        io.berth.sys.PrivateFiles.createDirectories(file.getParent());
        AtomicFiles.write(file, JSON.writeValueAsBytes(Map.of("entries", entries, "results", results)));
    }
}
