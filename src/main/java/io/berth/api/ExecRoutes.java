package io.berth.api;

import io.berth.container.ContainerException;
import io.berth.engine.Engine;
import io.berth.engine.ExecService;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** docker exec: POST /containers/{id}/exec, POST /exec/{id}/start, /exec/{id}/resize, GET /exec/{id}/json. */
final class ExecRoutes {
    private final Engine engine;

    ExecRoutes(Engine engine) {
        this.engine = engine;
    }

    private ExecService execs() {
        return engine.containers().execs();
    }

    void register(Router router) {
        router.add("POST", "/containers/{id}/exec", this::create);
        router.add("POST", "/exec/{id}/start", this::start);
        router.add("POST", "/exec/{id}/resize", this::resize);
        router.add("GET", "/exec/{id}/json", this::inspect);
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n != null && n.isArray()) n.forEach(x -> out.add(x.asString()));
        return out;
    }

    private static List<Integer> ints(JsonNode n) {
        if (n == null || !n.isArray()) return null;
        List<Integer> out = new ArrayList<>();
        n.forEach(x -> out.add(x.asInt()));
        return out;
    }

    private static String text(JsonNode root, String field) {
        JsonNode n = root.get(field);
        return n == null || n.isNull() ? null : n.asString();
    }

    private static boolean flag(JsonNode root, String field) {
        JsonNode n = root.get(field);
        return n != null && n.asBoolean();
    }

    /** dockerd decodes JSON field names without regard to case; docker-py sends "detachKeys". */
    private static String detachKeys(JsonNode root) {
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equalsIgnoreCase("DetachKeys") && !e.getValue().isNull()) return e.getValue().asString();
        }
        return null;
    }

    private void create(ApiCall call) throws Exception {
        JsonNode root = Json.MAPPER.readTree(call.jsonBody());
        if (root == null || !root.isObject()) throw ApiException.badRequest("a JSON object was expected");
        var config = new ExecService.ExecConfig(strings(root.get("Cmd")), strings(root.get("Env")), text(root, "User"),
                text(root, "WorkingDir"), flag(root, "Tty"), flag(root, "AttachStdin"), flag(root, "AttachStdout"), flag(root, "AttachStderr"),
                flag(root, "Privileged"), detachKeys(root), ints(root.get("ConsoleSize")), true);
        String id = execs().create(call.path("id"), config);
        call.json(201, Map.of("Id", id));
    }

    private void start(ApiCall call) throws Exception {
        byte[] body = call.jsonBody();
        JsonNode root = body.length == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(body);
        boolean detach = flag(root, "Detach");
        ExecService.Exec e = execs().prepareStart(call.path("id"));
        // as dockerd: the start request's Tty says whether the stream is multiplexed (create's gave the process its tty)
        boolean tty = flag(root, "Tty");
        if (detach) {
            execs().start(e.id, true, null, (s, d) -> { });
            call.exchange().sendEmpty(200);
            return;
        }
        var hijacked = call.exchange().hijack(tty ? ContainerRoutes.RAW : ContainerRoutes.MULTIPLEXED);
        OutputStream out = hijacked.output();
        Object lock = new Object();
        try {
            execs().start(e.id, false, hijacked.input(), (stream, data) -> {
                synchronized (lock) {
                    ContainerRoutes.writeFrame(out, tty, stream, data);
                }
            });
        } catch (ContainerException ex) {
            synchronized (lock) {
                ContainerRoutes.writeFrame(out, tty, 2, (ex.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
            }
        } catch (InterruptedException ex) {
            return;
        }
        hijacked.finish();
    }

    private void resize(ApiCall call) throws Exception {
        execs().resize(call.path("id"), ContainerRoutes.parseInt(call.query("h"), 0), ContainerRoutes.parseInt(call.query("w"), 0));
        call.json(200, Map.of());
    }

    private void inspect(ApiCall call) throws Exception {
        ExecService.Exec e = execs().get(call.path("id"));
        Map<String, Object> pc = new LinkedHashMap<>();
        pc.put("tty", e.config.tty());
        pc.put("entrypoint", e.config.cmd().getFirst());
        pc.put("arguments", e.config.cmd().subList(1, e.config.cmd().size()));
        pc.put("privileged", e.config.privileged());
        if (e.config.user() != null && !e.config.user().isEmpty()) pc.put("user", e.config.user());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("CanRemove", false);
        m.put("ContainerID", e.containerId);
        m.put("DetachKeys", e.config.detachKeys() == null ? "" : e.config.detachKeys());
        m.put("ExitCode", e.exitCode());
        m.put("ID", e.id);
        m.put("OpenStderr", e.config.attachStderr());
        m.put("OpenStdin", e.config.attachStdin());
        m.put("OpenStdout", e.config.attachStdout());
        m.put("ProcessConfig", pc);
        m.put("Running", e.running());
        m.put("Pid", e.pid());
        call.json(200, m);
    }
}
