package io.berth.api;

import io.berth.engine.Engine;
import io.berth.engine.VolumeService;
import io.berth.volume.Volume;
import java.io.IOException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** /volumes: create, inspect, list, remove, prune, as `docker volume` uses them. */
final class VolumeRoutes {
    private static final Set<String> LIST_FILTERS = Set.of("dangling", "driver", "label", "name");
    private static final Set<String> PRUNE_FILTERS = Set.of("label", "label!", "all");

    private final VolumeService volumes;

    VolumeRoutes(Engine engine) {
        this.volumes = engine.volumes();
    }

    void register(Router router) {
        router.add("GET", "/volumes", this::list);
        router.add("POST", "/volumes/create", this::create);
        router.add("POST", "/volumes/prune", this::prune);
        router.add("GET", "/volumes/{name}", this::inspect);
        router.add("DELETE", "/volumes/{name}", this::remove);
    }

    record CreateRequest(
            @com.fasterxml.jackson.annotation.JsonProperty("Name") String name,
            @com.fasterxml.jackson.annotation.JsonProperty("Driver") String driver,
            @com.fasterxml.jackson.annotation.JsonProperty("DriverOpts") Map<String, String> driverOpts,
            @com.fasterxml.jackson.annotation.JsonProperty("Labels") Map<String, String> labels) {}

    private void create(ApiCall call) throws IOException {
        CreateRequest req = call.readJson(CreateRequest.class);
        Volume v = volumes.create(req.name(), req.driver(),
                req.labels() == null ? Map.of() : req.labels(), req.driverOpts() == null ? Map.of() : req.driverOpts());
        call.json(201, shape(v, null));
    }

    private void inspect(ApiCall call) throws IOException {
        Volume v = volumes.get(call.path("name"));
        call.json(200, shape(v, null));
    }

    private void list(ApiCall call) throws IOException {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), LIST_FILTERS);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Volume v : volumes.list()) {
            if (matches(v, filters)) out.add(shape(v, null));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Volumes", out);
        body.put("Warnings", null);
        call.json(200, body);
    }

    private void remove(ApiCall call) throws IOException {
        boolean force = call.queryBool("force", false);
        volumes.remove(call.path("name"), force);
        call.exchange().sendEmpty(204);
    }

    private void prune(ApiCall call) throws IOException {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), PRUNE_FILTERS);
        // API 1.41 prunes every unused local volume; `all` is accepted for newer clients.
        Map<String, Long> removed = volumes.prune(v -> labelsMatch(v, filters.get("label"), true) && labelsMatch(v, filters.get("label!"), false));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("VolumesDeleted", removed.isEmpty() ? null : List.copyOf(removed.keySet()));
        body.put("SpaceReclaimed", removed.values().stream().mapToLong(Long::longValue).filter(x -> x > 0).sum());
        call.json(200, body);
    }

    private boolean matches(Volume v, Map<String, Set<String>> filters) {
        for (Map.Entry<String, Set<String>> f : filters.entrySet()) {
            Set<String> values = f.getValue();
            boolean ok = switch (f.getKey()) {
                case "name" -> values.stream().anyMatch(n -> v.name().contains(n));
                case "driver" -> values.contains("local");
                case "label" -> labelsMatch(v, values, true);
                case "dangling" -> values.stream().anyMatch(d -> (d.equals("true") || d.equals("1")) != volumes.inUse(v));
                default -> true;
            };
            if (!ok) return false;
        }
        return true;
    }

    private static boolean labelsMatch(Volume v, Set<String> terms, boolean want) {
        if (terms == null || terms.isEmpty()) return true;
        for (String term : terms) {
            int eq = term.indexOf('=');
            boolean has = eq < 0 ? v.labels().containsKey(term) : term.substring(eq + 1).equals(v.labels().get(term.substring(0, eq)));
            if (has != want) return false;
        }
        return true;
    }

    static Map<String, Object> shape(Volume v, Long size) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("CreatedAt", v.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
        m.put("Driver", "local");
        m.put("Labels", v.labels().isEmpty() ? null : v.labels());
        m.put("Mountpoint", v.mountpoint().toString());
        m.put("Name", v.name());
        m.put("Options", v.options().isEmpty() ? null : v.options());
        m.put("Scope", "local");
        if (size != null) m.put("UsageData", Map.of("Size", size, "RefCount", 0));
        return m;
    }

}
