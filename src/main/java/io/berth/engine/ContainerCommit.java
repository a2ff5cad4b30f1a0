package io.berth.engine;

import io.berth.build.LayerDiff;
import io.berth.container.Container;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerStatus;
import io.berth.content.ContentStore;
import io.berth.content.Digest;
import io.berth.image.ConfigChanges;
import io.berth.image.ImageConfig;
import io.berth.image.ImageConfigBlob;
import io.berth.image.ImageRecord;
import io.berth.image.ImageReference;
import io.berth.image.ImageStore;
import io.berth.image.MediaTypes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * docker commit: the container's writable layer (its overlay upper directory, written as a
 * layer tar the way a build step's is) on top of its image's layers, with the container's
 * config and the --change instructions, the author and message, and the container it came
 * from recorded in the image config. The container is paused meanwhile unless asked not to.
 */
public final class ContainerCommit {
    public record Request(String container, String repo, String tag, String comment, String author, boolean pause, List<String> changes) {}

    private final ContainerService containers;
    private final ImageService images;
    private final ImageStore store;
    private final EventBus events;

    public ContainerCommit(ContainerService containers, ImageService images, EventBus events) {
        this.containers = containers;
        this.images = images;
        this.store = images.store();
        this.events = events;
    }

    /** Returns the new image's ID. */
    public Digest commit(Request req) throws IOException {
        Container c = containers.get(req.container());
        ContainerRecord r = c.record();
        // validated before anything is written: a bad change or name changes nothing
        ImageConfig.ContainerConfig config = ConfigChanges.apply(r.config(), req.changes() == null ? List.of() : req.changes());
        ImageReference name = null;
        if (req.repo() != null && !req.repo().isEmpty()) {
            name = ImageReference.parse(req.repo() + (req.tag() == null || req.tag().isEmpty() ? "" : ":" + req.tag())).withDefaultTag();
        }
        ImageStore.Image base = store.get(Digest.parse(r.image()))
                .orElseThrow(() -> new IOException("the image of container " + r.id() + " is gone: " + r.image()));

        boolean paused = false;
        if (req.pause() && r.state().status() == ContainerStatus.RUNNING) {
            try {
                containers.lifecycle().pause(r.id());
                paused = true;
            } catch (IOException | RuntimeException e) {
                // a container that ended meanwhile (the runtime knows before its exit is recorded) has nothing left to pause
                boolean ended;
                try {
                    ended = c.awaitStatus(s -> s != ContainerStatus.RUNNING, 3, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while committing " + r.id(), ie);
                }
                if (!ended) throw e;
            }
        }
        ContentStore content = store.content();
        Digest blob;
        LayerDiff.Result diff;
        try {
            ContentStore.Writer w = content.openWriter("commit-" + UUID.randomUUID(), null, -1);
            boolean ok = false;
            try {
                diff = LayerDiff.write(store.snapshots().diffDir(r.snapshotKey()), w, false);
                blob = w.commit();
                ok = true;
            } finally {
                if (!ok) w.abort();
                w.close();
            }
        } finally {
            if (paused && c.record().state().status() == ContainerStatus.PAUSED) containers.lifecycle().unpause(r.id());
        }
        try (ContentStore.Lease lease = content.lease(List.of(blob))) {
            Digest parentChain = base.record().topChainId();
            Digest diffId = blob; // stored uncompressed: the blob's digest is the DiffID
            Digest chain = parentChain == null ? diffId : Digest.sha256((parentChain + " " + diffId).getBytes(StandardCharsets.US_ASCII));
            try (ImageStore.Hold hold = store.hold(List.of(chain))) {
                ImageStore.LayerApplied applied = store.applyLayer(chain, parentChain, diffId, () -> content.open(blob));
                List<ImageRecord.Layer> layers = new ArrayList<>(base.record().layers());
                layers.add(new ImageRecord.Layer(diffId, chain, applied.size(), diff.tarBytes(), blob, MediaTypes.DOCKER_LAYER));
                ImageConfig b = base.config();
                String now = Instant.now().toString();
                List<ImageConfig.History> history = new ArrayList<>(b.history() == null ? List.of() : b.history());
                String createdBy = String.join(" ", r.config().cmd() == null ? List.of() : r.config().cmd());
                history.add(new ImageConfig.History(now, createdBy, emptyToNull(req.author()), emptyToNull(req.comment()), null));
                List<Digest> diffIds = new ArrayList<>(b.diffIds());
                diffIds.add(diffId);
                ImageConfig next = new ImageConfig(b.architecture(), b.os() == null ? "linux" : b.os(), b.osVersion(), b.osFeatures(), b.variant(),
                        now, emptyToNull(req.author()), config, ImageConfig.RootFs.layers(diffIds), history,
                        r.id(), r.config(), io.berth.BuildInfo.ENGINE_VERSION, emptyToNull(req.comment()));
                ImageStore.Image img = store.add(ImageConfigBlob.of(next), layers, List.of());
                store.setParent(img.id(), base.id());
                if (name != null) images.tag(img.id().toString(), name);
                events.publish("container", "commit", r.id(), Map.of("comment", req.comment() == null ? "" : req.comment(),
                        "imageID", img.id().toString(), "imageRef", name == null ? "" : name.familiarString(), "name", r.plainName()));
                return img.id();
            }
        }
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
