package io.berth.api;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.HostConfig;
import io.berth.engine.ContainerService;
import io.berth.engine.Engine;
import io.berth.image.ImageConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** /containers/...: create, list, inspect, remove, rename, wait, prune, and the running side. */
final class ContainerRoutes {
    private static final Set<String> LIST_FILTERS = Set.of("status", "name", "id", "label", "ancestor", "exited", "before", "since",
            "health", "volume", "network", "publish", "expose", "is-task", "isolation");

    private final Engine engine;

    ContainerRoutes(Engine engine) {
        this.engine = engine;
    }

    private ContainerService containers() {
        return engine.containers();
    }

    void register(Router router) {
        router.add("POST", "/containers/create", guard(this::create));
        router.add("GET", "/containers/json", guard(this::list));
        router.add("POST", "/containers/prune", guard(this::prune));
        router.add("GET", "/containers/{id}/json", guard(this::inspect));
        router.add("DELETE", "/containers/{id}", guard(this::remove));
        router.add("POST", "/containers/{id}/rename", guard(this::rename));
        router.add("POST", "/containers/{id}/wait", guard(this::await));
    }

    /** Turns the container box's refusals into Docker's status codes. */
    static Router.Handler guard(Router.Handler h) {
        return call -> {
            try {
                h.handle(call);
            } catch (ContainerException e) {
                switch (e.kind()) {
                    case NOT_MODIFIED -> call.exchange().sendEmpty(304);
                    case NOT_FOUND -> throw new ApiException(404, e.getMessage());
                    case CONFLICT -> throw new ApiException(409, e.getMessage());
                    case INVALID -> throw new ApiException(400, e.getMessage());
                }
            }
        };
    }

    private void create(ApiCall call) throws Exception {
        byte[] body = call.request().body().readAllBytes();
        JsonNode root = body.length == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(body);
        ImageConfig.ContainerConfig config = Json.MAPPER.treeToValue(root, ImageConfig.ContainerConfig.class);
        JsonNode hc = root.get("HostConfig");
        HostConfig host = hc == null || hc.isNull() ? HostConfig.empty() : Json.MAPPER.treeToValue(hc, HostConfig.class);
        var created = containers().create(new ContainerService.CreateRequest(call.query("name"), config, host, call.query("platform")));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Id", created.id());
        out.put("Warnings", created.warnings());
        call.json(201, out);
    }

    private void list(ApiCall call) throws IOException {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), LIST_FILTERS);
        boolean all = call.queryBool("all", false);
        int limit = parseInt(call.query("limit"), -1);
        boolean size = call.queryBool("size", false);
        List<Map<String, Object>> out = new ArrayList<>();
        for (ContainerRecord r : containers().list(all, limit, filters)) {
            out.add(ContainerJson.listEntry(r, size ? containers().sizeRw(r) : null, size ? containers().sizeRootFs(r) : null));
        }
        call.json(200, out);
    }

    private void inspect(ApiCall call) throws IOException {
        Container c = containers().get(call.path("id"));
        ContainerRecord r = c.record();
        boolean size = call.queryBool("size", false);
        call.json(200, ContainerJson.inspect(r, List.copyOf(c.execIds()), paths(r), size ? containers().sizeRw(r) : null,
                size ? containers().sizeRootFs(r) : null));
    }

    private ContainerJson.Paths paths(ContainerRecord r) {
        ContainerService s = containers();
        var snaps = s.images().snapshots();
        String upper = "";
        String lowers = "";
        try {
            upper = snaps.diffDir(r.snapshotKey()).toString();
            List<String> ls = new ArrayList<>();
            for (String k = snaps.stat(r.snapshotKey()).parent(); k != null; k = snaps.stat(k).parent()) ls.add(snaps.diffDir(k).toString());
            lowers = String.join(":", ls);
        } catch (IOException | RuntimeException ignored) {
            // a layer gone missing shows as empty
        }
        String work = upper.isEmpty() ? "" : java.nio.file.Path.of(upper).resolveSibling("work").toString();
        return new ContainerJson.Paths(s.resolvConfPath(r.id()).toString(), s.hostnamePath(r.id()).toString(), s.hostsPath(r.id()).toString(),
                s.logPath(r.id()).toString(), s.rootfsDir(r.id()).toString(), upper, work, lowers);
    }

    private void remove(ApiCall call) throws Exception {
        containers().remove(call.path("id"), call.queryBool("force", false), call.queryBool("v", false));
        call.exchange().sendEmpty(204);
    }

    private void rename(ApiCall call) throws IOException {
        containers().rename(call.path("id"), call.query("name"));
        call.exchange().sendEmpty(204);
    }

    private void prune(ApiCall call) throws IOException {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), Set.of("label", "label!", "until"));
        var pruned = containers().prune(filters);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ContainersDeleted", pruned.ids().isEmpty() ? null : pruned.ids());
        out.put("SpaceReclaimed", pruned.reclaimed());
        call.json(200, out);
    }

    /** Sends 200 and the headers at once (the CLI waits for them before it starts), then blocks for the exit. */
    private void await(ApiCall call) throws Exception {
        String cond = call.query("condition");
        ContainerService.WaitCondition condition = switch (cond == null || cond.isEmpty() ? "not-running" : cond) {
            case "not-running" -> ContainerService.WaitCondition.NOT_RUNNING;
            case "next-exit" -> ContainerService.WaitCondition.NEXT_EXIT;
            case "removed" -> ContainerService.WaitCondition.REMOVED;
            default -> throw ApiException.badRequest("invalid condition: \"" + cond + "\"; use not-running, next-exit or removed");
        };
        ContainerService.Waiter waiter = containers().prepareWait(call.path("id"), condition);
        OutputStream out = call.exchange().startStream(200, "application/json");
        Thread caller = Thread.currentThread();
        call.exchange().onClientGone(caller::interrupt);
        ContainerService.WaitResult result;
        try {
            result = containers().await(waiter);
        } catch (InterruptedException e) {
            return; // the client left
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("StatusCode", result.statusCode());
        answer.put("Error", result.error() == null ? null : Map.of("Message", result.error()));
        out.write(Json.bytes(answer));
        out.write("\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    static int parseInt(String s, int fallback) {
        if (s == null || s.isEmpty()) return fallback;
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid number: " + s);
        }
    }
}
