package io.berth.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.content.ContentStore;
import io.berth.content.Digest;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A layer compressed into the content store before its upload is a standard gzip stream of
 * the layer, named by its own digest. With igzip on PATH (Debian's isal, which .ci/run
 * installs) the compressor writes onto the ingest itself; without it, the JVM compresses.
 */
class LayerCompressionTest {
    @TempDir
    Path dataRoot;

    @Test
    void aLayerCompressedIntoTheStoreIsAGzipOfIt() throws Exception {
        byte[] layer = new byte[5 << 20];
        Random random = new Random(3);
        for (int i = 0; i < layer.length; i += 4096) {
            for (int j = i; j < Math.min(layer.length, i + 2048); j++) layer[j] = (byte) random.nextInt(256); // half random, half zeros
        }
        Path tar = Files.write(dataRoot.resolve("layer.tar"), layer);
        ContentStore store = new ContentStore(dataRoot.resolve("root"));
        Digest blob;
        try (ContentStore.Writer w = store.openWriter("gzip-test", null, -1)) {
            LayerCompression.gzipInto(tar, w);
            blob = w.commit();
        }
        byte[] gz = store.readAll(blob);
        assertThat(Digest.sha256(gz)).isEqualTo(blob);
        assertThat(gz.length).isLessThan(layer.length * 3 / 4);
        try (InputStream in = new GZIPInputStream(store.open(blob))) {
            assertThat(in.readAllBytes()).isEqualTo(layer);
        }
        assertThat(LayerCompression.compressesFasterThanUploads()).isEqualTo(LayerCompression.tool().equals("igzip"));
    }
}
