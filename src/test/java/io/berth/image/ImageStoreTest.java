package io.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.content.ContentStore;
import io.berth.content.Digest;
import io.berth.snapshot.Snapshotter;
import io.berth.testing.TestImages;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image store without a daemon: shared layers, references, deletion rules, reconcile. */
class ImageStoreTest {
    @TempDir Path root;

    /** What the container box would answer: set by a test before it asks. */
    private volatile ImageUsage usage = ImageUsage.NONE;

    ImageStore open() throws Exception {
        ContentStore content = new ContentStore(root);
        return ImageStore.open(root, content, new Snapshotter(root), id -> usage.users(id));
    }

    /** Stores an image the way a load does: blobs, layers, record, tag. */
    static ImageStore.Image add(ImageStore store, TestImages.Builder b, String tag) throws Exception {
        byte[] config = b.configBytes();
        ImageConfigBlob blob = ImageConfigBlob.parse(config);
        List<Digest> diffIds = blob.config().diffIds();
        List<Digest> chains = ImageRecord.chainIds(diffIds);
        List<ImageRecord.Layer> layers = new ArrayList<>();
        try (ImageStore.Hold hold = store.hold(chains)) {
            for (int i = 0; i < chains.size(); i++) {
                TestImages.Layer l = b.layers().get(i);
                Digest stored = store.content().put(Files.readAllBytes(l.tar()));
                ImageStore.LayerApplied a = store.applyLayer(chains.get(i), i == 0 ? null : chains.get(i - 1), diffIds.get(i),
                        () -> new FileInputStream(l.tar().toFile()));
                layers.add(new ImageRecord.Layer(diffIds.get(i), chains.get(i), a.size(), a.tarSize(), stored, MediaTypes.DOCKER_LAYER));
            }
            ImageStore.Image img = store.add(blob, layers, List.of());
            if (tag != null) store.tag(img.id(), ImageReference.parse(tag));
            return store.get(img.id()).orElseThrow();
        }
    }

    @Test
    void chainIdsAreDockers() {
        Digest a = Digest.sha256("a".getBytes());
        Digest b = Digest.sha256("b".getBytes());
        List<Digest> chains = ImageRecord.chainIds(List.of(a, b));
        assertThat(chains.get(0)).isEqualTo(a);
        assertThat(chains.get(1)).isEqualTo(Digest.sha256((a + " " + b).getBytes()));
    }

    @Test
    void sharedLayersAreUnpackedOnceAndRemovedWithTheLastImage() throws Exception {
        ImageStore store = open();
        ImageStore.Image one = add(store, TestImages.busybox().label("n", "1"), "one:latest");
        ImageStore.Image two = add(store, TestImages.busybox().label("n", "2").files(Map.of("x", "y")), "two:latest");
        Digest base = one.record().layers().getFirst().chainId();
        assertThat(two.record().layers().getFirst().chainId()).isEqualTo(base);
        assertThat(store.snapshots().list()).hasSize(2);
        assertThat(store.layersSize()).isEqualTo(one.record().size() + 1);

        ImageStore.DeleteResult r = store.delete("one", false);
        assertThat(r.items()).containsExactly(new ImageStore.DeleteItem.Untagged("one:latest"), new ImageStore.DeleteItem.Deleted(one.id()));
        assertThat(store.hasLayer(base)).isTrue();
        assertThat(store.content().exists(one.id())).isFalse();

        store.delete("two:latest", false);
        assertThat(store.snapshots().list()).isEmpty();
        assertThat(store.content().list().toList()).isEmpty();
        assertThat(store.count()).isZero();
    }

    @Test
    void rmiOfOneOfSeveralTagsOnlyUntags() throws Exception {
        ImageStore store = open();
        ImageStore.Image img = add(store, TestImages.busybox(), "a:1");
        store.tag(img.id(), ImageReference.parse("b:2"));
        assertThat(store.delete("a:1", false).items()).containsExactly(new ImageStore.DeleteItem.Untagged("a:1"));
        assertThat(store.resolve("b:2").id()).isEqualTo(img.id());
        store.tag(img.id(), ImageReference.parse("example.org/c:3"));
        assertThatThrownBy(() -> store.delete(img.id().hex().substring(0, 8), false))
                .isInstanceOf(ImageConflictException.class).hasMessageContaining("referenced in multiple repositories");
        assertThat(store.delete(img.id().toString(), true).items()).contains(new ImageStore.DeleteItem.Deleted(img.id()));
    }

    @Test
    void imagesUsedByContainersAreKept() throws Exception {
        ImageStore store = open();
        ImageStore.Image img = add(store, TestImages.busybox(), "used:1");
        usage = (id -> id.equals(img.id()) ? List.of(new ImageUsage.User("c0ffee0000000000", false)) : List.of());
        assertThatThrownBy(() -> store.delete("used:1", false)).isInstanceOf(ImageConflictException.class)
                .hasMessageContaining("container c0ffee000000 is using its referenced image");
        assertThatThrownBy(() -> store.delete(img.id().toString(), false)).isInstanceOf(ImageConflictException.class)
                .hasMessageContaining("must be forced");
        store.delete(img.id().toString(), true);
        assertThat(store.get(img.id())).isPresent(); // untagged, kept for the container
        usage = (id -> List.of(new ImageUsage.User("runningcontainer", true)));
        assertThatThrownBy(() -> store.delete(img.id().toString(), true)).hasMessageContaining("cannot be forced");
    }

    @Test
    void resolveByReferenceIdAndPrefix() throws Exception {
        ImageStore store = open();
        ImageStore.Image img = add(store, TestImages.busybox(), "docker.io/library/bb:latest");
        assertThat(store.resolve("bb").id()).isEqualTo(img.id());
        assertThat(store.resolve("bb:latest").id()).isEqualTo(img.id());
        assertThat(store.resolve(img.id().toString()).id()).isEqualTo(img.id());
        assertThat(store.resolve(img.id().hex()).id()).isEqualTo(img.id());
        assertThat(store.resolve(img.id().hex().substring(0, 6)).id()).isEqualTo(img.id());
        assertThatThrownBy(() -> store.resolve("nope")).isInstanceOf(ImageNotFoundException.class).hasMessage("No such image: nope:latest");
        assertThatThrownBy(() -> store.resolve("Nope")).isInstanceOf(InvalidReferenceException.class);
    }

    @Test
    void reconcileRemovesHalfMadeLayersAndBrokenRecords() throws Exception {
        ImageStore store = open();
        ImageStore.Image kept = add(store, TestImages.busybox(), "kept:1");
        // a pull cut short: a layer unpacked, no record
        TestImages.Layer orphan = TestImages.filesLayer(root.resolve("orphan.tar"), Map.of("o", "o"));
        Digest orphanBlob = store.content().put(Files.readAllBytes(orphan.tar()));
        store.applyLayer(orphan.diffId(), null, orphan.diffId(), () -> new ByteArrayInputStream(Files.readAllBytes(orphan.tar())));
        // a record whose layer vanished
        ImageStore.Image broken = add(store, TestImages.empty().files(Map.of("b", "b")), "broken:1");
        store.snapshots().remove(ImageStore.snapshotKey(broken.record().topChainId()));

        ImageStore reopened = open();
        assertThat(reopened.get(kept.id())).isPresent();
        assertThat(reopened.get(broken.id())).isEmpty();
        assertThat(reopened.find(ImageReference.parse("broken:1"))).isEmpty();
        assertThat(reopened.hasLayer(orphan.diffId())).isFalse();
        assertThat(reopened.content().exists(orphanBlob)).isFalse();
        assertThat(reopened.content().exists(kept.id())).isTrue();
        assertThat(reopened.resolve("kept:1").config().config().cmd()).containsExactly("sh");
    }

    @Test
    void aLayerWhoseContentDoesNotMatchItsDiffIdIsDiscarded() throws Exception {
        ImageStore store = open();
        TestImages.Layer l = TestImages.filesLayer(root.resolve("l.tar"), Map.of("a", "a"));
        Digest wrong = Digest.sha256("not it".getBytes());
        assertThatThrownBy(() -> store.applyLayer(wrong, null, wrong, () -> new FileInputStream(l.tar().toFile())))
                .hasMessageContaining("does not match the image config");
        assertThat(store.hasLayer(wrong)).isFalse();
        assertThat(store.snapshots().list()).isEmpty();
    }

    @Test
    void saveThenLoadAnOciLayoutWithoutManifestJson() throws Exception {
        ImageStore store = open();
        ImageStore.Image img = add(store, TestImages.busybox().files(Map.of("f", "1")), "oci:1");
        java.io.ByteArrayOutputStream saved = new java.io.ByteArrayOutputStream();
        ImageArchive.save(store, List.of(new ImageArchive.Saved(img, List.of(ImageReference.parse("oci:1").withDefaultTag()))), saved);
        // keep only the OCI layout: drop manifest.json and repositories
        java.io.ByteArrayOutputStream oci = new java.io.ByteArrayOutputStream();
        try (var r = new io.berth.archive.TarReader(new ByteArrayInputStream(saved.toByteArray()));
             var w = new io.berth.archive.TarWriter(oci)) {
            for (io.berth.archive.TarEntry e; (e = r.next()) != null; ) {
                if (e.name().equals("manifest.json") || e.name().equals("repositories")) continue;
                w.writeEntry(e, r.content());
            }
            w.finish();
        }
        store.delete("oci:1", false);
        assertThat(store.count()).isZero();
        List<ImageArchive.Loaded> loaded = ImageArchive.load(store, new ByteArrayInputStream(oci.toByteArray()), null);
        assertThat(loaded).hasSize(1);
        assertThat(loaded.getFirst().id()).isEqualTo(img.id());
        assertThat(loaded.getFirst().tags()).containsExactly(ImageReference.parse("oci:1"));
        assertThat(store.resolve("oci:1").record().layers()).hasSize(2);
    }
}
