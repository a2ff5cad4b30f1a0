package io.berth.content;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Mark and sweep over the content store. The caller names the roots (every manifest,
 * index and config digest its image records point at); {@link References} says which
 * blobs a blob points at (a manifest: its config and layers; an index: its manifests),
 * so the closure of the roots is what stays. Everything else is deleted, except:
 * <ul>
 *   <li>blobs a {@link ContentStore.Lease} holds,</li>
 *   <li>blobs a writer holds right now,</li>
 *   <li>blobs younger than the grace period (committed by a pull whose image record is
 *       not written yet).</li>
 * </ul>
 * The content box knows no manifests: {@code io.berth.image} supplies the References.
 */
public final class ContentGc {
    /** The blobs a blob refers to; empty for a leaf (a layer, a config). */
    @FunctionalInterface
    public interface References {
        Collection<Digest> children(Digest blob) throws IOException;

        References NONE = blob -> List.of();
    }

    /** What a sweep kept and removed. */
    public record Result(Set<Digest> live, List<Digest> removed, long bytesFreed) {}

    private final ContentStore store;
    private final References references;
    private final Duration gracePeriod;

    public ContentGc(ContentStore store, References references, Duration gracePeriod) {
        this.store = store;
        this.references = references;
        this.gracePeriod = gracePeriod;
    }

    /** The roots and everything reachable from them that exists in the store (and the roots even if missing). */
    public Set<Digest> mark(Collection<Digest> roots) throws IOException {
        Set<Digest> live = new HashSet<>();
        Deque<Digest> todo = new ArrayDeque<>(roots);
        todo.addAll(store.leasedDigests());
        while (!todo.isEmpty()) {
            Digest d = todo.pop();
            if (!live.add(d)) continue;
            if (!store.exists(d)) continue;
            for (Digest child : references.children(d)) {
                if (!live.contains(child)) todo.push(child);
            }
        }
        return live;
    }

    /** Deletes every blob not reachable from {@code roots}, leases, writers or the grace period. */
    public Result sweep(Collection<Digest> roots) throws IOException {
        Set<Digest> live = mark(roots);
        Instant cutoff = Instant.now().minus(gracePeriod);
        List<Digest> removed = new ArrayList<>();
        long freed = 0;
        for (Digest d : store.list().toList()) {
            if (live.contains(d) || store.isBeingWritten(d) || store.leasedDigests().contains(d)) continue;
            long size;
            try {
                if (!gracePeriod.isZero() && Files.getLastModifiedTime(store.path(d)).toInstant().isAfter(cutoff)) continue;
                size = Files.size(store.path(d));
            } catch (NoSuchFileException e) {
                continue;
            }
            if (store.delete(d)) {
                removed.add(d);
                freed += size;
            }
        }
        return new Result(Set.copyOf(live), List.copyOf(removed), freed);
    }
}
