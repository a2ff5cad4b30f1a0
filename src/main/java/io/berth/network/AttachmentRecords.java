package io.berth.network;

import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandboxes' records, {@code <data root>/network/attachments/<id>.json}: what was done
 * to the host for a container, written before each step so a crash can be undone.
 */
final class AttachmentRecords {
    private static final Logger LOG = LoggerFactory.getLogger(AttachmentRecords.class);
    private final Path dir;
    /** Records as last written or read: `docker ps` and inspect read them per container. */
    private final Map<String, AttachmentRecord> cache = new ConcurrentHashMap<>();

    AttachmentRecords(Path dir) {
        this.dir = dir;
    }

    boolean exists(String cid) {
        return Files.exists(path(cid));
    }

    private Path path(String cid) {
        return dir.resolve(cid + ".json");
    }

    /**
     * Namespaces, links and rules die with the machine; only the IPAM leases outlive it. So
     * the record is made durable only while an endpoint is being added (its lease may exist
     * before its result is known, and the record is what lets reconcile release it); the
     * other writes survive a daemon crash, which is what they are for.
     */
    void write(AttachmentRecord r) {
        boolean pending = r.endpoints().stream().anyMatch(e -> e.result() == null);
        try {
            byte[] json = NetJson.MAPPER.writeValueAsBytes(r);
            if (pending) AtomicFiles.write(path(r.containerId()), json);
            else AtomicFiles.writeForThisBoot(path(r.containerId()), json);
            cache.put(r.containerId(), r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the network record of container " + r.containerId(), e);
        }
    }

    Optional<AttachmentRecord> read(String cid) {
        AttachmentRecord cached = cache.get(cid);
        if (cached != null) return Optional.of(cached);
        Path p = path(cid);
        if (!Files.exists(p)) return Optional.empty();
        try {
            AttachmentRecord r = NetJson.MAPPER.readValue(Files.readAllBytes(p), AttachmentRecord.class);
            cache.put(cid, r);
            if (!Files.exists(p)) cache.remove(cid, r); // deleted while we read it
            return Optional.of(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    void delete(String cid) {
        try {
            cache.remove(cid);
            Files.deleteIfExists(path(cid));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every record on disk; unreadable ones are skipped with a warning. */
    List<AttachmentRecord> loadAll() {
        List<AttachmentRecord> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                try {
                    out.add(NetJson.MAPPER.readValue(Files.readAllBytes(f), AttachmentRecord.class));
                } catch (IOException | RuntimeException e) {
                    LOG.warn("skipping unreadable network attachment record {}: {}", f, e.toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return out;
    }
}
