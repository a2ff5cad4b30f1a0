package io.berth.content;

import io.berth.sys.FileTrees;
import io.berth.sys.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Blobs by digest under {@code <data-root>/content}, after containerd's content store.
 *
 * <pre>
 * content/blobs/sha256/&lt;hex&gt;         a verified blob, read-only, appears only by rename
 * content/ingest/&lt;sha256(ref)&gt;/data    bytes of an ingest in progress
 * content/ingest/&lt;sha256(ref)&gt;/ref     the ref, for people reading the folder
 * content/ingest/&lt;sha256(ref)&gt;/expected the digest the ingest was opened with
 * </pre>
 *
 * <h2>Writing</h2>
 * {@link #openWriter} names an ingest by a caller-chosen {@code ref} (for a pull, e.g.
 * {@code "pull-" + digest}) and the digest and size the bytes must have. The writer
 * hashes as it writes; {@link Writer#commit()} refuses bytes that do not match, discarding
 * them, and otherwise fsyncs and renames them into {@code blobs/}. A writer closed without
 * commit keeps its bytes: opening the same ref again with the same expected digest resumes
 * at {@link Writer#offset()} (the bytes already there are re-hashed).
 *
 * <h2>Coordination</h2>
 * At most one open writer a ref and one a digest in this process. A second
 * {@code openWriter} for a digest someone is writing <em>waits</em> until that writer
 * commits or closes. If the first committed, the second comes back with
 * {@link Writer#alreadyExists()} true and nothing to do, so a layer shared by two images
 * pulled at once is downloaded once. {@link #tryOpenWriter} is the variant that does not
 * wait. The pattern for a puller:
 * <pre>{@code
 * try (var lease = store.lease(List.of(digest));
 *      var w = store.openWriter("pull-" + digest, digest, size)) {
 *     if (!w.alreadyExists()) {
 *         download(from = w.offset(), into = w);   // HTTP Range from the offset
 *         w.commit();
 *     }
 *     ... record the image, then close the lease
 * }
 * }</pre>
 * A {@link Lease} keeps digests from {@link ContentGc} between a blob's commit and the
 * moment an image record names it; blobs being written are never collected either.
 *
 * <h2>Reading</h2>
 * Readers see only blobs that were verified and renamed in whole; a half-written blob is
 * never under {@code blobs/}.
 */
public final class ContentStore {
    /** {@link #readAll} refuses blobs larger than this; stream them with {@link #open}. */
    public static final long READ_ALL_LIMIT = 64L << 20;

    private static final int BUFFER = 64 * 1024;
    private static final Pattern HEX64 = Pattern.compile("[a-f0-9]{64}");

    private final Path root;
    private final Path blobs;
    private final Path ingest;
    private final KeyedLocks locks = new KeyedLocks();
    private final Map<Digest, Integer> leased = new HashMap<>();
    /** Ingest folders an open writer uses; cleanup never touches them, even without a readable ref file. */
    private final Set<Path> activeIngests = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A store under {@code dataRoot/content}; folders are made on first write. */
    public ContentStore(Path dataRoot) {
        this.root = dataRoot.resolve("content");
        this.blobs = root.resolve("blobs").resolve("sha256");
        this.ingest = root.resolve("ingest");
    }

    public Path root() {
        return root;
    }

    /** Where the blob lives, whether or not it exists. */
    public Path path(Digest digest) {
        return blobs.resolve(digest.hex());
    }

    public boolean exists(Digest digest) {
        return Files.isRegularFile(path(digest));
    }

    public long size(Digest digest) throws IOException {
        try {
            return Files.size(path(digest));
        } catch (NoSuchFileException e) {
            throw new BlobNotFoundException(digest);
        }
    }

    public InputStream open(Digest digest) throws IOException {
        try {
            return Files.newInputStream(path(digest));
        } catch (NoSuchFileException e) {
            throw new BlobNotFoundException(digest);
        }
    }

    /** The whole blob; for manifests and configs, refused above {@link #READ_ALL_LIMIT}. */
    public byte[] readAll(Digest digest) throws IOException {
        long size = size(digest);
        if (size > READ_ALL_LIMIT) {
            throw new IOException("blob " + digest + " is " + size + " bytes, too large to read into memory (limit " + READ_ALL_LIMIT + "); stream it with open()");
        }
        try {
            return Files.readAllBytes(path(digest));
        } catch (NoSuchFileException e) {
            throw new BlobNotFoundException(digest);
        }
    }

    /** Re-hashes a stored blob; true when its bytes still match its name. */
    public boolean verify(Digest digest) throws IOException {
        MessageDigest md = Digest.newSha256();
        try (InputStream in = open(digest)) {
            byte[] buf = new byte[BUFFER];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return Digest.ofSha256(md).equals(digest);
    }

    /** Removes a blob; false when it was not there. */
    public boolean delete(Digest digest) throws IOException {
        boolean removed = Files.deleteIfExists(path(digest));
        if (removed) AtomicFiles.syncDirectory(blobs);
        return removed;
    }

    /** Every stored blob, a snapshot taken when called. */
    public Stream<Digest> list() throws IOException {
        if (!Files.isDirectory(blobs)) return Stream.empty();
        List<Digest> out = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(blobs)) {
            for (Path p : dir) {
                String name = p.getFileName().toString();
                if (HEX64.matcher(name).matches() && Files.isRegularFile(p)) out.add(new Digest("sha256", name));
            }
        }
        out.sort(Comparator.comparing(Digest::hex));
        return out.stream();
    }

    /** Stores a small blob (a manifest, a config) held in memory; returns its digest. */
    public Digest put(byte[] bytes) throws IOException {
        Digest digest = Digest.sha256(bytes);
        if (exists(digest)) return digest;
        try (Writer w = openWriter("put-" + digest.hex(), digest, bytes.length)) {
            if (!w.alreadyExists()) {
                w.reset();
                w.write(bytes);
            }
            return w.commit();
        }
    }

    /**
     * Opens (or resumes) the ingest {@code ref}, waiting while another writer holds the
     * same ref or the same expected digest.
     *
     * @param expected     the digest the bytes must have; null when not known in advance
     *                     (a layer being built), then commit names the blob by what it got
     * @param expectedSize the exact size in bytes, or -1 when not known
     */
    public Writer openWriter(String ref, Digest expected, long expectedSize) throws IOException {
        Objects.requireNonNull(ref, "ref");
        try {
            KeyedLocks.Held digestLock = expected == null ? null : locks.acquire(digestKey(expected));
            KeyedLocks.Held refLock;
            try {
                refLock = locks.acquire(refKey(ref));
            } catch (InterruptedException e) {
                if (digestLock != null) digestLock.close();
                throw e;
            }
            return open(ref, expected, expectedSize, digestLock, refLock);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to write " + (expected != null ? expected : ref));
        }
    }

    /**
     * Like {@link #openWriter} but waits at most {@code wait}; null when another writer
     * still holds the ref or digest then.
     */
    public Writer tryOpenWriter(String ref, Digest expected, long expectedSize, Duration wait) throws IOException {
        Objects.requireNonNull(ref, "ref");
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            KeyedLocks.Held digestLock = null;
            if (expected != null) {
                digestLock = locks.tryAcquire(digestKey(expected), wait.toMillis());
                if (digestLock == null) return null;
            }
            KeyedLocks.Held refLock;
            try {
                refLock = locks.tryAcquire(refKey(ref), Math.max(0, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                if (digestLock != null) digestLock.close();
                throw e;
            }
            if (refLock == null) {
                if (digestLock != null) digestLock.close();
                return null;
            }
            return open(ref, expected, expectedSize, digestLock, refLock);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to write " + (expected != null ? expected : ref));
        }
    }

    /** True while a writer in this process holds this digest. */
    public boolean isBeingWritten(Digest digest) {
        return locks.isHeld(digestKey(digest));
    }

    /**
     * Keeps digests from garbage collection until closed, whether or not they exist yet.
     * Leases nest: a digest stays leased while any lease names it.
     */
    public Lease lease(Collection<Digest> digests) {
        List<Digest> copy = List.copyOf(digests);
        synchronized (leased) {
            for (Digest d : copy) leased.merge(d, 1, Integer::sum);
        }
        return new Lease(copy);
    }

    /** The digests some open lease holds now. */
    public Set<Digest> leasedDigests() {
        synchronized (leased) {
            return Set.copyOf(leased.keySet());
        }
    }

    /** See {@link ContentStore#lease}. */
    public final class Lease implements AutoCloseable {
        private final List<Digest> digests;
        private boolean closed;

        private Lease(List<Digest> digests) {
            this.digests = digests;
        }

        public List<Digest> digests() {
            return digests;
        }

        @Override
        public void close() {
            synchronized (leased) {
                if (closed) return;
                closed = true;
                for (Digest d : digests) leased.computeIfPresent(d, (k, n) -> n == 1 ? null : n - 1);
            }
        }
    }

    /**
     * Removes ingests no writer holds whose data was last touched more than
     * {@code olderThan} ago; all unheld ingests when {@code olderThan} is null or zero.
     * Meant for daemon start. Returns how many ingests it removed.
     */
    public int cleanupIngests(Duration olderThan) throws IOException {
        return reapIngests(ref -> true, olderThan).count();
    }

    /** What {@link #reapIngests} removed: how many ingests, and the bytes they held. */
    public record Reaped(int count, long bytes) {}

    /**
     * Removes the ingests no writer holds whose ref {@code which} accepts (a ref may be null:
     * an ingest cut short before its ref file was written) and whose data was last touched
     * more than {@code olderThan} ago (any age when null or zero). For daemon start and prune:
     * a partial download or load left by a failure, a crash or a full disk.
     */
    public Reaped reapIngests(java.util.function.Predicate<String> which, Duration olderThan) throws IOException {
        if (!Files.isDirectory(ingest)) return new Reaped(0, 0);
        Instant cutoff = olderThan == null || olderThan.isZero() ? null : Instant.now().minus(olderThan);
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(ingest)) {
            for (Path p : ds) dirs.add(p);
        }
        int removed = 0;
        long bytes = 0;
        for (Path dir : dirs) {
            if (activeIngests.contains(dir)) continue;
            String ref = readRef(dir);
            if (!which.test(ref)) continue;
            KeyedLocks.Held held = null;
            try {
                if (ref != null) {
                    held = locks.tryAcquire(refKey(ref), 0);
                    if (held == null) continue;
                }
                if (activeIngests.contains(dir)) continue;
                if (cutoff != null && lastTouched(dir).isAfter(cutoff)) continue;
                long size = treeSize(dir);
                FileTrees.deleteTree(dir);
                removed++;
                bytes += size;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while cleaning ingests");
            } finally {
                if (held != null) held.close();
            }
        }
        return new Reaped(removed, bytes);
    }

    /** The bytes of the files right in {@code dir} (an ingest holds no sub-folders). */
    private static long treeSize(Path dir) {
        long total = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                try {
                    total += Files.size(p);
                } catch (IOException gone) {
                    // removed meanwhile
                }
            }
        } catch (IOException e) {
            return total;
        }
        return total;
    }

    /** Refs of the ingests on disk (finished or not, held or not). */
    public List<String> listIngests() throws IOException {
        if (!Files.isDirectory(ingest)) return List.of();
        List<String> refs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(ingest)) {
            for (Path p : ds) {
                String ref = readRef(p);
                if (ref != null) refs.add(ref);
            }
        }
        refs.sort(null);
        return refs;
    }

    private Writer open(String ref, Digest expected, long expectedSize, KeyedLocks.Held digestLock, KeyedLocks.Held refLock) throws IOException {
        Path dir = ingestDir(ref);
        activeIngests.add(dir);
        try {
            if (expected != null && exists(expected)) {
                // Someone (maybe the writer we waited for) committed it: nothing left to do.
                FileTrees.deleteTree(dir);
                return new Writer(this, ref, expected, expectedSize, dir, null, null, size(expected), digestLock, refLock);
            }
            io.berth.sys.PrivateFiles.createDirectories(dir);
            Path data = dir.resolve("data");
            Path expectedFile = dir.resolve("expected");
            String expectedText = expected == null ? "" : expected.toString();
            String previous = Files.exists(expectedFile) ? Files.readString(expectedFile, StandardCharsets.UTF_8) : null;
            if (previous == null || !previous.equals(expectedText)) {
                // A different blob under this ref before: its bytes are no start for ours.
                Files.deleteIfExists(data);
                AtomicFiles.write(dir.resolve("ref"), ref.getBytes(StandardCharsets.UTF_8));
                AtomicFiles.write(expectedFile, expectedText.getBytes(StandardCharsets.UTF_8));
            }
            FileChannel ch = FileChannel.open(data, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
                    io.berth.sys.PrivateFiles.fileAttribute());
            try {
                MessageDigest md = Digest.newSha256();
                long have = ch.size();
                if (expectedSize >= 0 && have > expectedSize) {
                    ch.truncate(0);
                    have = 0;
                }
                ByteBuffer buf = ByteBuffer.allocate(BUFFER);
                long pos = 0;
                while (pos < have) {
                    buf.clear();
                    int n = ch.read(buf, pos);
                    if (n <= 0) break;
                    md.update(buf.array(), 0, n);
                    pos += n;
                }
                ch.position(pos);
                return new Writer(this, ref, expected, expectedSize, dir, ch, md, pos, digestLock, refLock);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            activeIngests.remove(dir);
            refLock.close();
            if (digestLock != null) digestLock.close();
            throw e;
        }
    }

    private void commitInto(Path data, Digest digest) throws IOException {
        io.berth.sys.PrivateFiles.createDirectories(blobs);
        Path target = path(digest);
        if (Files.exists(target)) return;
        // The commit time, not the last write, is what ContentGc's grace period measures.
        Files.setLastModifiedTime(data, java.nio.file.attribute.FileTime.from(Instant.now()));
        try {
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("r--r--r--"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system: the blob stays writable
        }
        try {
            Files.move(data, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            return; // a blob is its bytes: the one already there is as good
        }
        AtomicFiles.syncDirectory(blobs);
    }

    private Path ingestDir(String ref) {
        MessageDigest md = Digest.newSha256();
        return ingest.resolve(HexFormat.of().formatHex(md.digest(ref.getBytes(StandardCharsets.UTF_8))));
    }

    private static String readRef(Path dir) {
        try {
            return Files.readString(dir.resolve("ref"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    private static Instant lastTouched(Path dir) throws IOException {
        Path data = dir.resolve("data");
        Path p = Files.exists(data) ? data : dir;
        return Files.getLastModifiedTime(p).toInstant();
    }

    private static String digestKey(Digest d) {
        return "digest:" + d;
    }

    private static String refKey(String ref) {
        return "ref:" + ref;
    }

    /**
     * An open ingest: an OutputStream that hashes what it writes. Not thread-safe; one
     * thread writes at a time. Close without commit keeps the bytes for a resume when the
     * writer was opened with the digest it expects (a pull's download), and throws them
     * away otherwise (nothing could resume them); {@link #abort()} always throws them away.
     */
    public static final class Writer extends OutputStream {
        private final ContentStore store;
        private final String ref;
        private final Digest expected;
        private final long expectedSize;
        private final Path dir;
        private final KeyedLocks.Held digestLock;
        private final KeyedLocks.Held refLock;
        private final boolean existing;
        private FileChannel channel;
        private final MessageDigest md;
        private final ByteBuffer buffer;
        private long offset;
        private boolean done;

        private Writer(ContentStore store, String ref, Digest expected, long expectedSize, Path dir, FileChannel channel,
                       MessageDigest md, long offset, KeyedLocks.Held digestLock, KeyedLocks.Held refLock) {
            this.store = store;
            this.ref = ref;
            this.expected = expected;
            this.expectedSize = expectedSize;
            this.dir = dir;
            this.channel = channel;
            this.md = md;
            this.offset = offset;
            this.digestLock = digestLock;
            this.refLock = refLock;
            this.existing = channel == null;
            this.buffer = existing ? null : ByteBuffer.allocate(BUFFER);
        }

        public String ref() {
            return ref;
        }

        /** Null when opened without one. */
        public Digest expected() {
            return expected;
        }

        public long expectedSize() {
            return expectedSize;
        }

        /** True when the blob was already stored when this writer opened: write nothing, commit is a no-op. */
        public boolean alreadyExists() {
            return existing;
        }

        /** Bytes written so far, including those found from an interrupted ingest; where a download resumes. */
        public long offset() {
            return offset;
        }

        /** Drops the bytes written so far and starts again at offset 0 (a server that cannot resume). */
        public void reset() throws IOException {
            checkWritable();
            buffer.clear();
            channel.truncate(0);
            channel.position(0);
            md.reset();
            offset = 0;
        }

        /**
         * The first {@code length} bytes written so far (buffered bytes are flushed first): what a
         * resumed download hashes again before it appends.
         */
        public InputStream readWritten(long length) throws IOException {
            checkWritable();
            drain();
            if (length > offset) throw new IOException(describe() + " holds " + offset + " bytes, not " + length);
            InputStream in = Files.newInputStream(dir.resolve("data"));
            return new java.io.FilterInputStream(in) {
                long left = length;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (left <= 0) return -1;
                    int n = super.read(b, off, (int) Math.min(len, left));
                    if (n > 0) left -= n;
                    return n;
                }
            };
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            checkWritable();
            if (expectedSize >= 0 && offset + len > expectedSize) {
                throw new BlobMismatchException("writing " + describe() + ": got more than the expected " + expectedSize + " bytes (" + (offset + len) + " so far)",
                        expected, null, expectedSize, offset + len);
            }
            md.update(b, off, len);
            offset += len;
            while (len > 0) {
                int n = Math.min(len, buffer.remaining());
                buffer.put(b, off, n);
                off += n;
                len -= n;
                if (!buffer.hasRemaining()) drain();
            }
        }

        @Override
        public void flush() throws IOException {
            if (!existing && !done) drain();
        }

        /**
         * Lets a child process append the ingest's next bytes itself (its stdout redirected onto
         * the data file), then hashes what it wrote: the bytes never cross the JVM on their way
         * in. The process must exit 0; otherwise its stderr is the error and the writer keeps
         * only what it held before.
         */
        public void appendFrom(ProcessBuilder producer, String what) throws IOException, InterruptedException {
            checkWritable();
            drain();
            long start = offset;
            Process p = producer.redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("data").toFile()))
                    .redirectError(ProcessBuilder.Redirect.PIPE).start();
            String err;
            int status;
            try (InputStream stderr = p.getErrorStream()) {
                err = new String(stderr.readNBytes(4096), StandardCharsets.UTF_8).strip();
                status = p.waitFor();
            } catch (InterruptedException | IOException e) {
                p.destroyForcibly();
                channel.truncate(start);
                throw e;
            }
            long end = channel.size();
            if (status != 0) {
                channel.truncate(start);
                throw new IOException(what + " failed (exit " + status + "): " + err);
            }
            if (expectedSize >= 0 && end > expectedSize) {
                throw new BlobMismatchException("writing " + describe() + ": got more than the expected " + expectedSize + " bytes (" + end + ")",
                        expected, null, expectedSize, end);
            }
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                ByteBuffer chunk = arena.allocate(1 << 20).asByteBuffer(); // native: hashed where it lies
                long pos = start;
                while (pos < end) {
                    chunk.clear();
                    int n = channel.read(chunk, pos);
                    if (n <= 0) throw new IOException(describe() + ": " + what + " wrote " + (end - start) + " bytes, but only " + (pos - start) + " could be read back");
                    chunk.flip();
                    md.update(chunk);
                    pos += n;
                }
            }
            offset = end;
            channel.position(end);
        }

        /**
         * Verifies and stores the blob; returns its digest. Throws
         * {@link BlobMismatchException} (after discarding the ingest) when the size or
         * digest is not what the writer was opened with. The writer is finished either way.
         */
        public Digest commit() throws IOException {
            if (done) throw new IllegalStateException("writer for " + describe() + " is already committed or closed");
            if (existing) {
                finish();
                return expected;
            }
            try {
                drain();
                channel.force(false);
                channel.close();
                channel = null;
                if (expectedSize >= 0 && offset != expectedSize) {
                    io.berth.sys.FileTrees.deleteTree(dir);
                    throw new BlobMismatchException("failed to commit " + describe() + ": expected size " + expectedSize + " bytes, got " + offset + " bytes; the data was discarded",
                            expected, null, expectedSize, offset);
                }
                Digest actual = Digest.ofSha256(md);
                if (expected != null && !expected.equals(actual)) {
                    io.berth.sys.FileTrees.deleteTree(dir);
                    throw new BlobMismatchException("failed to commit " + describe() + ": expected digest " + expected + ", got " + actual + " (" + offset + " bytes); the data was discarded",
                            expected, actual, expectedSize, offset);
                }
                store.commitInto(dir.resolve("data"), actual);
                io.berth.sys.FileTrees.deleteTree(dir);
                return actual;
            } finally {
                finish();
            }
        }

        /** Releases the writer and deletes what it wrote. */
        public void abort() throws IOException {
            if (done) return;
            try {
                if (channel != null) channel.close();
                channel = null;
                if (!existing) io.berth.sys.FileTrees.deleteTree(dir);
            } finally {
                finish();
            }
        }

        /** Releases the writer, keeping uncommitted bytes on disk for a later resume (only with an expected digest). */
        @Override
        public void close() throws IOException {
            if (done) return;
            if (expected == null) {
                abort();
                return;
            }
            try {
                if (channel != null) {
                    drain();
                    channel.close();
                }
                channel = null;
            } finally {
                finish();
            }
        }

        private void finish() throws IOException {
            done = true;
            if (channel != null) {
                try {
                    channel.close();
                } finally {
                    channel = null;
                }
            }
            store.activeIngests.remove(dir);
            refLock.close();
            if (digestLock != null) digestLock.close();
        }

        private void drain() throws IOException {
            buffer.flip();
            try {
                while (buffer.hasRemaining()) channel.write(buffer);
            } catch (IOException e) {
                throw io.berth.sys.DiskFull.describe("write", dir.resolve("data"), e);
            }
            buffer.clear();
        }

        private void checkWritable() {
            if (done) throw new IllegalStateException("writer for " + describe() + " is already committed or closed");
            if (existing) throw new IllegalStateException("blob " + expected + " already exists; check alreadyExists() before writing");
        }

        private String describe() {
            return expected != null ? "blob " + expected + " (ingest " + ref + ")" : "ingest " + ref;
        }
    }
}
