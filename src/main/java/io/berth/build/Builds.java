package io.berth.build;

import io.berth.content.Digest;
import io.berth.image.ImageStore;
import io.berth.runtime.OciRuntimes;
import io.berth.snapshot.LayerUnpacker;
import io.berth.snapshot.Mount;
import io.berth.snapshot.Snapshotter;
import io.berth.sys.MountTable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classic builder of one data root ({@code DOCKER_BUILDKIT=0 docker build}).
 *
 * <pre>
 * build/cache.json     the build cache ({@link BuildCache})
 * build/contexts/      build contexts being used (deleted after each build)
 * build/mnt/           mounts of the steps being run
 * build/c/, exits/     build containers' bundles and exit files ({@link BuildContainers})
 * snapshots "build-*"  writable snapshots of steps being run, views of COPY --from sources
 * </pre>
 *
 * Everything but the cache is transient: {@link #open} removes what a crash left (mounts,
 * containers, snapshots, contexts).
 */
public final class Builds {
    private static final Logger LOG = LoggerFactory.getLogger(Builds.class);
    static final String SNAPSHOT_PREFIX = "build-";

    private final Path dir;
    private final ImageStore store;
    private final BuildCache cache;
    private final BuildContainers containers;

    private Builds(Path dir, ImageStore store, BuildCache cache, BuildContainers containers) {
        this.dir = dir;
        this.store = store;
        this.cache = cache;
        this.containers = containers;
    }

    /** Like {@link #open(Path, Path, OciRuntimes, ImageStore, BuildNetworks)} without networks: RUN gets loopback only. */
    public static Builds open(Path dataRoot, Path execRoot, OciRuntimes runtimes, ImageStore store) throws IOException {
        return open(dataRoot, execRoot, runtimes, store, BuildNetworks.NONE);
    }

    /**
     * Opens the builder under {@code dataRoot/build}, its build containers' runtime state under
     * {@code execRoot/build-runtime}, and cleans up after a crash. RUN joins {@code networks}
     * (the default bridge unless the build names another).
     */
    public static Builds open(Path dataRoot, Path execRoot, OciRuntimes runtimes, ImageStore store, BuildNetworks networks) throws IOException {
        Path dir = dataRoot.toAbsolutePath().normalize().resolve("build");
        io.berth.sys.PrivateFiles.createDirectories(dir);
        Builds b = new Builds(dir, store, new BuildCache(dir.resolve("cache.json")),
                new BuildContainers(dir, buildRuntimes(dir, execRoot.toAbsolutePath().resolve("build-runtime"), runtimes),
                        runtimes.defaultRuntime(), networks));
        b.reconcile();
        return b;
    }

    /**
     * The runner of RUN steps: conmon + the OCI runtime, as containers run, under a runtime state
     * root of their own (so build containers never mix with the user's), exit files in
     * {@code dir/exits} (read by polling: no watcher runs).
     */
    private static io.berth.runtime.RuntimeProvider buildRuntimes(Path dir, Path runtimeRoot, OciRuntimes runtimes) {
        return new io.berth.runtime.ConmonRuntimes(runtimes::available, name -> runtimeRoot, dir.resolve("exits"), java.util.List.of(),
                io.berth.runtime.HostFacts.detect());
    }

    ImageStore store() {
        return store;
    }

    BuildCache cache() {
        return cache;
    }

    BuildContainers containers() {
        return containers;
    }

    Path mountDir() {
        return dir.resolve("mnt");
    }

    /** Unpacks a context tar for one build; the caller closes it. */
    public BuildContext extractContext(InputStream tar, String dockerfile) throws IOException, BuildException {
        return BuildContext.extract(tar, dir.resolve("contexts"), dockerfile);
    }

    /**
     * Builds an image.
     *
     * @return the ID of the image built (tagged as asked)
     * @throws StepFailedException a RUN command failed
     * @throws BuildException      the build cannot go on for a reason the user can fix
     */
    public Digest build(BuildRequest request, BuildContext context, BuildHost host, BuildOutput out) throws Exception {
        return new ImageBuilder(this, request, context, host, out).run();
    }

    /**
     * True for an untagged image a build made as a step's result (the classic builder's
     * intermediate images, which {@code docker images} leaves out unless {@code -a}).
     */
    public boolean isIntermediate(ImageStore.Image img) {
        return img.dangling() && img.digests().isEmpty() && cache.names(img.id()) && !cache.isResult(img.id());
    }

    /**
     * One entry of the build cache as {@code docker system df} shows it: the step's cache key,
     * the key of the step before it (when cached too), the step's instruction, the size of the
     * layer it added (0 for a step that only changed the config), when its image was made,
     * whether a container uses that image, and whether a tag or a build's result keeps the image
     * anyway (so pruning the cache would not free it).
     */
    public record CacheEntry(String id, String parent, String description, long size, java.time.Instant created, boolean inUse, boolean shared) {}

    /** The classic builder's cache entries whose images still exist. */
    public List<CacheEntry> cacheEntries() {
        java.util.Map<String, ImageStore.Image> images = new java.util.LinkedHashMap<>();
        cache.entries().forEach((k, v) -> store.get(Digest.parse(v)).ifPresent(img -> images.put(k, img)));
        List<CacheEntry> out = new ArrayList<>();
        for (java.util.Map.Entry<String, ImageStore.Image> e : images.entrySet()) {
            ImageStore.Image img = e.getValue();
            var history = img.config().history() == null ? List.<io.berth.image.ImageConfig.History>of() : img.config().history();
            io.berth.image.ImageConfig.History step = history.isEmpty() ? null : history.getLast();
            List<io.berth.image.ImageRecord.Layer> layers = img.record().layers();
            long size = step == null || step.isEmptyLayer() || layers.isEmpty() ? 0 : layers.getLast().size();
            // the step before: the cached image with one step less whose layers this one starts with
            String parent = null;
            for (java.util.Map.Entry<String, ImageStore.Image> p : images.entrySet()) {
                ImageStore.Image o = p.getValue();
                int steps = o.config().history() == null ? 0 : o.config().history().size();
                List<Digest> chain = o.record().chainIds();
                if (steps == history.size() - 1 && img.record().chainIds().subList(0, Math.min(chain.size(), layers.size())).equals(chain)) {
                    parent = p.getKey();
                    break;
                }
            }
            boolean inUse = !store.usage().users(img.id()).isEmpty();
            boolean shared = !img.dangling() || !img.digests().isEmpty() || cache.isResult(img.id());
            out.add(new CacheEntry(e.getKey(), parent, step == null || step.createdBy() == null ? "" : step.createdBy(), size,
                    img.created(), inUse, shared));
        }
        return out;
    }

    /** What {@link #prune} removed. */
    public record PruneResult(List<Digest> deleted, long reclaimed) {}

    /**
     * {@code docker builder prune}: forgets the cache and removes the images it named that
     * have no tag and no container (intermediate images); tagged images stay.
     */
    public PruneResult prune() throws IOException {
        List<Digest> named = cache.images();
        List<Digest> candidates = new ArrayList<>();
        for (Digest d : named) {
            store.get(d).ifPresent(img -> {
                if (img.dangling() && img.digests().isEmpty()) candidates.add(d);
            });
        }
        cache.removeIf(d -> true);
        ImageStore.DeleteResult r = store.prune(img -> candidates.contains(img.id()));
        List<Digest> deleted = new ArrayList<>();
        for (ImageStore.DeleteItem item : r.items()) {
            if (item instanceof ImageStore.DeleteItem.Deleted del && candidates.contains(del.id())) deleted.add(del.id());
        }
        return new PruneResult(deleted, r.reclaimed());
    }

    /** Removes mounts, containers, snapshots and contexts an interrupted build left. */
    private void reconcile() throws IOException {
        for (String m : MountTable.mountsUnder(mountDir())) {
            try {
                Mount.unmount(Path.of(m));
            } catch (IOException e) {
                LOG.warn("unmounting leftover build mount {}: {}", m, e.getMessage());
            }
        }
        containers.reconcile();
        io.berth.sys.FileTrees.deleteTree(mountDir());
        io.berth.sys.FileTrees.deleteTree(dir.resolve("contexts"));
        Snapshotter snapshots = store.snapshots();
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Snapshotter.Info info : snapshots.list()) {
                if (!info.key().startsWith(SNAPSHOT_PREFIX)) continue;
                try {
                    snapshots.remove(info.key());
                    LOG.info("removed snapshot {} left by an interrupted build", info.key());
                    progress = true;
                } catch (IOException e) {
                    // it has children: removed in a later round
                }
            }
        }
    }
}
