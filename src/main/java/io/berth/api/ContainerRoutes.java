package io.berth.api;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.HostConfig;
import io.berth.engine.ContainerLifecycle;
import io.berth.engine.ContainerService;
import io.berth.engine.Engine;
import io.berth.image.ImageConfig;
import io.berth.runtime.AttachSession;
import io.berth.runtime.LogReader.LogQuery;
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
        router.add("POST", "/containers/create", this::create);
        router.add("GET", "/containers/json", this::list);
        router.add("POST", "/containers/prune", this::prune);
        router.add("GET", "/containers/{id}/json", this::inspect);
        router.add("DELETE", "/containers/{id}", this::remove);
        router.add("DELETE", "/containers/{parent}/{alias}", this::removeLink);
        router.add("POST", "/commit", this::commit);
        router.add("POST", "/containers/{id}/rename", this::rename);
        router.add("POST", "/containers/{id}/wait", this::await);
        router.add("POST", "/containers/{id}/start", this::start);
        router.add("POST", "/containers/{id}/stop", this::stop);
        router.add("POST", "/containers/{id}/kill", this::kill);
        router.add("POST", "/containers/{id}/restart", this::restart);
        router.add("POST", "/containers/{id}/pause", this::pause);
        router.add("POST", "/containers/{id}/unpause", this::unpause);
        router.add("POST", "/containers/{id}/attach", this::attach);
        router.add("POST", "/containers/{id}/resize", this::resize);
        router.add("GET", "/containers/{id}/logs", this::logs);
        router.add("GET", "/containers/{id}/top", this::top);
        router.add("GET", "/containers/{id}/stats", this::stats);
        router.add("POST", "/containers/{id}/update", this::update);
        router.add("GET", "/containers/{id}/changes", this::changes);
        router.add("GET", "/containers/{id}/export", this::export);
    }

    private void create(ApiCall call) throws Exception {
        byte[] body = call.jsonBody();
        JsonNode root = body.length == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(body);
        ImageConfig.ContainerConfig config = Json.MAPPER.treeToValue(root, ImageConfig.ContainerConfig.class);
        JsonNode hc = root.get("HostConfig");
        HostConfig host = hc == null || hc.isNull() ? HostConfig.empty() : Json.MAPPER.treeToValue(hc, HostConfig.class);
        var created = containers().create(new ContainerService.CreateRequest(call.query("name"), config, host, call.query("platform"),
                WiringJson.endpoints(root)));
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
            Map<String, Object> entry = ContainerJson.listEntry(r, size ? containers().sizeRw(r) : null, size ? containers().sizeRootFs(r) : null);
            WiringJson.listEntry(engine.wiring(), r, entry);
            out.add(entry);
        }
        call.json(200, out);
    }

    private void inspect(ApiCall call) throws IOException {
        Container c = containers().get(call.path("id"));
        ContainerRecord r = c.record();
        boolean size = call.queryBool("size", false);
        Map<String, Object> answer = ContainerJson.inspect(r, List.copyOf(c.execIds()), paths(r), size ? containers().sizeRw(r) : null,
                size ? containers().sizeRootFs(r) : null);
        WiringJson.inspect(engine.wiring(), r, answer);
        call.json(200, answer);
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
        if (call.queryBool("link", false)) throw ApiException.conflict("Conflict, cannot remove the default link name of the container");
        containers().remove(call.path("id"), call.queryBool("force", false), call.queryBool("v", false));
        call.exchange().sendEmpty(204);
    }

    /** docker commit: POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes= */
    private void commit(ApiCall call) throws Exception {
        call.request().body().readAllBytes(); // the config body the CLI sends is empty; --change carries the changes
        String container = call.query("container");
        if (container == null || container.isEmpty()) throw ApiException.badRequest("container is required: pass container=NAME");
        var req = new io.berth.engine.ContainerCommit.Request(container, call.query("repo"), call.query("tag"), call.query("comment"),
                call.query("author"), call.queryBool("pause", true), call.request().queryAll("changes"));
        io.berth.content.Digest id = new io.berth.engine.ContainerCommit(containers(), engine.images(), engine.events()).commit(req);
        call.json(201, Map.of("Id", id.toString()));
    }

    /** DELETE /containers/PARENT/ALIAS?link=1 (docker rm --link): the parent forgets that legacy link. */
    private void removeLink(ApiCall call) throws Exception {
        String parent = call.path("parent");
        String alias = call.path("alias");
        if (!call.queryBool("link", false)) throw ApiException.notFound("No such container: " + parent + "/" + alias);
        io.berth.container.Container c = containers().get(parent);
        List<String> links = c.record().hostConfig().links() == null ? List.of() : c.record().hostConfig().links();
        List<String> kept = new ArrayList<>();
        for (String l : links) {
            String[] p = l.split(":", 2);
            String a = p.length > 1 ? p[1] : p[0];
            if (!a.substring(a.lastIndexOf('/') + 1).equals(alias)) kept.add(l);
        }
        if (kept.size() == links.size()) throw ApiException.notFound("Could not find container for entity id /" + parent + "/" + alias);
        c.reconfigure(r -> r.withHostConfig(r.hostConfig().withLinks(kept.isEmpty() ? null : kept)));
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

    private ContainerLifecycle lifecycle() {
        return engine.containers().lifecycle();
    }

    private void start(ApiCall call) throws Exception {
        lifecycle().start(call.path("id"));
        call.exchange().sendEmpty(204);
    }

    private static Integer timeout(ApiCall call) {
        String t = call.query("t");
        if (t == null || t.isEmpty()) t = call.query("timeout");
        return t == null || t.isEmpty() ? null : parseInt(t, 10);
    }

    private void stop(ApiCall call) throws Exception {
        lifecycle().stop(call.path("id"), timeout(call), call.query("signal"));
        call.exchange().sendEmpty(204);
    }

    private void kill(ApiCall call) throws Exception {
        lifecycle().kill(call.path("id"), call.query("signal"));
        call.exchange().sendEmpty(204);
    }

    private void restart(ApiCall call) throws Exception {
        lifecycle().restart(call.path("id"), timeout(call), call.query("signal"));
        call.exchange().sendEmpty(204);
    }

    private void pause(ApiCall call) throws Exception {
        lifecycle().pause(call.path("id"));
        call.exchange().sendEmpty(204);
    }

    private void unpause(ApiCall call) throws Exception {
        lifecycle().unpause(call.path("id"));
        call.exchange().sendEmpty(204);
    }

    private void resize(ApiCall call) throws Exception {
        lifecycle().resize(call.path("id"), parseInt(call.query("h"), 0), parseInt(call.query("w"), 0));
        call.json(200, Map.of());
    }

    static final String RAW = "application/vnd.docker.raw-stream";
    static final String MULTIPLEXED = "application/vnd.docker.multiplexed-stream";

    /** Docker's stream framing: with a tty the bytes as they are, else an 8-byte header (stream, 0, 0, 0, length) a frame. */
    static void writeFrame(OutputStream out, boolean tty, int stream, byte[] data) throws IOException {
        if (!tty) {
            int n = data.length;
            out.write(new byte[] {(byte) stream, 0, 0, 0, (byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
        }
        out.write(data);
        out.flush();
    }

    private void attach(ApiCall call) throws Exception {
        Container c = containers().get(call.path("id"));
        boolean tty = c.record().tty();
        var options = new ContainerLifecycle.AttachOptions(call.queryBool("stream", false), call.queryBool("logs", false),
                call.queryBool("stdin", false), call.queryBool("stdout", false), call.queryBool("stderr", false),
                ContainerLifecycle.parseDetachKeys(call.query("detachKeys")));
        var hijacked = call.exchange().hijack(tty ? RAW : MULTIPLEXED);
        OutputStream out = hijacked.output();
        Object lock = new Object();
        try {
            lifecycle().attach(c.id(), options, hijacked.input(), (stream, data) -> {
                synchronized (lock) {
                    writeFrame(out, tty, stream, data);
                }
            });
        } catch (ContainerException e) {
            synchronized (lock) {
                writeFrame(out, tty, 2, (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
            }
        } catch (InterruptedException e) {
            return;
        }
        hijacked.finish();
    }

    private void logs(ApiCall call) throws Exception {
        Container c = containers().get(call.path("id"));
        HostConfig.LogConfig logConfig = c.record().hostConfig().logConfig();
        if (logConfig != null && "none".equals(logConfig.type())) {
            throw new ApiException(501, "configured logging driver does not support reading"); // dockerd's answer
        }
        boolean stdout = call.queryBool("stdout", false);
        boolean stderr = call.queryBool("stderr", false);
        if (!stdout && !stderr) throw ApiException.badRequest("Bad parameters: you must choose at least one stream");
        String tailText = call.query("tail");
        int tail = tailText == null || tailText.isEmpty() || tailText.equals("all") ? -1 : parseInt(tailText, -1);
        Long since = Timestamps.parseNanos("since", call.query("since"));
        if (since != null && since == 0) since = null;
        Long until = Timestamps.parseNanos("until", call.query("until"));
        if (until != null && until == 0) until = null;
        boolean timestamps = call.queryBool("timestamps", false);
        boolean follow = call.queryBool("follow", false);
        boolean tty = c.record().tty();
        var options = new LogQuery(stdout, stderr, since == null ? null : instant(since), until == null ? null : instant(until), tail, follow);
        OutputStream out = call.exchange().startStream(200, tty ? RAW : MULTIPLEXED);
        Thread caller = Thread.currentThread();
        if (follow) call.exchange().onClientGone(caller::interrupt);
        try {
            lifecycle().logs(c.id(), options, e -> {
                byte[] data = e.content();
                if (timestamps) {
                    byte[] stamp = (rfc3339Nano(e.time()) + " ").getBytes(StandardCharsets.US_ASCII);
                    byte[] joined = new byte[stamp.length + data.length];
                    System.arraycopy(stamp, 0, joined, 0, stamp.length);
                    System.arraycopy(data, 0, joined, stamp.length, data.length);
                    data = joined;
                }
                writeFrame(out, tty, tty || e.stream() != AttachSession.StdStream.STDERR ? 1 : 2, data);
                return true;
            });
        } catch (InterruptedException e) {
            // the client left
        }
    }

    private void top(ApiCall call) throws Exception {
        var top = containers().stats().top(call.path("id"), call.query("ps_args"));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Titles", top.titles());
        out.put("Processes", top.processes());
        call.json(200, out);
    }

    private void changes(ApiCall call) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        for (var ch : containers().changes(call.path("id"))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Path", ch.path());
            m.put("Kind", ch.kind());
            out.add(m);
        }
        call.json(200, out.isEmpty() ? null : out);
    }

    private void export(ApiCall call) throws Exception {
        Container c = containers().get(call.path("id"));
        OutputStream out = call.exchange().startStream(200, "application/x-tar");
        containers().export(c.id(), out);
    }

    private void update(ApiCall call) throws Exception {
        byte[] body = call.jsonBody();
        HostConfig changes = body.length == 0 ? HostConfig.empty() : Json.MAPPER.readValue(body, HostConfig.class);
        List<String> warnings = containers().stats().update(call.path("id"), changes);
        call.json(200, Map.of("Warnings", warnings));
    }

    /** One reading, or one a second; --no-stream (stream=false) takes two readings a moment apart so CPU % shows. */
    private void stats(ApiCall call) throws Exception {
        Container c = containers().get(call.path("id"));
        boolean stream = call.queryBool("stream", true);
        boolean oneShot = call.queryBool("one-shot", false);
        var stats = containers().stats();
        var pre = stats.sample(c.id());
        if (!stream) {
            if (!oneShot && c.record().state().running()) Thread.sleep(500);
            var now = oneShot ? pre : stats.sample(c.id());
            call.json(200, statsJson(c.record(), now, oneShot ? null : pre));
            return;
        }
        OutputStream out = call.exchange().startStream(200, "application/json");
        Thread caller = Thread.currentThread();
        call.exchange().onClientGone(caller::interrupt);
        try {
            var previous = pre;
            while (true) {
                Thread.sleep(1000);
                var now = stats.sample(c.id());
                out.write(Json.bytes(statsJson(c.record(), now, previous)));
                out.write('\n');
                out.flush();
                previous = now;
                if (c.isRemoved()) return;
            }
        } catch (InterruptedException e) {
            // the client left
        }
    }

    private static Map<String, Object> statsJson(ContainerRecord r, io.berth.engine.ContainerStats.Sample s, io.berth.engine.ContainerStats.Sample pre) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("read", s.read().toString());
        m.put("preread", pre == null ? ContainerJson.ZERO_TIME : pre.read().toString());
        Map<String, Object> pids = new LinkedHashMap<>();
        pids.put("current", s.pidsCurrent());
        if (s.pidsLimit() > 0) pids.put("limit", s.pidsLimit());
        m.put("pids_stats", pids);
        List<Map<String, Object>> ios = new ArrayList<>();
        ios.add(Map.of("major", 0, "minor", 0, "op", "read", "value", s.blkioRead()));
        ios.add(Map.of("major", 0, "minor", 0, "op", "write", "value", s.blkioWrite()));
        m.put("blkio_stats", Map.of("io_service_bytes_recursive", ios));
        m.put("num_procs", 0);
        m.put("storage_stats", Map.of());
        m.put("cpu_stats", cpuJson(s));
        m.put("precpu_stats", pre == null ? Map.of("cpu_usage", Map.of("total_usage", 0), "throttling_data", Map.of()) : cpuJson(pre));
        Map<String, Object> mem = new LinkedHashMap<>();
        mem.put("usage", s.memoryUsage());
        if (!s.cgroupV2()) mem.put("max_usage", s.memoryMaxUsage());
        mem.put("stats", s.memoryStat());
        mem.put("limit", s.memoryLimit());
        m.put("memory_stats", mem);
        // as dockerd: the interfaces of a running container's namespace (none for --network none or when stopped)
        var nets = r.state().running() ? io.berth.engine.NetworkCounters.of(r.state().pid()) : Map.<String, Map<String, Long>>of();
        if (!nets.isEmpty()) m.put("networks", nets);
        m.put("name", r.name());
        m.put("id", r.id());
        return m;
    }

    private static Map<String, Object> cpuJson(io.berth.engine.ContainerStats.Sample s) {
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("total_usage", s.cpuTotalNanos());
        if (!s.perCpuNanos().isEmpty()) usage.put("percpu_usage", s.perCpuNanos());
        usage.put("usage_in_kernelmode", s.cpuKernelNanos());
        usage.put("usage_in_usermode", s.cpuUserNanos());
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("cpu_usage", usage);
        cpu.put("system_cpu_usage", s.systemCpuNanos());
        cpu.put("online_cpus", s.onlineCpus());
        cpu.put("throttling_data", Map.of("periods", 0, "throttled_periods", 0, "throttled_time", 0));
        return cpu;
    }

    private static java.time.Instant instant(long nanos) {
        return java.time.Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }

    static String rfc3339Nano(java.time.Instant t) {
        return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnn'Z'")
                .withZone(java.time.ZoneOffset.UTC).format(t);
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
