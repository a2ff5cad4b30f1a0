package io.berth.image;

import io.berth.content.ContentGc;
import io.berth.content.ContentStore;
import io.berth.content.Digest;
import io.berth.snapshot.SnapshotException;
import io.berth.snapshot.Snapshotter;
import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.type.TypeReference;

/**
 * The images of one data root: records, names, layers.
 *
 * <pre>
 * images/records/&lt;id-hex&gt;.json   an {@link ImageRecord}; the config blob is in the content store
 * images/references.json          canonical reference (name:tag or name@digest) → image ID
 * images/distribution.json        DiffID → compressed blobs known for it and the repositories holding them
 * snapshots/…                     one committed snapshot per layer, keyed by its chain ID ("sha256:…")
 * </pre>
 *
 * Layers shared by images are unpacked once; a layer's snapshot and blobs go when the last
 * image using it goes. Every state file is written atomically; on open, records whose
 * config or layers are missing, references to missing images, and layer snapshots no
 * image uses (a pull cut short) are removed, and unreferenced blobs are collected.
 */
public final class ImageStore {
    private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
    private static final String CHAIN_PREFIX = "sha256:";

    /** An image as the API shows it: the record, its config, its names. */
    public record Image(ImageRecord record, ImageConfigBlob configBlob, List<ImageReference> tags, List<ImageReference> digests) {
        public Digest id() {
            return record.id();
        }

        public ImageConfig config() {
            return configBlob.config();
        }

        /** No tag names it (Docker's {@code <none>:<none>}). */
        public boolean dangling() {
            return tags.isEmpty();
        }

        public Instant created() {
            return config().createdAt().orElse(Instant.EPOCH);
        }
    }

    /** A compressed blob known to hold a layer, and the repositories ({@code host/path}) known to have it. */
    public record BlobLocation(Digest digest, String mediaType, long size, List<String> repositories) {
        public BlobLocation {
            repositories = repositories == null ? List.of() : List.copyOf(repositories);
        }
    }

    /** One line of {@code docker rmi}'s answer. */
    public sealed interface DeleteItem {
        record Untagged(String reference) implements DeleteItem {}

        record Deleted(Digest id) implements DeleteItem {}
    }

    /** What deleting did: the lines of the answer and the bytes of layers removed. */
    public record DeleteResult(List<DeleteItem> items, long reclaimed) {}

    /** What {@link #tag} did: the image the tag pointed at before, if it moved. */
    public record TagResult(Optional<Digest> previous) {}

    /** What applying a layer did. */
    public record LayerApplied(boolean unpacked, long size, long tarSize) {}

    /** Opens a layer blob's bytes. */
    @FunctionalInterface
    public interface BlobOpener {
        InputStream open() throws IOException;
    }

    private final Path recordsDir;
    private final Path refsFile;
    private final Path distFile;
    private final ContentStore content;
    private final Snapshotter snapshots;
    private final Object lock = new Object();
    private final Map<Digest, ImageRecord> records = new HashMap<>();
    private final Map<Digest, ImageConfigBlob> configs = new HashMap<>();
    private final TreeMap<String, Digest> refs = new TreeMap<>();
    private final Map<Digest, List<BlobLocation>> distribution = new TreeMap<>(Comparator.comparing(Digest::toString));
    private final Map<Digest, Integer> held = new HashMap<>();
    private final Map<Digest, ReentrantLock> layerLocks = new ConcurrentHashMap<>();
    private final Map<Digest, LayerApplied> recentLayers = new ConcurrentHashMap<>();
    /** Which containers use an image (the container box answers); delete and prune keep those. */
    private final ImageUsage usage;

    private ImageStore(Path dataRoot, ContentStore content, Snapshotter snapshots, ImageUsage usage) {
        this.usage = usage == null ? ImageUsage.NONE : usage;
        Path dir = dataRoot.resolve("images");
        this.recordsDir = dir.resolve("records");
        this.refsFile = dir.resolve("references.json");
        this.distFile = dir.resolve("distribution.json");
        this.content = content;
        this.snapshots = snapshots;
    }

    /** Loads the store under {@code dataRoot/images} and reconciles it with the snapshots and blobs. */
    public static ImageStore open(Path dataRoot, ContentStore content, Snapshotter snapshots) throws IOException {
        return open(dataRoot, content, snapshots, ImageUsage.NONE);
    }

    /** As {@link #open(Path, ContentStore, Snapshotter)}, asking {@code usage} which containers use an image. */
    public static ImageStore open(Path dataRoot, ContentStore content, Snapshotter snapshots, ImageUsage usage) throws IOException {
        ImageStore s = new ImageStore(dataRoot, content, snapshots, usage);
        s.load();
        s.reconcile();
        return s;
    }

    public ContentStore content() {
        return content;
    }

    public Snapshotter snapshots() {
        return snapshots;
    }

    public ImageUsage usage() {
        return usage;
    }

    /** The snapshot key of a layer: its chain ID. */
    public static String snapshotKey(Digest chainId) {
        return chainId.toString();
    }

    // ---------------------------------------------------------------- reading

    public List<Image> list() {
        synchronized (lock) {
            List<Image> out = new ArrayList<>();
            for (ImageRecord r : records.values()) out.add(view(r));
            out.sort(Comparator.comparing(Image::created).reversed().thenComparing(i -> i.id().toString()));
            return out;
        }
    }

    public int count() {
        synchronized (lock) {
            return records.size();
        }
    }

    public Optional<Image> get(Digest id) {
        synchronized (lock) {
            ImageRecord r = records.get(id);
            return r == null ? Optional.empty() : Optional.of(view(r));
        }
    }

    /** The image a reference names exactly ({@code :latest} added when it has neither tag nor digest). */
    public Optional<Image> find(ImageReference ref) {
        synchronized (lock) {
            Digest id = refs.get(ref.withDefaultTag().canonicalString());
            return id == null ? Optional.empty() : get(id);
        }
    }

    /**
     * The image {@code text} names: a full ID, a reference, or a unique ID prefix (the
     * reference first, as Docker does).
     *
     * @throws InvalidReferenceException when the text is neither
     * @throws ImageNotFoundException    {@code No such image: text}
     */
    public Image resolve(String text) {
        synchronized (lock) {
            return view(records.get(resolveId(text)));
        }
    }

    private Digest resolveId(String text) {
        ImageLookup look = ImageLookup.parse(text);
        switch (look) {
            case ImageLookup.ById byId -> {
                if (records.containsKey(byId.id())) return byId.id();
                throw ImageNotFoundException.of(text);
            }
            case ImageLookup.ByReference byRef -> {
                Digest id = refs.get(byRef.reference().withDefaultTag().canonicalString());
                if (id != null && records.containsKey(id)) return id;
                if (byRef.reference().digestOrNull() != null && byRef.reference().tagOrNull() == null) {
                    // name@digest where the digest is the image ID itself
                    Digest d = byRef.reference().digestOrNull();
                    if (records.containsKey(d) && refsOf(d).stream().anyMatch(r -> r.fullName().equals(byRef.reference().fullName()))) return d;
                }
                if (byRef.idPrefix().isPresent()) {
                    String prefix = byRef.idPrefix().get();
                    List<Digest> hits = records.keySet().stream().filter(d -> d.hex().startsWith(prefix)).toList();
                    if (hits.size() == 1) return hits.getFirst();
                }
                throw ImageNotFoundException.of(byRef.idPrefix().isPresent() ? text : byRef.reference().withDefaultTag().familiarString());
            }
        }
    }

    /** Every tag and digest reference of an image, tags first. */
    public List<ImageReference> references(Digest id) {
        synchronized (lock) {
            return refsOf(id);
        }
    }

    private List<ImageReference> refsOf(Digest id) {
        List<ImageReference> tags = new ArrayList<>();
        List<ImageReference> digests = new ArrayList<>();
        for (var e : refs.entrySet()) {
            if (!e.getValue().equals(id)) continue;
            ImageReference r = ImageReference.parse(e.getKey());
            if (r.digestOrNull() != null) digests.add(r); else tags.add(r);
        }
        tags.addAll(digests);
        return tags;
    }

    private Image view(ImageRecord r) {
        List<ImageReference> all = refsOf(r.id());
        return new Image(r, config(r.id()), all.stream().filter(x -> x.digestOrNull() == null).toList(),
                all.stream().filter(x -> x.digestOrNull() != null).toList());
    }

    private ImageConfigBlob config(Digest id) {
        ImageConfigBlob c = configs.get(id);
        if (c != null) return c;
        try {
            c = ImageConfigBlob.parse(content.readAll(id));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("reading the config of image " + id + ": " + e.getMessage(), e);
        }
        configs.put(id, c);
        return c;
    }

    /** Bytes of all layers kept (each shared layer once). */
    public long layersSize() {
        synchronized (lock) {
            Map<Digest, Long> sizes = new HashMap<>();
            for (ImageRecord r : records.values()) for (ImageRecord.Layer l : r.layers()) sizes.put(l.chainId(), l.size());
            return sizes.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Bytes of this image's layers that other images share too (Docker's SharedSize). */
    public long sharedSize(Digest id) {
        synchronized (lock) {
            ImageRecord r = records.get(id);
            if (r == null) return 0;
            long shared = 0;
            for (ImageRecord.Layer l : r.layers()) {
                for (ImageRecord other : records.values()) {
                    if (!other.id().equals(id) && other.chainIds().contains(l.chainId())) {
                        shared += l.size();
                        break;
                    }
                }
            }
            return shared;
        }
    }

    // ---------------------------------------------------------------- layers

    /** True when the layer with this chain ID is unpacked. */
    public boolean hasLayer(Digest chainId) {
        return snapshotExists(chainId);
    }

    private boolean snapshotExists(Digest chainId) {
        try {
            return snapshots.stat(snapshotKey(chainId)).kind() == Snapshotter.Kind.COMMITTED;
        } catch (SnapshotException e) {
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Unpacks a layer into the snapshot named by its chain ID, on its parent's, unless it is
     * there already; two callers with the same layer unpack it once. The DiffID of what was
     * unpacked must be {@code diffId}, or the snapshot is removed again and the call fails.
     */
    public LayerApplied applyLayer(Digest chainId, Digest parentChainId, Digest diffId, BlobOpener blob) throws IOException {
        ReentrantLock l = layerLocks.computeIfAbsent(chainId, k -> new ReentrantLock());
        l.lock();
        try {
            if (snapshotExists(chainId)) return new LayerApplied(false, knownSize(chainId), knownTarSize(chainId));
            Snapshotter.Applied a;
            try (InputStream in = blob.open()) {
                a = snapshots.applyLayer(snapshotKey(chainId), parentChainId == null ? null : snapshotKey(parentChainId), in);
            }
            if (!a.layer().diffId().equals(diffId)) {
                snapshots.remove(snapshotKey(chainId));
                throw new IOException("layer content does not match the image config: its DiffID is " + a.layer().diffId()
                        + " but the config says " + diffId + "; the layer was discarded");
            }
            LayerApplied applied = new LayerApplied(true, a.layer().bytesUnpacked(), a.layer().tarBytes());
            recentLayers.put(chainId, applied);
            return applied;
        } finally {
            l.unlock();
        }
    }

    private long knownSize(Digest chainId) throws IOException {
        synchronized (lock) {
            for (ImageRecord r : records.values()) {
                for (ImageRecord.Layer x : r.layers()) if (x.chainId().equals(chainId)) return x.size();
            }
        }
        LayerApplied recent = recentLayers.get(chainId);
        if (recent != null) return recent.size();
        return treeSize(snapshots.diffDir(snapshotKey(chainId)));
    }

    private long knownTarSize(Digest chainId) {
        synchronized (lock) {
            for (ImageRecord r : records.values()) {
                for (ImageRecord.Layer x : r.layers()) if (x.chainId().equals(chainId)) return x.tarSize();
            }
        }
        LayerApplied recent = recentLayers.get(chainId);
        return recent == null ? -1 : recent.tarSize();
    }

    private static long treeSize(Path dir) throws IOException {
        long[] total = {0};
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.forEach(p -> {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isRegularFile()) total[0] += a.size();
                } catch (IOException ignored) {
                    // vanished
                }
            });
        }
        return total[0];
    }

    /** Keeps layers (by chain ID) from removal while an operation that will use them runs. */
    public Hold hold(Collection<Digest> chainIds) {
        List<Digest> copy = List.copyOf(chainIds);
        synchronized (lock) {
            for (Digest d : copy) held.merge(d, 1, Integer::sum);
        }
        return new Hold(copy);
    }

    /** See {@link #hold}. */
    public final class Hold implements AutoCloseable {
        private final List<Digest> chainIds;
        private boolean closed;

        private Hold(List<Digest> chainIds) {
            this.chainIds = chainIds;
        }

        @Override
        public void close() {
            synchronized (lock) {
                if (closed) return;
                closed = true;
                for (Digest d : chainIds) held.computeIfPresent(d, (k, n) -> n == 1 ? null : n - 1);
            }
        }
    }

    // ---------------------------------------------------------------- adding and naming

    /**
     * Records an image whose layers are unpacked (each {@link #applyLayer}) and whose config
     * is {@code config}; the config blob is stored here. An image already known keeps its
     * record (manifests are added).
     */
    public Image add(ImageConfigBlob config, List<ImageRecord.Layer> layers, List<Digest> manifests) throws IOException {
        List<Digest> diffIds = config.config().diffIds();
        if (diffIds.size() != layers.size()) {
            throw new IllegalArgumentException("the image config lists " + diffIds.size() + " layers, but " + layers.size() + " were given");
        }
        List<Digest> chains = ImageRecord.chainIds(diffIds);
        for (int i = 0; i < layers.size(); i++) {
            if (!layers.get(i).chainId().equals(chains.get(i)) || !layers.get(i).diffId().equals(diffIds.get(i))) {
                throw new IllegalArgumentException("layer " + i + " does not match the config's DiffID " + diffIds.get(i));
            }
            if (!snapshotExists(chains.get(i))) throw new IllegalStateException("layer " + chains.get(i) + " is not unpacked");
        }
        Digest id = content.put(config.bytes());
        synchronized (lock) {
            ImageRecord existing = records.get(id);
            ImageRecord r;
            if (existing != null) {
                r = existing.withManifests(manifests);
                // a layer whose source blob is missing takes the new one
                List<ImageRecord.Layer> merged = new ArrayList<>();
                for (int i = 0; i < existing.layers().size(); i++) {
                    ImageRecord.Layer old = existing.layers().get(i);
                    merged.add(old.blob() == null || !content.exists(old.blob()) ? layers.get(i) : old);
                }
                r = new ImageRecord(id, merged, r.size(), r.stored(), r.lastTagTime(), r.manifests(), r.parent());
            } else {
                long size = layers.stream().mapToLong(ImageRecord.Layer::size).sum();
                r = new ImageRecord(id, layers, size, Instant.now().toString(), null, manifests);
            }
            if (!r.equals(existing)) writeRecord(r);
            records.put(id, r);
            configs.put(id, config);
            return view(r);
        }
    }

    /** Records the image a committed image was made from (shown as its Parent). */
    public void setParent(Digest id, Digest parent) throws IOException {
        synchronized (lock) {
            ImageRecord r = records.get(id);
            if (r == null || parent.equals(r.parent())) return;
            ImageRecord next = r.withParent(parent);
            writeRecord(next);
            records.put(id, next);
        }
    }

    /**
     * Points a tag at an image, moving it from another image if needed.
     *
     * @throws IllegalArgumentException when the reference has a digest
     */
    public TagResult tag(Digest id, ImageReference ref) throws IOException {
        if (ref.digestOrNull() != null) throw new IllegalArgumentException("refusing to create a tag with a digest reference");
        ImageReference tagged = ref.withDefaultTag();
        synchronized (lock) {
            ImageRecord r = records.get(id);
            if (r == null) throw ImageNotFoundException.of(id.toString());
            Digest previous = refs.put(tagged.canonicalString(), id);
            ImageRecord updated = r.withLastTagTime(Instant.now().toString());
            if (!id.equals(previous)) { // a tag that already names this image moves only LastTagTime: kept in memory until the record is next written
                writeRefs();
                writeRecord(updated);
            }
            records.put(id, updated);
            return new TagResult(previous == null || previous.equals(id) ? Optional.empty() : Optional.of(previous));
        }
    }

    /** Records {@code name@digest} (a manifest digest from a pull or push) for an image. */
    public void addDigestReference(Digest id, ImageReference withDigest) throws IOException {
        if (withDigest.digestOrNull() == null) throw new IllegalArgumentException("not a digest reference: " + withDigest);
        synchronized (lock) {
            if (!records.containsKey(id)) throw ImageNotFoundException.of(id.toString());
            String key = withDigest.nameOnly().withDigest(withDigest.digestOrNull()).canonicalString();
            if (id.equals(refs.get(key))) return;
            refs.put(key, id);
            writeRefs();
        }
    }

    /** Adds manifests (kept in the content store) to an image's record. */
    public void addManifests(Digest id, List<Digest> manifests) throws IOException {
        synchronized (lock) {
            ImageRecord r = records.get(id);
            if (r == null) return;
            ImageRecord updated = r.withManifests(manifests);
            if (!updated.equals(r)) {
                writeRecord(updated);
                records.put(id, updated);
            }
        }
    }

    /** Removes a tag or digest reference; false when there was none. */
    public boolean untag(ImageReference ref) throws IOException {
        synchronized (lock) {
            boolean removed = refs.remove(ref.withDefaultTag().canonicalString()) != null;
            if (removed) writeRefs();
            return removed;
        }
    }

    // ---------------------------------------------------------------- distribution metadata

    /** Compressed blobs known for a layer, most recently recorded first. */
    public List<BlobLocation> blobsFor(Digest diffId) {
        synchronized (lock) {
            return List.copyOf(distribution.getOrDefault(diffId, List.of()));
        }
    }

    /** Remembers that {@code blob} holds layer {@code diffId} and, when given, that {@code repository} has it. */
    public void recordBlob(Digest diffId, Digest blob, String mediaType, long size, String repository) throws IOException {
        synchronized (lock) {
            List<BlobLocation> list = new ArrayList<>(distribution.getOrDefault(diffId, List.of()));
            BlobLocation old = null;
            for (BlobLocation b : list) if (b.digest().equals(blob)) old = b;
            Set<String> repos = new LinkedHashSet<>();
            if (repository != null) repos.add(repository);
            if (old != null) {
                repos.addAll(old.repositories());
                list.remove(old);
            }
            BlobLocation updated = new BlobLocation(blob, mediaType, size, List.copyOf(repos));
            if (updated.equals(old)) {
                list.addFirst(old);
                distribution.put(diffId, list);
                return;
            }
            list.addFirst(updated);
            distribution.put(diffId, list);
            writeDistribution();
        }
    }

    // ---------------------------------------------------------------- deleting

    /**
     * {@code docker rmi}: a tag or digest reference is untagged, and the image deleted when
     * that was its last reference; an ID deletes the image (with force, its references too).
     */
    public DeleteResult delete(String text, boolean force) throws IOException {
        synchronized (lock) {
            Digest id = resolveId(text);
            ImageLookup look = ImageLookup.parse(text);
            List<DeleteItem> items = new ArrayList<>();
            List<ImageUsage.User> users = usage.users(id);
            boolean byReference = look instanceof ImageLookup.ByReference br
                    && id.equals(refs.get(br.reference().withDefaultTag().canonicalString()));
            if (byReference) {
                ImageReference ref = ((ImageLookup.ByReference) look).reference().withDefaultTag();
                List<ImageReference> all = refsOf(id);
                if (all.size() == 1 && !force && !users.isEmpty()) {
                    throw new ImageConflictException("conflict: unable to remove repository reference \"" + text + "\" (must force) - container "
                            + shortId(users.getFirst().containerId()) + " is using its referenced image " + id.hex().substring(0, 12));
                }
                refs.remove(ref.canonicalString());
                items.add(new DeleteItem.Untagged(ref.familiarString()));
                if (ref.tagOrNull() != null) {
                    List<ImageReference> left = refsOf(id);
                    boolean tagInRepo = left.stream().anyMatch(r -> r.tagOrNull() != null && r.fullName().equals(ref.fullName()));
                    if (!tagInRepo) {
                        for (ImageReference r : left) {
                            if (r.digestOrNull() != null && r.fullName().equals(ref.fullName())) {
                                refs.remove(r.canonicalString());
                                items.add(new DeleteItem.Untagged(r.familiarString()));
                            }
                        }
                    }
                }
                writeRefs();
                if (!refsOf(id).isEmpty() || !users.isEmpty()) return new DeleteResult(items, 0);
            } else {
                for (ImageUsage.User u : users) {
                    if (u.running()) {
                        throw new ImageConflictException("conflict: unable to delete " + id.hex().substring(0, 12)
                                + " (cannot be forced) - image is being used by running container " + shortId(u.containerId()));
                    }
                }
                List<ImageReference> all = refsOf(id);
                if (!force && !users.isEmpty()) {
                    throw new ImageConflictException("conflict: unable to delete " + id.hex().substring(0, 12)
                            + " (must be forced) - image is being used by stopped container " + shortId(users.getFirst().containerId()));
                }
                long repositories = all.stream().map(ImageReference::fullName).distinct().count();
                if (!force && repositories > 1) {
                    throw new ImageConflictException("conflict: unable to delete " + id.hex().substring(0, 12)
                            + " (must be forced) - image is referenced in multiple repositories");
                }
                for (ImageReference r : all) {
                    refs.remove(r.canonicalString());
                    items.add(new DeleteItem.Untagged(r.familiarString()));
                }
                if (!all.isEmpty()) writeRefs();
                if (!users.isEmpty()) return new DeleteResult(items, 0); // forced: the stopped container keeps the image, untagged
            }
            long reclaimed = removeImageLocked(id, items);
            return new DeleteResult(items, reclaimed);
        }
    }

    /**
     * Deletes every image {@code select} picks that no container uses, with all its
     * references: {@code docker image prune}.
     */
    public DeleteResult prune(Predicate<Image> select) throws IOException {
        synchronized (lock) {
            List<DeleteItem> items = new ArrayList<>();
            long reclaimed = 0;
            for (ImageRecord r : List.copyOf(records.values())) {
                Image img = view(r);
                if (!select.test(img) || !usage.users(r.id()).isEmpty()) continue;
                List<ImageReference> all = refsOf(r.id());
                for (ImageReference ref : all) {
                    refs.remove(ref.canonicalString());
                    items.add(new DeleteItem.Untagged(ref.familiarString()));
                }
                if (!all.isEmpty()) writeRefs();
                reclaimed += removeImageLocked(r.id(), items);
            }
            // partial blobs no writer holds (a load or pull cut short, by a full disk say) are room to give back too
            reclaimed += content.reapIngests(ref -> true, null).bytes();
            return new DeleteResult(items, reclaimed);
        }
    }

    /** Removes the record, then the layers and blobs nothing else uses; returns the bytes of layers removed. */
    private long removeImageLocked(Digest id, List<DeleteItem> items) throws IOException {
        ImageRecord r = records.remove(id);
        configs.remove(id);
        Files.deleteIfExists(recordFile(id));
        AtomicFiles.syncDirectory(recordsDir);
        items.add(new DeleteItem.Deleted(id));
        Set<Digest> usedChains = usedChainsLocked();
        long reclaimed = 0;
        List<ImageRecord.Layer> layers = new ArrayList<>(r.layers());
        java.util.Collections.reverse(layers);
        for (ImageRecord.Layer l : layers) {
            if (usedChains.contains(l.chainId())) continue;
            try {
                snapshots.remove(snapshotKey(l.chainId()));
                recentLayers.remove(l.chainId());
                reclaimed += l.size();
                items.add(new DeleteItem.Deleted(l.chainId()));
            } catch (SnapshotException e) {
                LOG.info("keeping layer {}: {}", l.chainId(), e.getMessage());
                break; // a layer kept keeps its parents
            }
        }
        Set<Digest> live = liveBlobsLocked();
        Set<Digest> candidates = new LinkedHashSet<>();
        candidates.add(id);
        candidates.addAll(r.manifests());
        for (ImageRecord.Layer l : r.layers()) {
            if (l.blob() != null) candidates.add(l.blob());
            for (BlobLocation b : distribution.getOrDefault(l.diffId(), List.of())) candidates.add(b.digest());
        }
        Set<Digest> leased = content.leasedDigests();
        for (Digest d : candidates) {
            if (live.contains(d) || leased.contains(d) || content.isBeingWritten(d)) continue;
            for (Digest child : manifestChildren(d)) {
                if (!live.contains(child) && !leased.contains(child) && !content.isBeingWritten(child)) content.delete(child);
            }
            content.delete(d);
        }
        Set<Digest> usedDiffIds = new HashSet<>();
        for (ImageRecord x : records.values()) for (ImageRecord.Layer l : x.layers()) usedDiffIds.add(l.diffId());
        if (distribution.keySet().removeIf(d -> !usedDiffIds.contains(d))) writeDistribution();
        return reclaimed;
    }

    private List<Digest> manifestChildren(Digest d) {
        try {
            if (!content.exists(d)) return List.of();
            return new ManifestReferences(content).children(d);
        } catch (IOException e) {
            return List.of();
        }
    }

    private Set<Digest> usedChainsLocked() {
        Set<Digest> used = new HashSet<>(held.keySet());
        for (ImageRecord x : records.values()) used.addAll(x.chainIds());
        return used;
    }

    /** The blobs image records point at (configs, layer blobs, manifests, known compressed blobs of used layers). */
    private Set<Digest> liveBlobsLocked() {
        Set<Digest> live = new HashSet<>();
        for (ImageRecord x : records.values()) {
            live.add(x.id());
            live.addAll(x.manifests());
            for (ImageRecord.Layer l : x.layers()) {
                if (l.blob() != null) live.add(l.blob());
                for (BlobLocation b : distribution.getOrDefault(l.diffId(), List.of())) live.add(b.digest());
            }
        }
        for (Digest d : refs.values()) live.add(d);
        for (String key : refs.keySet()) {
            int at = key.indexOf('@');
            if (at > 0) live.add(Digest.parse(key.substring(at + 1)));
        }
        Set<Digest> withChildren = new HashSet<>(live);
        for (Digest d : live) {
            if (!records.containsKey(d)) withChildren.addAll(manifestChildren(d));
        }
        for (ImageRecord x : records.values()) for (Digest m : x.manifests()) withChildren.addAll(manifestChildren(m));
        return withChildren;
    }

    /**
     * Removes what no image uses, as at start: layer snapshots (chain-ID keys) no record or
     * operation holds, and blobs no record reaches. Leased and in-flight blobs stay.
     */
    public ContentGc.Result collectGarbage() throws IOException {
        synchronized (lock) {
            Set<Digest> used = usedChainsLocked();
            boolean progress = true;
            while (progress) {
                progress = false;
                for (Snapshotter.Info info : snapshots.list()) {
                    if (!info.key().startsWith(CHAIN_PREFIX) || info.kind() != Snapshotter.Kind.COMMITTED) continue;
                    Digest chain;
                    try {
                        chain = Digest.parse(info.key());
                    } catch (IllegalArgumentException e) {
                        continue;
                    }
                    if (used.contains(chain)) continue;
                    boolean hasChildren = snapshots.list().stream().anyMatch(i -> info.key().equals(i.parent()));
                    if (hasChildren) continue;
                    LOG.info("removing layer {}, which no image uses", info.key());
                    snapshots.remove(info.key());
                    recentLayers.remove(chain);
                    progress = true;
                }
            }
            ContentGc gc = new ContentGc(content, new ManifestReferences(content), Duration.ZERO);
            return gc.sweep(liveBlobsLocked());
        }
    }

    // ---------------------------------------------------------------- files

    private void load() throws IOException {
        io.berth.sys.PrivateFiles.createDirectories(recordsDir);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(recordsDir, "*.json")) {
            for (Path p : ds) {
                if (p.getFileName().toString().startsWith(".")) continue;
                try {
                    ImageRecord r = ImageJson.MAPPER.readValue(Files.readAllBytes(p), ImageRecord.class);
                    records.put(r.id(), r);
                } catch (RuntimeException e) {
                    LOG.warn("ignoring unreadable image record {}: {}", p, e.getMessage());
                }
            }
        }
        if (Files.exists(refsFile)) {
            Map<String, Map<String, Digest>> m = ImageJson.MAPPER.readValue(Files.readAllBytes(refsFile), new TypeReference<>() {});
            Map<String, Digest> r = m.get("references");
            if (r != null) refs.putAll(r);
        }
        if (Files.exists(distFile)) {
            Map<String, List<BlobLocation>> m = ImageJson.MAPPER.readValue(Files.readAllBytes(distFile), new TypeReference<>() {});
            m.forEach((k, v) -> distribution.put(Digest.parse(k), new ArrayList<>(v)));
        }
    }

    private void reconcile() throws IOException {
        synchronized (lock) {
            for (ImageRecord r : List.copyOf(records.values())) {
                String problem = null;
                if (!content.exists(r.id())) problem = "its config blob is missing";
                else {
                    for (Digest chain : r.chainIds()) {
                        if (!snapshotExists(chain)) {
                            problem = "its layer " + chain + " is missing";
                            break;
                        }
                    }
                }
                if (problem != null) {
                    LOG.warn("removing image {}: {}", r.id(), problem);
                    records.remove(r.id());
                    Files.deleteIfExists(recordFile(r.id()));
                }
            }
            if (refs.values().removeIf(id -> !records.containsKey(id))) writeRefs();
            ContentGc.Result gc = collectGarbage();
            if (!gc.removed().isEmpty()) LOG.info("removed {} unused blobs ({} bytes)", gc.removed().size(), gc.bytesFreed());
            reapIngestsAtStart();
        }
    }

    /** The prefix of the content store's ingest refs of pulls' downloads, the only ones that resume. */
    public static final String PULL_INGEST = "pull-";

    /**
     * Partial blobs left by a failure or a crash: those of loads, imports, builds and commits
     * can never resume, so all go; a pull's download stays for a resume, a day at the most,
     * and not at all when the data root is short of room (a full disk is the likely reason
     * it was cut short).
     */
    private void reapIngestsAtStart() throws IOException {
        ContentStore.Reaped dead = content.reapIngests(ref -> ref == null || !ref.startsWith(PULL_INGEST), null);
        boolean short_ = shortOfRoom(content.root());
        ContentStore.Reaped pulls = content.reapIngests(ref -> true, short_ ? null : Duration.ofDays(1));
        if (dead.count() + pulls.count() > 0) {
            LOG.info("removed {} partial blobs of interrupted loads, imports or builds and {} of pulls{} ({} bytes)",
                    dead.count(), pulls.count(), short_ ? " (the data root is short of room)" : " older than a day",
                    dead.bytes() + pulls.bytes());
        }
    }

    /** Less than a tenth of the file system, or 256 MiB, free. */
    private static boolean shortOfRoom(Path dir) {
        try {
            java.nio.file.FileStore fs = Files.getFileStore(dir);
            long free = fs.getUsableSpace();
            return free < fs.getTotalSpace() / 10 || free < (256L << 20);
        } catch (IOException e) {
            return false;
        }
    }

    private Path recordFile(Digest id) {
        return recordsDir.resolve(id.hex() + ".json");
    }

    private void writeRecord(ImageRecord r) throws IOException {
        AtomicFiles.write(recordFile(r.id()), ImageJson.toBytes(r));
    }

    private void writeRefs() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("references", refs);
        AtomicFiles.write(refsFile, ImageJson.toBytes(m));
    }

    private void writeDistribution() throws IOException {
        Map<String, List<BlobLocation>> m = new TreeMap<>();
        distribution.forEach((k, v) -> m.put(k.toString(), v));
        AtomicFiles.write(distFile, ImageJson.toBytes(m));
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }
}
