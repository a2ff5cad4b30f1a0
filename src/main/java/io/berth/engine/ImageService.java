package io.berth.engine;

import io.berth.content.ContentStore;
import io.berth.content.Digest;
import io.berth.image.ConfigChanges;
import io.berth.image.Descriptor;
import io.berth.image.ImageArchive;
import io.berth.image.ImageConfig;
import io.berth.image.ImageConfigBlob;
import io.berth.image.ImageJson;
import io.berth.image.ImageManifest;
import io.berth.image.ImageNotFoundException;
import io.berth.image.ImageRecord;
import io.berth.image.ImageReference;
import io.berth.image.ImageStore;
import io.berth.image.InvalidManifestException;
import io.berth.image.LayerCompression;
import io.berth.image.LayerMediaType;
import io.berth.image.ManifestParser;
import io.berth.image.MediaTypes;
import io.berth.image.ParsedManifest;
import io.berth.image.Platform;
import io.berth.image.PlatformMatcher;
import io.berth.registry.BlobSink;
import io.berth.registry.DigestMismatchException;
import io.berth.registry.FetchedManifest;
import io.berth.registry.LoginResult;
import io.berth.registry.RegistryAuth;
import io.berth.registry.RegistryClient;
import io.berth.registry.RegistryConfig;
import io.berth.registry.RepositoryRef;
import io.berth.snapshot.Decompression;
import io.berth.snapshot.Snapshotter;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The image use cases: pull, push, login, load, save, import, tag, delete, prune, history.
 * Each reports progress to a {@link Progress.Sink} and publishes image events.
 */
public final class ImageService {
    private static final Logger LOG = LoggerFactory.getLogger(ImageService.class);
    private static final long MAX_CONFIG = 16L << 20;

    private final Supplier<EngineSettings> settings;
    private final EventBus events;
    private final ImageStore store;
    private final Map<Digest, ReentrantLock> compressLocks = new ConcurrentHashMap<>();
    private volatile RegistryClient registry;
    private volatile EngineSettings registryFor;

    ImageService(Supplier<EngineSettings> settings, EventBus events, ImageStore store) {
        this.settings = settings;
        this.events = events;
        this.store = store;
    }

    /** Opens the content store, snapshots and image store under the data root. */
    public static ImageService open(java.nio.file.Path dataRoot, Supplier<EngineSettings> settings, EventBus events) throws IOException {
        return open(dataRoot, settings, events, io.berth.image.ImageUsage.NONE);
    }

    /** As {@link #open(java.nio.file.Path, Supplier, EventBus)}; {@code usage} tells which containers use an image. */
    public static ImageService open(java.nio.file.Path dataRoot, Supplier<EngineSettings> settings, EventBus events,
                                    io.berth.image.ImageUsage usage) throws IOException {
        ContentStore content = new ContentStore(dataRoot);
        Snapshotter snapshots = new Snapshotter(dataRoot);
        return new ImageService(settings, events, ImageStore.open(dataRoot, content, snapshots, usage));
    }

    public ImageStore store() {
        return store;
    }

    /** The registry client for the current settings (insecure registries, mirrors). */
    public RegistryClient registry() {
        EngineSettings s = settings.get();
        RegistryClient r = registry;
        if (r == null || registryFor != s) {
            r = new RegistryClient(new RegistryConfig(s.insecureRegistries(), s.registryMirrors(), s.registryHostMirrors()));
            registry = r;
            registryFor = s;
        }
        return r;
    }

    // ================================================================ pull

    /**
     * Pulls {@code ref} (a tag or a digest; {@code :latest} when neither) for {@code platform}
     * (null: this host), downloading layers in parallel, each once even when other pulls want it.
     */
    public ImageStore.Image pull(ImageReference ref, Platform platform, RegistryAuth auth, Progress.Sink out) throws IOException {
        ImageReference want = ref.digestOrNull() != null ? new ImageReference(ref.domain(), ref.path(), null, ref.digestOrNull()) : ref.withDefaultTag();
        RegistryClient client = registry().withAuth(auth);
        RepositoryRef repo = new RepositoryRef(want.domain(), want.path());
        String reference = want.digestOrNull() != null ? want.digestOrNull().toString() : want.tagOrNull();
        FetchedManifest top = client.fetchManifest(repo, reference);
        out.emit(new Progress.Status(reference, "Pulling from " + want.path()));
        ContentStore content = store.content();
        List<Digest> manifests = new ArrayList<>();
        ParsedManifest parsed = ManifestParser.parse(top.bytes(), top.mediaType());
        try (ContentStore.Lease manifestLease = content.lease(List.of(top.digest()))) {
            content.put(top.bytes());
            manifests.add(top.digest());
            ParsedManifest.Image image;
            List<ContentStore.Lease> leases = new ArrayList<>();
            try {
                if (parsed instanceof ParsedManifest.Index index) {
                    PlatformMatcher matcher = platform == null ? PlatformMatcher.forHost() : PlatformMatcher.of(platform);
                    Descriptor chosen = matcher.select(index.index());
                    FetchedManifest child = client.fetchManifest(repo, chosen.digest().toString());
                    leases.add(content.lease(List.of(child.digest())));
                    ParsedManifest p = ManifestParser.parse(child.bytes(), child.mediaType());
                    if (!(p instanceof ParsedManifest.Image img)) {
                        throw new InvalidManifestException("invalid image: the index entry for " + matcher.wanted() + " is itself an index");
                    }
                    content.put(child.bytes());
                    manifests.add(child.digest());
                    image = img;
                } else {
                    image = (ParsedManifest.Image) parsed;
                }
                ImageManifest manifest = image.manifest();
                Descriptor cfg = manifest.config();
                leases.add(content.lease(List.of(cfg.digest())));
                ImageConfigBlob config = ImageConfigBlob.parse(fetchSmallBlob(client, repo, cfg));
                List<Digest> diffIds = config.config().diffIds();
                List<Descriptor> layers = manifest.layers();
                if (diffIds.size() != layers.size()) {
                    throw new InvalidManifestException("invalid image " + want + ": the manifest lists " + layers.size()
                            + " layers but the config has " + diffIds.size() + " DiffIDs");
                }
                for (Descriptor d : layers) {
                    if (LayerMediaType.of(d.mediaType()).isEmpty()) {
                        throw new InvalidManifestException("unsupported layer media type \"" + d.mediaType() + "\" in " + want);
                    }
                }
                leases.add(content.lease(layers.stream().map(Descriptor::digest).toList()));
                List<Digest> chains = ImageRecord.chainIds(diffIds);
                boolean upToDate;
                ImageStore.Image result;
                try (ImageStore.Hold hold = store.hold(chains)) {
                    Optional<ImageStore.Image> before = store.find(want);
                    List<ImageRecord.Layer> records = pullLayers(client, repo, layers, diffIds, chains, out);
                    result = store.add(config, records, manifests);
                    upToDate = before.isPresent() && before.get().id().equals(result.id());
                    if (want.tagOrNull() != null) store.tag(result.id(), want);
                    store.addDigestReference(result.id(), want.nameOnly().withDigest(top.digest()));
                }
                out.emit(new Progress.Status(null, "Digest: " + top.digest()));
                out.emit(new Progress.Status(null, "Status: " + (upToDate ? "Image is up to date for " : "Downloaded newer image for ")
                        + want.familiarString()));
                events.publish("image", "pull", want.familiarString(), Map.of("name", want.familiarName()));
                return store.get(result.id()).orElse(result);
            } finally {
                for (ContentStore.Lease l : leases) l.close();
            }
        }
    }

    private byte[] fetchSmallBlob(RegistryClient client, RepositoryRef repo, Descriptor d) throws IOException {
        ContentStore content = store.content();
        if (d.size() > MAX_CONFIG) throw new InvalidManifestException("image config " + d.digest() + " is " + d.size() + " bytes, too large");
        if (!content.exists(d.digest())) {
            try (ContentStore.Writer w = content.openWriter(io.berth.image.ImageStore.PULL_INGEST + d.digest(), d.digest(), d.size() > 0 ? d.size() : -1)) {
                if (!w.alreadyExists()) {
                    client.fetchBlob(repo, d.digest(), d.size() > 0 ? d.size() : -1, sinkOf(w), 0, null);
                    w.commit();
                }
            }
        }
        return content.readAll(d.digest());
    }

    private List<ImageRecord.Layer> pullLayers(RegistryClient client, RepositoryRef repo, List<Descriptor> layers, List<Digest> diffIds,
                                               List<Digest> chains, Progress.Sink out) throws IOException {
        ContentStore content = store.content();
        int n = layers.size();
        boolean[] needed = new boolean[n];
        for (int i = 0; i < n; i++) {
            String id = layers.get(i).digest().shortHex();
            needed[i] = !store.hasLayer(chains.get(i));
            out.emit(new Progress.Status(id, needed[i] ? "Pulling fs layer" : "Already exists"));
        }
        Semaphore slots = new Semaphore(Math.max(1, settings.get().maxConcurrentDownloads()));
        List<ImageRecord.Layer> result = new ArrayList<>();
        List<Future<?>> downloads = new ArrayList<>();
        ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor();
        boolean ok = false;
        try {
            for (int i = 0; i < n; i++) {
                Descriptor d = layers.get(i);
                downloads.add(needed[i] ? exec.submit(() -> {
                    download(client, repo, d, slots, out);
                    return null;
                }) : null);
            }
            for (int i = 0; i < n; i++) {
                Descriptor d = layers.get(i);
                String id = d.digest().shortHex();
                if (downloads.get(i) != null) await(downloads.get(i));
                Throttle throttle = new Throttle();
                long total = d.size() > 0 ? d.size() : -1;
                ImageStore.LayerApplied applied = store.applyLayer(chains.get(i), i == 0 ? null : chains.get(i - 1), diffIds.get(i),
                        () -> new CountingInput(content.open(d.digest()), count -> {
                            if (throttle.due(count, total)) out.emit(new Progress.Bytes(id, "Extracting", count, total));
                        }));
                if (needed[i]) out.emit(new Progress.Status(id, "Pull complete"));
                Digest blob = content.exists(d.digest()) ? d.digest() : null;
                result.add(new ImageRecord.Layer(diffIds.get(i), chains.get(i), applied.size(), applied.tarSize(), blob, d.mediaType()));
                store.recordBlob(diffIds.get(i), d.digest(), d.mediaType(), d.size(), repo.toString());
            }
            ok = true;
            return result;
        } finally {
            if (!ok) for (Future<?> f : downloads) if (f != null) f.cancel(true);
            exec.close();
        }
    }

    private void download(RegistryClient client, RepositoryRef repo, Descriptor d, Semaphore slots, Progress.Sink out) throws IOException {
        String id = d.digest().shortHex();
        long size = d.size() > 0 ? d.size() : -1;
        ContentStore content = store.content();
        if (content.exists(d.digest())) {
            out.emit(new Progress.Status(id, "Download complete"));
            return;
        }
        out.emit(new Progress.Status(id, "Waiting"));
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to download " + d.digest());
        }
        try (ContentStore.Writer w = content.openWriter(io.berth.image.ImageStore.PULL_INGEST + d.digest(), d.digest(), size)) {
            if (!w.alreadyExists()) {
                Throttle throttle = new Throttle();
                try {
                    client.fetchBlob(repo, d.digest(), size, sinkOf(w), w.offset(), (current, total) -> {
                        if (throttle.due(current, total)) out.emit(new Progress.Bytes(id, "Downloading", current, total));
                    });
                    out.emit(new Progress.Status(id, "Verifying Checksum"));
                    w.commit();
                } catch (DigestMismatchException e) {
                    w.abort();
                    throw e;
                }
            }
            out.emit(new Progress.Status(id, "Download complete"));
        } finally {
            slots.release();
        }
    }

    private static BlobSink sinkOf(ContentStore.Writer w) {
        return new BlobSink() {
            @Override
            public OutputStream open(long offset) throws IOException {
                if (offset == 0 && w.offset() != 0) w.reset();
                else if (offset != w.offset()) throw new IOException("cannot resume " + w.expected() + " at " + offset + ": " + w.offset() + " bytes are held");
                return new FilterOutputStream(w) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        w.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        w.flush();
                    }
                };
            }

            @Override
            public InputStream existing(long length) throws IOException {
                return w.readWritten(length);
            }
        };
    }

    private static void await(Future<?> f) throws IOException {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while pulling");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) throw io;
            if (c instanceof RuntimeException re) throw re;
            throw new IOException(c.getMessage(), c);
        }
    }

    // ================================================================ push

    /**
     * Pushes {@code name:tag}, or every tag of the repository when {@code tag} is null; layers
     * go as gzip blobs (made once and kept), mounted from another repository of the same
     * registry when one is known to hold them.
     */
    public void push(ImageReference name, String tag, RegistryAuth auth, Progress.Sink out) throws IOException {
        ImageReference repoName = name.nameOnly();
        List<ImageReference> targets = new ArrayList<>();
        if (tag != null && !tag.isEmpty()) {
            targets.add(repoName.withTag(tag));
        } else if (name.tagOrNull() != null) {
            targets.add(repoName.withTag(name.tagOrNull()));
        } else {
            for (ImageStore.Image img : store.list()) {
                for (ImageReference t : img.tags()) if (t.fullName().equals(repoName.fullName())) targets.add(t);
            }
        }
        List<ImageStore.Image> images = new ArrayList<>();
        for (ImageReference t : targets) {
            images.add(store.find(t).orElseThrow(() -> new ImageNotFoundException("An image does not exist locally with the tag: " + repoName.familiarName())));
        }
        if (targets.isEmpty()) throw new ImageNotFoundException("An image does not exist locally with the tag: " + repoName.familiarName());
        out.emit(new Progress.Status(null, "The push refers to repository [" + repoName.fullName() + "]"));
        RegistryClient client = registry().withAuth(auth);
        RepositoryRef repo = new RepositoryRef(repoName.domain(), repoName.path());
        for (int i = 0; i < targets.size(); i++) pushOne(client, repo, targets.get(i), images.get(i), out);
    }

    private void pushOne(RegistryClient client, RepositoryRef repo, ImageReference target, ImageStore.Image img, Progress.Sink out) throws IOException {
        List<ImageRecord.Layer> layers = img.record().layers();
        for (int i = layers.size() - 1; i >= 0; i--) out.emit(new Progress.Status(layers.get(i).diffId().shortHex(), "Preparing"));
        Semaphore slots = new Semaphore(Math.max(1, settings.get().maxConcurrentUploads()));
        List<Future<ImageStore.BlobLocation>> uploads = new ArrayList<>();
        List<Map<String, Object>> layerDescriptors = new ArrayList<>();
        ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor();
        boolean ok = false;
        try {
            for (ImageRecord.Layer l : layers) uploads.add(exec.submit(() -> pushLayer(client, repo, l, slots, out)));
            for (Future<ImageStore.BlobLocation> f : uploads) {
                ImageStore.BlobLocation b;
                try {
                    b = f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while pushing");
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) throw io;
                    if (c instanceof RuntimeException re) throw re;
                    throw new IOException(c.getMessage(), c);
                }
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("mediaType", MediaTypes.DOCKER_LAYER_GZIP);
                d.put("size", b.size());
                d.put("digest", b.digest().toString());
                layerDescriptors.add(d);
            }
            ok = true;
        } finally {
            if (!ok) for (Future<?> f : uploads) f.cancel(true);
            exec.close();
        }
        byte[] config = img.configBlob().bytes();
        if (!client.blobExists(repo, img.id())) {
            client.uploadBlob(repo, img.id(), config.length, io.berth.registry.BlobSource.ofBytes(config), null);
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.DOCKER_MANIFEST);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("mediaType", MediaTypes.DOCKER_CONFIG);
        cfg.put("size", config.length);
        cfg.put("digest", img.id().toString());
        manifest.put("config", cfg);
        manifest.put("layers", layerDescriptors);
        byte[] bytes = ImageJson.toBytes(manifest);
        Digest digest = client.putManifest(repo, target.tagOrNull(), bytes, MediaTypes.DOCKER_MANIFEST);
        store.content().put(bytes);
        store.addManifests(img.id(), List.of(digest));
        store.addDigestReference(img.id(), target.nameOnly().withDigest(digest));
        out.emit(new Progress.Status(null, target.tagOrNull() + ": digest: " + digest + " size: " + bytes.length));
        out.emit(new Progress.Pushed(target.tagOrNull(), digest, bytes.length));
        events.publish("image", "push", target.familiarString(), Map.of("name", target.familiarName()));
    }

    private ImageStore.BlobLocation pushLayer(RegistryClient client, RepositoryRef repo, ImageRecord.Layer l, Semaphore slots, Progress.Sink out)
            throws IOException, InterruptedException {
        String id = l.diffId().shortHex();
        String here = repo.toString();
        slots.acquire();
        try {
            ImageStore.BlobLocation blob;
            ReentrantLock lock = compressLocks.computeIfAbsent(l.diffId(), k -> new ReentrantLock());
            lock.lock();
            try {
                blob = knownGzipBlob(l);
                if (blob == null && LayerCompression.compressesFasterThanUploads() && isPlainTar(store.content(), l.blob())) {
                    blob = compressIntoStore(l); // then uploaded below, as a blob compressed before
                } else if (blob == null) {
                    // Never compressed: no registry can know its digest yet, so it goes out as it is made.
                    blob = compressWhileUploading(client, repo, l, out);
                    out.emit(new Progress.Status(id, "Pushed"));
                    store.recordBlob(l.diffId(), blob.digest(), blob.mediaType(), blob.size(), here);
                    return blob;
                }
            } finally {
                lock.unlock();
            }
            if (blob.repositories().contains(here) && client.blobExists(repo, blob.digest())) {
                out.emit(new Progress.Status(id, "Layer already exists"));
            } else {
                String from = null;
                for (String r : blob.repositories()) {
                    int slash = r.indexOf('/');
                    if (slash > 0 && r.substring(0, slash).equals(repo.registryHost()) && !r.equals(here)) {
                        from = r.substring(slash + 1);
                        break;
                    }
                }
                ImageStore.BlobLocation b = blob;
                if (from != null && client.mountBlob(repo, b.digest(), new RepositoryRef(repo.registryHost(), from))) {
                    out.emit(new Progress.Status(id, "Mounted from " + from));
                } else if (client.blobExists(repo, b.digest())) {
                    out.emit(new Progress.Status(id, "Layer already exists"));
                } else {
                    Throttle throttle = new Throttle();
                    client.uploadBlob(repo, b.digest(), b.size(), () -> store.content().open(b.digest()), (current, total) -> {
                        if (throttle.due(current, total)) out.emit(new Progress.Bytes(id, "Pushing", current, total));
                    });
                    out.emit(new Progress.Status(id, "Pushed"));
                }
            }
            store.recordBlob(l.diffId(), blob.digest(), blob.mediaType(), blob.size(), here);
            return blob;
        } finally {
            slots.release();
        }
    }

    /** A gzip blob of the layer made before (by a push or a pull), or null when there is none yet. */
    private ImageStore.BlobLocation knownGzipBlob(ImageRecord.Layer l) throws IOException {
        ContentStore content = store.content();
        for (ImageStore.BlobLocation b : store.blobsFor(l.diffId())) {
            if (isGzip(b.mediaType()) && content.exists(b.digest())) return b;
        }
        if (l.blob() == null || !content.exists(l.blob())) {
            throw new IOException("cannot push layer " + l.diffId() + ": its blob is no longer stored; pull or load the image again");
        }
        if (isGzip(l.blobMediaType())) {
            long size = content.size(l.blob());
            store.recordBlob(l.diffId(), l.blob(), MediaTypes.DOCKER_LAYER_GZIP, size, null);
            return new ImageStore.BlobLocation(l.blob(), MediaTypes.DOCKER_LAYER_GZIP, size, List.of());
        }
        return null;
    }

    /**
     * Compresses a stored plain-tar layer into the content store and records the blob, without
     * a repository yet: the caller uploads it as any blob compressed before.
     */
    private ImageStore.BlobLocation compressIntoStore(ImageRecord.Layer l) throws IOException {
        ContentStore content = store.content();
        Digest digest;
        try (ContentStore.Writer w = content.openWriter("gzip-" + l.diffId() + "-" + UUID.randomUUID(), null, -1)) {
            LayerCompression.gzipInto(content.path(l.blob()), w);
            digest = w.commit();
        }
        long size = content.size(digest);
        store.recordBlob(l.diffId(), digest, MediaTypes.DOCKER_LAYER_GZIP, size, null);
        LOG.info("compressed layer {} into {} ({} bytes) with {} before uploading it", l.diffId(), digest, size, LayerCompression.tool());
        return new ImageStore.BlobLocation(digest, MediaTypes.DOCKER_LAYER_GZIP, size, List.of());
    }

    /**
     * Compresses a layer and uploads the gzip stream as it comes out of the compressor, keeping a
     * copy in the content store for the next push (a push is then upload alone). The two overlap,
     * so a first push costs about the longer of the two, not their sum.
     */
    private ImageStore.BlobLocation compressWhileUploading(RegistryClient client, RepositoryRef repo, ImageRecord.Layer l, Progress.Sink out)
            throws IOException, InterruptedException {
        ContentStore content = store.content();
        String id = l.diffId().shortHex();
        java.io.PipedInputStream wire = new java.io.PipedInputStream(1 << 20);
        java.io.PipedOutputStream toWire = new java.io.PipedOutputStream(wire);
        java.util.concurrent.CompletableFuture<Digest> compressed = new java.util.concurrent.CompletableFuture<>();
        Thread compressor = Thread.ofVirtual().name("compress " + id).start(() -> {
            try (ContentStore.Writer w = content.openWriter("gzip-" + l.diffId() + "-" + UUID.randomUUID(), null, -1)) {
                try (OutputStream both = new TeeOutput(w, toWire)) {
                    if (isPlainTar(content, l.blob())) {
                        LayerCompression.gzip(content.path(l.blob()), both); // the compressor reads the file itself
                    } else {
                        try (InputStream tar = Decompression.open(content.open(l.blob()))) {
                            LayerCompression.gzip(tar, both);
                        }
                    }
                }
                compressed.complete(w.commit());
            } catch (Throwable e) {
                compressed.completeExceptionally(e);
            } finally {
                try {
                    toWire.close(); // the upload's body ends here, also when compressing failed
                } catch (IOException ignored) {
                    // the reader is gone: the upload failed and says why
                }
            }
        });
        Throttle throttle = new Throttle();
        try {
            client.uploadStreamingBlob(repo, wire, () -> {
                try {
                    return compressed.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while compressing a layer");
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) throw io;
                    throw new IOException("compressing layer " + l.diffId() + ": " + e.getCause(), e.getCause());
                }
            }, (current, total) -> {
                if (throttle.due(current, total)) out.emit(new Progress.Bytes(id, "Pushing", current, total));
            });
        } finally {
            wire.close(); // a failed upload stops the compressor at its next write
            compressor.join();
        }
        Digest digest = compressed.resultNow();
        long size = content.size(digest);
        LOG.info("compressed layer {} into {} ({} bytes) with {} while uploading it", l.diffId(), digest, size, LayerCompression.tool());
        return new ImageStore.BlobLocation(digest, MediaTypes.DOCKER_LAYER_GZIP, size, List.of());
    }

    /** Whether a stored blob is an uncompressed tar (no gzip or zstd magic at its start). */
    private static boolean isPlainTar(ContentStore content, Digest blob) throws IOException {
        try (java.io.BufferedInputStream in = new java.io.BufferedInputStream(content.open(blob), 64)) {
            return Decompression.detect(in) == Decompression.Kind.NONE;
        }
    }

    /** Writes to two streams: the content store's copy and the upload. */
    private static final class TeeOutput extends OutputStream {
        private final OutputStream first;
        private final OutputStream second;

        TeeOutput(OutputStream first, OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public void write(int b) throws IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            first.flush();
            second.flush();
        }

        @Override
        public void close() {
            // neither is ours to close
        }
    }

    private static boolean isGzip(String mediaType) {
        return LayerMediaType.of(mediaType).map(m -> m.compression() == LayerMediaType.Compression.GZIP).orElse(false);
    }

    // ================================================================ login

    /** Checks credentials against a registry ({@code docker login}). */
    public LoginResult login(String serverAddress, RegistryAuth auth) {
        return registry().login(registryHost(serverAddress), auth);
    }

    /** {@code https://index.docker.io/v1/} → {@code docker.io}; {@code http://h:5000/} → {@code h:5000}. */
    /** A registry's host as credentials are keyed: no scheme or path, lower case, Docker Hub by one name. */
    public static String registryHost(String serverAddress) {
        String s = serverAddress == null ? "" : serverAddress.strip();
        int scheme = s.indexOf("://");
        if (scheme >= 0) s = s.substring(scheme + 3);
        int slash = s.indexOf('/');
        if (slash >= 0) s = s.substring(0, slash);
        if (s.isEmpty() || RegistryConfig.isDockerHub(s)) return RegistryConfig.DOCKER_HUB;
        return s.toLowerCase(Locale.ROOT);
    }

    // ================================================================ load, save, import

    /** {@code docker load}: returns the lines it printed. */
    public List<String> load(InputStream tar, boolean quiet, Progress.Sink out) throws IOException {
        List<ImageArchive.Loaded> loaded = ImageArchive.load(store, tar, quiet ? null : line -> out.emit(new Progress.Text(line + "\n")));
        List<String> lines = new ArrayList<>();
        for (ImageArchive.Loaded l : loaded) {
            if (l.tags().isEmpty()) lines.add("Loaded image ID: " + l.id());
            for (ImageReference t : l.tags()) lines.add("Loaded image: " + t.familiarString());
            events.publish("image", "load", l.id().toString(), Map.of("name", l.id().toString()));
        }
        for (String line : lines) out.emit(new Progress.Text(line + "\n"));
        return lines;
    }

    /** Resolves every name first (so a missing one fails before anything is written), then writes the archive. */
    public List<ImageArchive.Saved> resolveForSave(List<String> names) {
        Map<Digest, ImageArchive.Saved> byId = new LinkedHashMap<>();
        for (String name : names) {
            ImageStore.Image img = store.resolve(name);
            List<ImageReference> refNames = new ArrayList<>();
            Optional<ImageReference> asRef = io.berth.image.ImageLookup.isFullId(name) ? Optional.empty() : ImageReference.tryParse(name);
            if (asRef.isPresent() && asRef.get().digestOrNull() == null) {
                ImageReference r = asRef.get().withDefaultTag();
                if (img.tags().contains(r)) refNames.add(r);
            }
            ImageArchive.Saved prev = byId.get(img.id());
            if (prev != null) {
                List<ImageReference> merged = new ArrayList<>(prev.names());
                for (ImageReference r : refNames) if (!merged.contains(r)) merged.add(r);
                byId.put(img.id(), new ImageArchive.Saved(img, merged));
            } else {
                byId.put(img.id(), new ImageArchive.Saved(img, refNames));
            }
        }
        return List.copyOf(byId.values());
    }

    public void save(List<ImageArchive.Saved> images, OutputStream out) throws IOException {
        ImageArchive.save(store, images, out);
        for (ImageArchive.Saved s : images) events.publish("image", "save", s.image().id().toString(), Map.of("name", s.image().id().toString()));
    }

    /**
     * {@code docker import}: one layer from a tar (plain or compressed), a config from
     * {@code changes}, tagged {@code tag} when given.
     */
    public ImageStore.Image importImage(InputStream tar, ImageReference tag, List<String> changes, String message, Platform platform,
                                        Progress.Sink out) throws IOException {
        ImageConfig.ContainerConfig runtime = ConfigChanges.apply(ImageConfig.ContainerConfig.empty(), changes);
        ContentStore content = store.content();
        Digest blob;
        try (ContentStore.Writer w = content.openWriter("import-" + UUID.randomUUID(), null, -1)) {
            long n = tar.transferTo(w);
            if (n == 0) {
                w.abort();
                throw new IllegalArgumentException("nothing to import: the tar is empty");
            }
            blob = w.commit();
        }
        try (ContentStore.Lease lease = content.lease(List.of(blob))) {
            MessageDigest md = Digest.newSha256();
            try (InputStream in = new DigestInputStream(Decompression.open(content.open(blob)), md)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            Digest diffId = Digest.ofSha256(md);
            String mediaType;
            try (var in = new java.io.BufferedInputStream(content.open(blob), 64)) {
                mediaType = switch (Decompression.detect(in)) {
                    case GZIP -> MediaTypes.DOCKER_LAYER_GZIP;
                    case ZSTD -> MediaTypes.DOCKER_LAYER_ZSTD;
                    case NONE -> MediaTypes.DOCKER_LAYER;
                };
            }
            ImageStore.LayerApplied applied;
            try (ImageStore.Hold hold = store.hold(List.of(diffId))) {
                applied = store.applyLayer(diffId, null, diffId, () -> content.open(blob));
                Platform p = platform == null ? Platform.host() : platform;
                String now = Instant.now().toString();
                String comment = message == null || message.isEmpty() ? "Imported from -" : message;
                ImageConfig config = new ImageConfig(p.architecture(), p.os() == null ? "linux" : p.os(), null, null, p.variant(), now, null,
                        runtime, ImageConfig.RootFs.layers(List.of(diffId)),
                        List.of(new ImageConfig.History(now, null, null, comment, null)),
                        null, null, null, comment);
                ImageStore.Image img = store.add(ImageConfigBlob.of(config),
                        List.of(new ImageRecord.Layer(diffId, diffId, applied.size(), applied.tarSize(), blob, mediaType)), List.of());
                if (tag != null) store.tag(img.id(), tag.withDefaultTag());
                out.emit(new Progress.Status(null, img.id().toString()));
                events.publish("image", "import", img.id().toString(), Map.of("name", img.id().toString()));
                return store.get(img.id()).orElse(img);
            }
        } finally {
            store.collectGarbage();
        }
    }

    // ================================================================ names, deletion

    /** {@code docker tag source target}. */
    public void tag(String source, ImageReference target) throws IOException {
        ImageStore.Image img = store.resolve(source);
        ImageReference t = target.withDefaultTag();
        ImageStore.TagResult r = store.tag(img.id(), t);
        events.publish("image", "tag", img.id().toString(), Map.of("name", t.familiarString()));
        r.previous().ifPresent(prev -> {
            if (store.get(prev).map(ImageStore.Image::dangling).orElse(false)) {
                events.publish("image", "untag", prev.toString(), Map.of("name", prev.toString()));
            }
        });
    }

    /** {@code docker rmi}. */
    public ImageStore.DeleteResult delete(String name, boolean force) throws IOException {
        ImageStore.DeleteResult r = store.delete(name, force);
        publishDeletes(r);
        return r;
    }

    /** {@code docker image prune}: deletes the images {@code select} picks that no container uses. */
    public ImageStore.DeleteResult prune(Predicate<ImageStore.Image> select) throws IOException {
        ImageStore.DeleteResult r = store.prune(select);
        publishDeletes(r);
        events.publish("image", "prune", "", Map.of("reclaimed", Long.toString(r.reclaimed())));
        return r;
    }

    private void publishDeletes(ImageStore.DeleteResult r) {
        Digest last = null;
        for (ImageStore.DeleteItem item : r.items()) {
            if (item instanceof ImageStore.DeleteItem.Deleted d) {
                if (last == null) {
                    last = d.id();
                    events.publish("image", "delete", d.id().toString(), Map.of("name", d.id().toString()));
                }
            }
        }
        for (ImageStore.DeleteItem item : r.items()) {
            if (item instanceof ImageStore.DeleteItem.Untagged u) {
                events.publish("image", "untag", last == null ? u.reference() : last.toString(), Map.of("name", u.reference()));
            }
        }
    }

    // ================================================================ history

    /** One line of {@code docker history}, newest first. {@code id} is the image ID on the top line, {@code <missing>} below. */
    public record HistoryEntry(String id, long created, String createdBy, List<String> tags, long size, String comment) {}

    public List<HistoryEntry> history(String name) {
        ImageStore.Image img = store.resolve(name);
        List<ImageRecord.Layer> layers = img.record().layers();
        List<ImageConfig.History> steps = img.config().history() == null ? List.of() : img.config().history();
        List<HistoryEntry> out = new ArrayList<>();
        int layer = 0;
        if (steps.isEmpty()) {
            for (ImageRecord.Layer l : layers) {
                out.add(new HistoryEntry("<missing>", img.created().getEpochSecond(), "", List.of(), l.size(), ""));
            }
        } else {
            for (ImageConfig.History h : steps) {
                long size = 0;
                if (!h.isEmptyLayer() && layer < layers.size()) size = layers.get(layer++).size();
                long created = parseTime(h.created());
                out.add(new HistoryEntry("<missing>", created, h.createdBy() == null ? "" : h.createdBy(), List.of(), size,
                        h.comment() == null ? "" : h.comment()));
            }
        }
        java.util.Collections.reverse(out);
        if (!out.isEmpty()) {
            HistoryEntry top = out.getFirst();
            out.set(0, new HistoryEntry(img.id().toString(), top.created(), top.createdBy(),
                    img.tags().stream().map(ImageReference::familiarString).toList(), top.size(), top.comment()));
        }
        return out;
    }

    private static long parseTime(String t) {
        if (t == null || t.isEmpty()) return 0;
        try {
            return java.time.OffsetDateTime.parse(t).toEpochSecond();
        } catch (java.time.format.DateTimeParseException e) {
            return 0;
        }
    }

    // ================================================================ helpers

    /** Emits progress at most every 100 ms (and at the end). */
    private static final class Throttle {
        private long last;

        synchronized boolean due(long current, long total) {
            long now = System.nanoTime();
            if (current == total || now - last > 100_000_000L) {
                last = now;
                return true;
            }
            return false;
        }
    }

    /** Counts bytes read and tells a listener. */
    private static final class CountingInput extends FilterInputStream {
        private final java.util.function.LongConsumer listener;
        private long count;

        CountingInput(InputStream in, java.util.function.LongConsumer listener) {
            super(in);
            this.listener = listener;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) listener.accept(++count);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
                listener.accept(count);
            }
            return n;
        }
    }
}
