package io.berth.content;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ContentStoreTest {
    @TempDir Path dataRoot;

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void writeAndCommitStoresBlobUnderItsDigest() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = randomBytes(200_000, 1);
        Digest d = Digest.sha256(data);
        try (var w = store.openWriter("pull-1", d, data.length)) {
            assertThat(w.alreadyExists()).isFalse();
            assertThat(w.offset()).isZero();
            w.write(data, 0, 1000);
            w.write(data, 1000, data.length - 1000);
            assertThat(w.offset()).isEqualTo(data.length);
            assertThat(w.commit()).isEqualTo(d);
        }
        assertThat(store.exists(d)).isTrue();
        assertThat(store.path(d)).isEqualTo(dataRoot.resolve("content/blobs/sha256/" + d.hex()));
        assertThat(store.size(d)).isEqualTo(data.length);
        assertThat(store.readAll(d)).isEqualTo(data);
        try (InputStream in = store.open(d)) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        assertThat(store.verify(d)).isTrue();
        assertThat(store.list()).containsExactly(d);
        assertThat(store.listIngests()).isEmpty();
    }

    @Test
    void aChildProcessAppendsToAnIngestAndTheWriterHashesWhatItWrote() throws Exception {
        ContentStore store = new ContentStore(dataRoot);
        byte[] head = "head:".getBytes(StandardCharsets.UTF_8);
        byte[] body = randomBytes(3 << 20, 7); // more than the 1 MiB the hash reads at a time
        Path source = Files.write(dataRoot.resolve("source"), body);
        byte[] whole = new byte[head.length + body.length];
        System.arraycopy(head, 0, whole, 0, head.length);
        System.arraycopy(body, 0, whole, head.length, body.length);
        try (var w = store.openWriter("made-by-cat", null, -1)) {
            w.write(head);
            w.appendFrom(new ProcessBuilder("cat", source.toString()), "cat");
            assertThat(w.offset()).isEqualTo(whole.length);
            w.write(new byte[0]);
            assertThat(w.commit()).isEqualTo(Digest.sha256(whole));
        }
        assertThat(store.readAll(Digest.sha256(whole))).isEqualTo(whole);
    }

    @Test
    void aFailingChildProcessLeavesTheIngestAsItWas() throws Exception {
        ContentStore store = new ContentStore(dataRoot);
        byte[] head = randomBytes(1000, 8);
        try (var w = store.openWriter("made-by-sh", null, -1)) {
            w.write(head);
            assertThatThrownBy(() -> w.appendFrom(new ProcessBuilder("sh", "-c", "head -c 5000 /dev/zero; echo broken pipe >&2; exit 3"), "the compressor"))
                    .isInstanceOf(IOException.class)
                    .hasMessage("the compressor failed (exit 3): broken pipe");
            assertThat(w.offset()).isEqualTo(head.length);
            assertThat(w.commit()).isEqualTo(Digest.sha256(head));
        }
        assertThat(store.readAll(Digest.sha256(head))).isEqualTo(head);
    }

    @Test
    void commitRefusesWrongDigestAndLeavesNoBlob() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = "hello".getBytes(StandardCharsets.UTF_8);
        Digest wrong = Digest.sha256("other".getBytes(StandardCharsets.UTF_8));
        var w = store.openWriter("r", wrong, data.length);
        w.write(data);
        assertThatThrownBy(w::commit)
                .isInstanceOf(BlobMismatchException.class)
                .hasMessageContaining("expected digest " + wrong)
                .hasMessageContaining("got " + Digest.sha256(data))
                .satisfies(e -> assertThat(((BlobMismatchException) e).actualDigest()).isEqualTo(Digest.sha256(data)));
        assertThat(store.exists(wrong)).isFalse();
        assertThat(store.exists(Digest.sha256(data))).isFalse();
        assertThat(store.list()).isEmpty();
        assertThat(store.listIngests()).isEmpty();
        // the lock was released: the ref can be opened again at once
        try (var again = store.tryOpenWriter("r", wrong, data.length, Duration.ZERO)) {
            assertThat(again).isNotNull();
            assertThat(again.offset()).isZero();
        }
    }

    @Test
    void commitRefusesWrongSize() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = "hello".getBytes(StandardCharsets.UTF_8);
        Digest d = Digest.sha256(data);
        var w = store.openWriter("r", d, 10);
        w.write(data);
        assertThatThrownBy(w::commit).isInstanceOf(BlobMismatchException.class)
                .hasMessageContaining("expected size 10 bytes, got 5 bytes");
        assertThat(store.exists(d)).isFalse();

        try (var w2 = store.openWriter("r", d, 3)) {
            assertThatThrownBy(() -> w2.write(data)).isInstanceOf(BlobMismatchException.class)
                    .hasMessageContaining("more than the expected 3 bytes");
        }
    }

    @Test
    void resumesAnInterruptedIngest() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = randomBytes(300_000, 2);
        Digest d = Digest.sha256(data);
        try (var w = store.openWriter("pull-x", d, data.length)) {
            w.write(data, 0, 123_456);
            // closed without commit: a dropped connection
        }
        assertThat(store.exists(d)).isFalse();
        assertThat(store.listIngests()).containsExactly("pull-x");

        // a fresh store, as after a daemon restart
        ContentStore restarted = new ContentStore(dataRoot);
        try (var w = restarted.openWriter("pull-x", d, data.length)) {
            assertThat(w.offset()).isEqualTo(123_456);
            w.write(data, (int) w.offset(), data.length - (int) w.offset());
            assertThat(w.commit()).isEqualTo(d);
        }
        assertThat(restarted.readAll(d)).isEqualTo(data);
    }

    @Test
    void resumeWithOtherExpectedDigestStartsOver() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] a = randomBytes(1000, 3);
        byte[] b = randomBytes(1000, 4);
        try (var w = store.openWriter("ref", Digest.sha256(a), a.length)) {
            w.write(a, 0, 500);
        }
        try (var w = store.openWriter("ref", Digest.sha256(b), b.length)) {
            assertThat(w.offset()).isZero();
            w.write(b);
            w.commit();
        }
        assertThat(store.readAll(Digest.sha256(b))).isEqualTo(b);
    }

    @Test
    void resetStartsAgainFromZero() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = randomBytes(5000, 5);
        Digest d = Digest.sha256(data);
        try (var w = store.openWriter("ref", d, data.length)) {
            w.write(data, 0, 100);
        }
        try (var w = store.openWriter("ref", d, data.length)) {
            assertThat(w.offset()).isEqualTo(100);
            w.reset();
            w.write(data);
            w.commit();
        }
        assertThat(store.verify(d)).isTrue();
    }

    @Test
    void writerWithoutExpectedDigestNamesBlobByContent() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = randomBytes(777, 6);
        try (var w = store.openWriter("build-layer", null, -1)) {
            w.write(data);
            assertThat(w.commit()).isEqualTo(Digest.sha256(data));
        }
        assertThat(store.exists(Digest.sha256(data))).isTrue();
    }

    @Test
    void existingBlobMakesWriterANoOp() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = "{}".getBytes(StandardCharsets.UTF_8);
        Digest d = store.put(data);
        assertThat(d).isEqualTo(Digest.sha256(data));
        assertThat(store.put(data)).isEqualTo(d);
        try (var w = store.openWriter("again", d, data.length)) {
            assertThat(w.alreadyExists()).isTrue();
            assertThat(w.offset()).isEqualTo(data.length);
            assertThatThrownBy(() -> w.write(data)).isInstanceOf(IllegalStateException.class);
            assertThat(w.commit()).isEqualTo(d);
        }
        assertThat(store.list()).containsExactly(d);
    }

    @Test
    void concurrentWritersOfOneDigestStoreItOnce() throws Exception {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = randomBytes(1 << 20, 7);
        Digest d = Digest.sha256(data);
        int n = 8;
        AtomicInteger downloads = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Digest>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                String ref = "pull-" + i; // different refs, same digest: two images sharing a layer
                results.add(pool.submit(() -> {
                    start.await();
                    try (var w = store.openWriter(ref, d, data.length)) {
                        if (!w.alreadyExists()) {
                            downloads.incrementAndGet();
                            for (int off = 0; off < data.length; off += 4096) {
                                w.write(data, off, Math.min(4096, data.length - off));
                                if (off % (64 * 4096) == 0) Thread.sleep(1);
                            }
                        }
                        return w.commit();
                    }
                }));
            }
            start.countDown();
            for (Future<Digest> f : results) assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(d);
        }
        assertThat(downloads.get()).isEqualTo(1);
        assertThat(store.list()).containsExactly(d);
        assertThat(store.verify(d)).isTrue();
        assertThat(store.listIngests()).isEmpty();
    }

    @Test
    void secondWriterWaitsThenTakesOverWhenFirstFails() throws Exception {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = randomBytes(10_000, 8);
        Digest d = Digest.sha256(data);
        var first = store.openWriter("a", d, data.length);
        first.write(data, 0, 10);
        assertThat(store.tryOpenWriter("b", d, data.length, Duration.ofMillis(20))).isNull();
        assertThat(store.isBeingWritten(d)).isTrue();
        first.abort();
        assertThat(store.isBeingWritten(d)).isFalse();
        try (var second = store.tryOpenWriter("b", d, data.length, Duration.ZERO)) {
            assertThat(second).isNotNull();
            assertThat(second.alreadyExists()).isFalse();
            second.write(data);
            second.commit();
        }
        assertThat(store.verify(d)).isTrue();
    }

    @Test
    void missingBlobsSayWhich() {
        ContentStore store = new ContentStore(dataRoot);
        Digest d = Digest.sha256(new byte[0]);
        assertThat(store.exists(d)).isFalse();
        assertThatThrownBy(() -> store.open(d)).isInstanceOf(BlobNotFoundException.class).hasMessageContaining(d.toString());
        assertThatThrownBy(() -> store.size(d)).isInstanceOf(BlobNotFoundException.class);
        assertThatThrownBy(() -> store.readAll(d)).isInstanceOf(BlobNotFoundException.class);
    }

    @Test
    void deleteAndList() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        Digest a = store.put("a".getBytes(StandardCharsets.UTF_8));
        Digest b = store.put("b".getBytes(StandardCharsets.UTF_8));
        assertThat(store.list()).containsExactlyInAnyOrder(a, b);
        assertThat(store.delete(a)).isTrue();
        assertThat(store.delete(a)).isFalse();
        assertThat(store.list()).containsExactly(b);
    }

    @Test
    void cleanupIngestsSparesHeldAndRecentOnes() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = randomBytes(100, 9);
        try (var w = store.openWriter("stale", Digest.sha256(data), data.length)) {
            w.write(data, 0, 50);
        }
        var held = store.openWriter("held", null, -1);
        held.write(data, 0, 10);
        held.flush();

        assertThat(store.cleanupIngests(Duration.ofHours(1))).isZero();
        assertThat(store.listIngests()).containsExactlyInAnyOrder("stale", "held");
        assertThat(store.cleanupIngests(null)).isEqualTo(1);
        assertThat(store.listIngests()).containsExactly("held");
        held.abort();
        assertThat(store.listIngests()).isEmpty();
        assertThat(Files.exists(dataRoot.resolve("content/ingest"))).isTrue();
    }

    @Test
    void aWriterWithoutExpectedDigestLeavesNothingWhenClosedUncommitted() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        try (var w = store.openWriter("import-x", null, -1)) {
            w.write(randomBytes(1000, 3));
            w.flush();
            assertThat(store.listIngests()).containsExactly("import-x");
        }
        assertThat(store.listIngests()).isEmpty();
    }

    @Test
    void reapIngestsPicksByRefAndCountsBytes() throws IOException {
        ContentStore store = new ContentStore(dataRoot);
        byte[] data = randomBytes(8192, 11);
        try (var w = store.openWriter("pull-a", Digest.sha256(data), data.length)) {
            w.write(data, 0, 4096);
        }
        try (var w = store.openWriter("load-b", Digest.sha256(data), data.length)) {
            w.write(data, 0, 1000);
        }
        var held = store.openWriter("pull-held", Digest.sha256(data), data.length);
        held.write(data, 0, 10);
        held.flush();

        ContentStore.Reaped loads = store.reapIngests(ref -> ref == null || !ref.startsWith("pull-"), null);
        assertThat(loads.count()).isEqualTo(1);
        assertThat(loads.bytes()).isGreaterThanOrEqualTo(1000);
        assertThat(store.listIngests()).containsExactlyInAnyOrder("pull-a", "pull-held");
        ContentStore.Reaped rest = store.reapIngests(ref -> true, null);
        assertThat(rest.count()).isEqualTo(1);
        assertThat(rest.bytes()).isGreaterThanOrEqualTo(4096);
        assertThat(store.listIngests()).containsExactly("pull-held");
        held.abort();
    }
}
