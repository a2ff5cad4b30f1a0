package io.berth.cri;

import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Pods on disk, one file each under {@code DATA-ROOT/cri/pods/ID.json}, written whole and
 * renamed in place; read back at start so pods outlive a restart of berthd.
 */
public final class PodStore {
    private static final Logger log = LoggerFactory.getLogger(PodStore.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path dir;
    private final Map<String, Pod> pods = new ConcurrentHashMap<>();

    private PodStore(Path dir) {
        this.dir = dir;
    }

    public static PodStore open(Path dataRoot) throws IOException {
        PodStore s = new PodStore(dataRoot.resolve("cri").resolve("pods"));
        io.berth.sys.PrivateFiles.createDirectories(s.dir); // 0700: pods name images, mounts and secrets' paths
        try (DirectoryStream<Path> files = Files.newDirectoryStream(s.dir, "*.json")) {
            for (Path f : files) {
                try {
                    Pod p = JSON.readValue(Files.readAllBytes(f), Pod.class);
                    s.pods.put(p.id(), p);
                } catch (IOException | RuntimeException e) {
                    log.warn("skipping unreadable pod record {}: {}", f, e.getMessage());
                }
            }
        }
        return s;
    }

    public void save(Pod p) throws IOException {
        AtomicFiles.write(dir.resolve(p.id() + ".json"), JSON.writeValueAsBytes(p));
        pods.put(p.id(), p);
    }

    public void delete(String id) throws IOException {
        Files.deleteIfExists(dir.resolve(id + ".json"));
        pods.remove(id);
    }

    public Optional<Pod> get(String id) {
        return Optional.ofNullable(pods.get(id));
    }

    public List<Pod> list() {
        return new ArrayList<>(pods.values());
    }

    /** The pods whose networking must be kept when berthd starts again. */
    public Set<String> ids() {
        return Set.copyOf(pods.keySet());
    }
}
