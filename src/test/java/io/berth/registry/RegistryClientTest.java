package io.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.content.Digest;
import io.berth.testing.RegistryProcess;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Push and pull against a real docker-registry on 127.0.0.1. */
class RegistryClientTest {
    static RegistryProcess registry;
    static RegistryClient client;
    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryProcess.start();
        client = new RegistryClient(RegistryConfig.defaults());
    }

    @AfterAll
    static void stop() {
        if (registry != null) registry.close();
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    record Pushed(RepositoryRef repo, Digest manifest, byte[] manifestBytes, List<byte[]> layers, byte[] config) {}

    /** Pushes a small image: three random "layers", a config, a schema 2 manifest under {@code tag}. */
    static Pushed pushImage(RegistryClient c, RepositoryRef repo, String tag, long seed) throws Exception {
        List<byte[]> layers = List.of(random(1000, seed), random(100_000, seed + 1), random(1_500_000, seed + 2));
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"seed\":" + seed + "}")
                .getBytes(StandardCharsets.UTF_8);
        StringBuilder layerJson = new StringBuilder();
        List<byte[]> blobs = new ArrayList<>(layers);
        blobs.add(config);
        for (byte[] blob : blobs) {
            Digest d = Digest.sha256(blob);
            assertThat(c.blobExists(repo, d)).isFalse();
            AtomicLong last = new AtomicLong(-1);
            Digest reported = c.uploadBlob(repo, d, blob.length, BlobSource.ofBytes(blob), (cur, total) -> last.set(cur));
            assertThat(reported).isEqualTo(d);
            assertThat(last.get()).isEqualTo(blob.length);
            assertThat(c.blobExists(repo, d)).isTrue();
        }
        for (byte[] l : layers) {
            if (!layerJson.isEmpty()) layerJson.append(',');
            layerJson.append("{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%d,\"digest\":\"%s\"}"
                    .formatted(l.length, Digest.sha256(l)));
        }
        byte[] manifest = """
                {"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[%s]}"""
                .formatted(RegistryClient.DOCKER_MANIFEST, config.length, Digest.sha256(config), layerJson)
                .getBytes(StandardCharsets.UTF_8);
        Digest md = c.putManifest(repo, tag, manifest, RegistryClient.DOCKER_MANIFEST);
        assertThat(md).isEqualTo(Digest.sha256(manifest));
        return new Pushed(repo, md, manifest, layers, config);
    }

    @Test
    void pushesAnImageAndPullsItBack() throws Exception {
        RepositoryRef repo = new RepositoryRef(registry.host(), "test/app");
        Pushed p = pushImage(client, repo, "v1", 1);

        FetchedManifest byTag = client.fetchManifest(repo, "v1");
        assertThat(byTag.bytes()).isEqualTo(p.manifestBytes());
        assertThat(byTag.mediaType()).isEqualTo(RegistryClient.DOCKER_MANIFEST);
        assertThat(byTag.digest()).isEqualTo(p.manifest());
        assertThat(client.headManifest(repo, "v1")).contains(new ManifestInfo(p.manifest(), RegistryClient.DOCKER_MANIFEST, p.manifestBytes().length));
        assertThat(client.headManifest(repo, "nope")).isEmpty();
        FetchedManifest byDigest = client.fetchManifest(repo, p.manifest().toString());
        assertThat(byDigest.bytes()).isEqualTo(p.manifestBytes());

        List<byte[]> blobs = new ArrayList<>(p.layers());
        blobs.add(p.config());
        int i = 0;
        for (byte[] blob : blobs) {
            Path file = tmp.resolve("blob" + i++);
            AtomicLong last = new AtomicLong();
            long size = client.fetchBlob(repo, Digest.sha256(blob), blob.length, BlobSink.ofFile(file), 0, (cur, total) -> {
                assertThat(total).isEqualTo(blob.length);
                last.set(cur);
            });
            assertThat(size).isEqualTo(blob.length);
            assertThat(last.get()).isEqualTo(blob.length);
            assertThat(Files.readAllBytes(file)).isEqualTo(blob);
        }
    }

    @Test
    void pushesAndFetchesAnOciIndex() throws Exception {
        RepositoryRef repo = new RepositoryRef(registry.host(), "test/multi");
        Pushed p = pushImage(client, repo, "amd64", 10);
        byte[] index = """
                {"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","size":%d,"digest":"%s","platform":{"architecture":"amd64","os":"linux"}}]}"""
                .formatted(RegistryClient.OCI_INDEX, RegistryClient.DOCKER_MANIFEST, p.manifestBytes().length, p.manifest())
                .getBytes(StandardCharsets.UTF_8);
        Digest d = client.putManifest(repo, "latest", index, RegistryClient.OCI_INDEX);
        FetchedManifest got = client.fetchManifest(repo, "latest");
        assertThat(got.mediaType()).isEqualTo(RegistryClient.OCI_INDEX);
        assertThat(got.bytes()).isEqualTo(index);
        assertThat(got.digest()).isEqualTo(d);
    }

    @Test
    void aMissingTagSaysWhatTheRegistrySaid() {
        RepositoryRef repo = new RepositoryRef(registry.host(), "test/none");
        assertThatThrownBy(() -> client.fetchManifest(repo, "nope"))
                .isInstanceOf(NotFoundException.class)
                .hasMessage("manifest for " + registry.host() + "/test/none:nope not found: manifest unknown: manifest unknown")
                .satisfies(e -> {
                    RegistryException re = (RegistryException) e;
                    assertThat(re.status()).isEqualTo(404);
                    assertThat(re.errors()).extracting(RegistryError::code).containsExactly("MANIFEST_UNKNOWN");
                    assertThat(re.registryMessage()).isEqualTo("manifest unknown: manifest unknown");
                });
    }

    @Test
    void aMissingBlobIsNotFound() {
        RepositoryRef repo = new RepositoryRef(registry.host(), "test/none");
        Digest d = Digest.sha256(random(10, 99));
        assertThatThrownBy(() -> client.fetchBlob(repo, d, 10, BlobSink.ofFile(tmp.resolve("x")), 0, null))
                .isInstanceOf(NotFoundException.class)
                .hasMessageStartingWith("fetching blob " + repo + "@" + d + ": blob unknown");
    }

    @Test
    void resumesABlobFromAnOffset() throws Exception {
        RepositoryRef repo = new RepositoryRef(registry.host(), "test/resume");
        byte[] blob = random(1_000_000, 7);
        Digest d = Digest.sha256(blob);
        client.uploadBlob(repo, d, blob.length, BlobSource.ofBytes(blob), null);

        Path file = tmp.resolve("partial");
        Files.write(file, java.util.Arrays.copyOf(blob, 300_000));
        AtomicLong first = new AtomicLong(-1);
        long size = client.fetchBlob(repo, d, blob.length, BlobSink.ofFile(file), 300_000,
                (cur, total) -> first.compareAndSet(-1, cur));
        assertThat(size).isEqualTo(blob.length);
        assertThat(first.get()).isEqualTo(300_000); // the registry answered 206 from the offset
        assertThat(Files.readAllBytes(file)).isEqualTo(blob);

        // a held prefix that is wrong is caught by the digest over the whole
        byte[] bad = java.util.Arrays.copyOf(blob, 300_000);
        bad[5] ^= 1;
        Files.write(file, bad);
        assertThatThrownBy(() -> client.fetchBlob(repo, d, blob.length, BlobSink.ofFile(file), 300_000, null))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("blob digest mismatch");
    }

    @Test
    void mountsABlobFromAnotherRepository() throws Exception {
        RepositoryRef from = new RepositoryRef(registry.host(), "test/source");
        RepositoryRef to = new RepositoryRef(registry.host(), "test/target");
        byte[] blob = random(5000, 3);
        Digest d = Digest.sha256(blob);
        client.uploadBlob(from, d, blob.length, BlobSource.ofBytes(blob), null);
        assertThat(client.blobExists(to, d)).isFalse();
        assertThat(client.mountBlob(to, d, from)).isTrue();
        assertThat(client.blobExists(to, d)).isTrue();
        // a blob the source lacks is not mounted: the caller uploads it
        assertThat(client.mountBlob(to, Digest.sha256(random(10, 4)), from)).isFalse();
    }

    @Test
    void movesManyBlobsAtOnce() throws Exception {
        RepositoryRef repo = new RepositoryRef(registry.host(), "test/parallel");
        List<byte[]> blobs = new ArrayList<>();
        for (int i = 0; i < 8; i++) blobs.add(random(200_000 + i, 100 + i));
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Digest>> ups = new ArrayList<>();
            for (byte[] b : blobs) ups.add(ex.submit(() -> client.uploadBlob(repo, Digest.sha256(b), b.length, BlobSource.ofBytes(b), null)));
            for (int i = 0; i < blobs.size(); i++) assertThat(ups.get(i).get()).isEqualTo(Digest.sha256(blobs.get(i)));
            List<Future<byte[]>> downs = new ArrayList<>();
            for (int i = 0; i < blobs.size(); i++) {
                byte[] b = blobs.get(i);
                Path f = tmp.resolve("p" + i);
                downs.add(ex.submit(() -> {
                    client.fetchBlob(repo, Digest.sha256(b), b.length, BlobSink.ofFile(f), 0, null);
                    return Files.readAllBytes(f);
                }));
            }
            for (int i = 0; i < blobs.size(); i++) assertThat(downs.get(i).get()).isEqualTo(blobs.get(i));
        }
    }

    @Test
    void aFailingSourceGivesItsOwnError() {
        RepositoryRef repo = new RepositoryRef(registry.host(), "test/failing");
        byte[] blob = random(300_000, 8);
        BlobSource breaks = () -> new java.io.FilterInputStream(new java.io.ByteArrayInputStream(blob)) {
            int read;

            @Override
            public int read(byte[] b, int off, int len) throws java.io.IOException {
                if (read > 100_000) throw new java.io.IOException("disk on fire");
                int n = super.read(b, off, len);
                if (n > 0) read += n;
                return n;
            }
        };
        assertThatThrownBy(() -> client.uploadBlob(repo, Digest.sha256(blob), blob.length, breaks, null))
                .isInstanceOf(java.io.IOException.class).hasMessage("disk on fire");
        BlobSource missing = BlobSource.ofFile(tmp.resolve("missing"));
        assertThatThrownBy(() -> client.uploadBlob(repo, Digest.sha256(blob), blob.length, missing, null))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);
    }

    @Test
    void connectionRefusedNamesTheHost() throws Exception {
        int port = RegistryProcess.freePort();
        RepositoryRef repo = new RepositoryRef("127.0.0.1:" + port, "x");
        assertThatThrownBy(() -> client.fetchManifest(repo, "latest"))
                .isInstanceOf(RegistryUnreachableException.class)
                .hasMessage("fetching manifest 127.0.0.1:" + port + "/x:latest: cannot connect to the registry at http://127.0.0.1:"
                        + port + ": connection refused");
    }

    @Test
    void throughputOf100MB() throws Exception {
        int size = 100 << 20;
        Path src = tmp.resolve("big");
        MessageDigest md = Digest.newSha256();
        SplittableRandom rnd = new SplittableRandom(42);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(src)) {
            for (int i = 0; i < 100; i++) {
                rnd.nextBytes(chunk);
                md.update(chunk);
                out.write(chunk);
            }
        }
        Digest d = Digest.ofSha256(md);
        int rounds = Integer.getInteger("berth.throughput.rounds", 1);
        long t0 = 0, t1 = 0, t2 = 0;
        Path dst = tmp.resolve("big.out");
        for (int round = 0; round < rounds; round++) {
            RepositoryRef r = new RepositoryRef(registry.host(), "test/big" + round);
            t0 = System.nanoTime();
            client.uploadBlob(r, d, size, BlobSource.ofFile(src), null);
            t1 = System.nanoTime();
            client.fetchBlob(r, d, size, BlobSink.ofFile(dst), 0, null);
            t2 = System.nanoTime();
            System.out.printf("round %d: push %d ms, pull %d ms%n", round, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
        }
        assertThat(Files.size(dst)).isEqualTo(size);
        System.out.printf("registry throughput, 100 MiB blob: push %.0f MB/s (%d ms), pull %.0f MB/s (%d ms)%n",
                size / 1e6 / ((t1 - t0) / 1e9), (t1 - t0) / 1_000_000, size / 1e6 / ((t2 - t1) / 1e9), (t2 - t1) / 1_000_000);
    }
}
