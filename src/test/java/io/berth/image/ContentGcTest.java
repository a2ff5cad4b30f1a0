package io.berth.image;

import io.berth.content.ContentGc;
import io.berth.content.ContentStore;
import io.berth.content.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** ContentGc lives in io.berth.content; tested here with the image box's ManifestReferences. */
class ContentGcTest {
    @TempDir Path dataRoot;

    record Image(Digest index, Digest manifest, Digest config, Digest layer) {}

    private static Image store(ContentStore store, String seed) throws IOException {
        Digest layer = store.put(("\u001f\u008b layer " + seed).getBytes(StandardCharsets.ISO_8859_1));
        byte[] configBytes = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"x\":\"" + seed + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        Digest config = store.put(configBytes);
        ImageManifest m = ImageManifest.of(MediaTypes.OCI_MANIFEST, Descriptor.of(MediaTypes.OCI_CONFIG, config, configBytes.length),
                List.of(Descriptor.of(MediaTypes.OCI_LAYER_GZIP, layer, store.size(layer))));
        byte[] mb = ImageJson.toBytes(m);
        Digest manifest = store.put(mb);
        ManifestIndex idx = ManifestIndex.of(MediaTypes.OCI_INDEX,
                List.of(Descriptor.of(MediaTypes.OCI_MANIFEST, manifest, mb.length).withPlatform(Platform.of("linux", "amd64", null))));
        Digest index = store.put(ImageJson.toBytes(idx));
        return new Image(index, manifest, config, layer);
    }

    @Test
    void sweepKeepsWhatRootsReachAndDeletesTheRest() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        Image kept = store(store, "kept");
        Image dropped = store(store, "dropped");
        Digest stray = store.put("stray".getBytes(StandardCharsets.UTF_8));

        ContentGc gc = new ContentGc(store, new ManifestReferences(store), Duration.ZERO);
        assertThat(gc.mark(List.of(kept.index()))).containsExactlyInAnyOrder(kept.index(), kept.manifest(), kept.config(), kept.layer());

        ContentGc.Result r = gc.sweep(List.of(kept.index()));
        assertThat(r.removed()).containsExactlyInAnyOrder(dropped.index(), dropped.manifest(), dropped.config(), dropped.layer(), stray);
        assertThat(r.bytesFreed()).isPositive();
        assertThat(store.list()).containsExactlyInAnyOrder(kept.index(), kept.manifest(), kept.config(), kept.layer());
    }

    @Test
    void leasesWritersAndGracePeriodProtectBlobs() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        Image a = store(store, "a");
        Digest leasedBlob = store.put("leased".getBytes(StandardCharsets.UTF_8));
        ContentGc gc = new ContentGc(store, new ManifestReferences(store), Duration.ZERO);

        try (var lease = store.lease(List.of(a.manifest(), leasedBlob));
             var writer = store.openWriter("w", a.index(), store.size(a.index()))) {
            assertThat(writer.alreadyExists()).isTrue();
            assertThat(lease.digests()).hasSize(2);
            assertThat(gc.sweep(Set.of()).removed()).isEmpty();
        }
        // a generous grace period spares blobs committed just now
        assertThat(new ContentGc(store, new ManifestReferences(store), Duration.ofMinutes(5)).sweep(Set.of()).removed()).isEmpty();
        assertThat(gc.sweep(Set.of()).removed()).hasSize(5);
        assertThat(store.list()).isEmpty();
    }

    @Test
    void missingChildrenAreNotAnError() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        Image a = store(store, "a");
        store.delete(a.layer());
        ContentGc gc = new ContentGc(store, new ManifestReferences(store), Duration.ZERO);
        assertThat(gc.sweep(List.of(a.index())).removed()).isEmpty();
        assertThat(gc.mark(List.of(a.index()))).contains(a.layer());
    }
}
