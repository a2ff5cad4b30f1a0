package io.berth.container;

import io.berth.sys.FileTrees;
import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every container's record under {@code DATA_ROOT/containers/<id>/config.json}, written
 * atomically; the name index (unique names) and lookup by ID, unique ID prefix or name.
 */
public final class ContainerStore {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerStore.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    static final JsonMapper JSON = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private final Path dir;
    private final ContainerEvents events;
    private final Map<String, Container> byId = new ConcurrentHashMap<>();
    /** "/name" → id; guarded by {@code this}. */
    private final Map<String, String> names = new HashMap<>();

    /** A removed container's folder is renamed to this prefix and its ID, then deleted in the background. */
    private static final String REMOVING = ".removing-";

    /** A store whose containers announce nothing (tests, tools). */
    public ContainerStore(Path dataRoot) throws IOException {
        this(dataRoot, ContainerEvents.NONE);
    }

    /** A store whose containers announce their events to {@code events}. */
    public ContainerStore(Path dataRoot, ContainerEvents events) throws IOException {
        this.dir = dataRoot.resolve("containers");
        this.events = events;
        io.berth.sys.PrivateFiles.createDirectories(dir);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (p.getFileName().toString().startsWith(REMOVING)) {
                    FileTrees.deleteTree(p); // a removal the daemon did not finish
                    continue;
                }
                Path file = p.resolve("config.json");
                if (!Files.isRegularFile(file)) continue;
                try {
                    ContainerRecord r = ContainerRecords.read(JSON, Files.readAllBytes(file));
                    byId.put(r.id(), new Container(this, events, r));
                    names.put(r.name(), r.id());
                } catch (RuntimeException | IOException e) {
                    LOG.error("cannot read container record {}: {}; leaving it aside", file, e.toString());
                }
            }
        }
    }

    /** The folder of one container: its record, bundle, log and etc files. */
    public Path directory(String id) {
        return dir.resolve(id);
    }

    public Path root() {
        return dir;
    }

    /** A new random ID, 64 hex digits, not all digits (Docker avoids those: they look like numbers). */
    public String newId() {
        while (true) {
            byte[] b = new byte[32];
            RANDOM.nextBytes(b);
            String id = HexFormat.of().formatHex(b);
            if (id.substring(0, 12).chars().allMatch(Character::isDigit)) continue;
            if (byId.containsKey(id)) continue;
            return id;
        }
    }

    /**
     * Adds a new container, reserving its name; a name in use is Docker's 409. A null name
     * gets a generated one.
     */
    public Container add(ContainerRecord record) throws IOException {
        ContainerRecord r = record;
        synchronized (this) {
            if (r.name() == null || r.name().isEmpty()) {
                String n;
                do n = "/" + Names.generate(); while (names.containsKey(n));
                r = r.withName(n);
            } else if (names.containsKey(r.name())) {
                throw nameInUse(r.name(), names.get(r.name()));
            }
            names.put(r.name(), r.id());
        }
        try {
            io.berth.sys.PrivateFiles.createDirectories(directory(r.id()));
            save(r);
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                names.remove(r.name());
            }
            throw e;
        }
        Container c = new Container(this, events, r);
        byId.put(r.id(), c);
        return c;
    }

    static ContainerException nameInUse(String name, String id) {
        return ContainerException.conflict("Conflict. The container name \"" + name + "\" is already in use by container \"" + id
                + "\". You have to remove (or rename) that container to be able to reuse that name.");
    }

    /** Moves a container to a new name (checked free), atomically with the index. */
    public synchronized void rename(Container c, String newName) throws IOException {
        String old = c.record().name();
        if (old.equals(newName)) throw ContainerException.invalid("Renaming a container with the same name as its current name");
        String holder = names.get(newName);
        if (holder != null) throw nameInUse(newName, holder);
        names.put(newName, c.id());
        try {
            c.update(r -> r.withName(newName));
        } catch (IOException | RuntimeException e) {
            names.remove(newName);
            throw e;
        }
        names.remove(old);
        events.publish("rename", c.id(), ContainerEvents.attributes(c.record(), Map.of("oldName", old)));
    }

    void save(ContainerRecord r) throws IOException {
        save(r, true);
    }

    void save(ContainerRecord r, boolean durable) throws IOException {
        Path file = directory(r.id()).resolve("config.json");
        if (durable) AtomicFiles.write(file, JSON.writeValueAsBytes(r));
        else AtomicFiles.writeForThisBoot(file, JSON.writeValueAsBytes(r));
    }

    /** Forgets a container and deletes its folder; announces {@code destroy}. */
    public void remove(Container c) throws IOException {
        remove(c, true);
    }

    /** Forgets a container whose creation failed half-way: as {@link #remove}, without an event (none said it was created). */
    public void discard(Container c) throws IOException {
        remove(c, false);
    }

    private void remove(Container c, boolean announce) throws IOException {
        synchronized (this) {
            names.remove(c.record().name(), c.id());
        }
        byId.remove(c.id());
        c.removed(announce); // first: no update may write the record again once its folder is gone
        Path doomed = dir.resolve(REMOVING + c.id());
        try {
            Files.move(directory(c.id()), doomed, StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.syncDirectory(dir);
            FileTrees.deleteLater(doomed);
        } catch (NoSuchFileException e) {
            // never written
        }
    }

    /** Looks up by full ID, exact name (with or without slash), or unique ID prefix; Docker's 404 otherwise. */
    public Container get(String ref) {
        return find(ref).orElseThrow(() -> ContainerException.noSuchContainer(ref));
    }

    public Optional<Container> find(String ref) {
        if (ref == null || ref.isEmpty()) return Optional.empty();
        Container c = byId.get(ref);
        if (c != null) return Optional.of(c);
        synchronized (this) {
            String id = names.get(ref.startsWith("/") ? ref : "/" + ref);
            if (id != null && byId.containsKey(id)) return Optional.of(byId.get(id));
        }
        if (!ref.matches("[0-9a-f]+")) return Optional.empty();
        List<Container> hits = byId.values().stream().filter(x -> x.id().startsWith(ref)).toList();
        if (hits.size() > 1) {
            throw ContainerException.invalid("Multiple IDs found with provided prefix: " + ref);
        }
        return hits.stream().findFirst();
    }

    /** Every container, newest first. */
    public List<Container> list() {
        List<Container> all = new ArrayList<>(byId.values());
        all.sort(Comparator.comparing((Container c) -> c.record().created()).reversed().thenComparing(Container::id));
        return all;
    }

    public int count() {
        return byId.size();
    }

}
