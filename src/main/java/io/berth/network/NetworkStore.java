package io.berth.network;

import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The network records: {@code <data root>/networks/<id>.json}, each written atomically. */
public final class NetworkStore {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkStore.class);
    private final Path dir;

    public NetworkStore(Path dataRoot) {
        this.dir = dataRoot.resolve("networks");
    }

    public Path directory() {
        return dir;
    }

    public List<Network> loadAll() {
        List<Network> all = new ArrayList<>();
        if (!Files.isDirectory(dir)) return all;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                try {
                    all.add(NetJson.MAPPER.readValue(Files.readAllBytes(f), Network.class));
                } catch (IOException | RuntimeException e) {
                    LOG.warn("skipping unreadable network record {}: {}", f, e.toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return all;
    }

    public void save(Network network) {
        try {
            AtomicFiles.write(dir.resolve(network.id() + ".json"), NetJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(network));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the record of network " + network.name(), e);
        }
    }

    public void delete(String id) {
        try {
            Files.deleteIfExists(dir.resolve(id + ".json"));
            AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the record of network " + id, e);
        }
    }
}
