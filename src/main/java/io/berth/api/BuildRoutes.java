package io.berth.api;

import io.berth.api.http.HttpExchange;
import io.berth.build.BuildContext;
import io.berth.build.BuildRequest;
import io.berth.build.Builds;
import io.berth.build.StepFailedException;
import io.berth.content.Digest;
import io.berth.engine.BuildService;
import io.berth.engine.Engine;
import io.berth.engine.ImageService;
import io.berth.errdefs.ErrorKinds;
import io.berth.engine.Progress;
import io.berth.registry.RegistryAuth;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST /build} (the classic builder: the context tar in the body, Docker's JSON
 * stream out) and {@code POST /build/prune}: parses the request and calls {@link BuildService}.
 *
 * <p>Accepted and ignored: {@code rm}/{@code forcerm} (build containers are always removed),
 * resource limits ({@code memory}, {@code cpushares} ...). RUN's network
 * is {@code networkmode}: the default bridge for {@code default} (or none given), else
 * {@code bridge}, {@code host}, {@code none} or a network's name.
 */
final class BuildRoutes {
    private final Engine engine;

    BuildRoutes(Engine engine) {
        this.engine = engine;
    }

    void register(Router router) {
        router.add("POST", "/build", this::build);
        router.add("POST", "/build/prune", this::prune);
    }

    private void build(ApiCall call) throws Exception {
        String version = call.query("version");
        if ("2".equals(version)) {
            throw ApiException.badRequest("BuildKit is not supported by this daemon: build with DOCKER_BUILDKIT=0 (the classic builder)");
        }
        String remote = call.query("remote");
        if (remote != null && !remote.isEmpty()) {
            throw ApiException.badRequest("building from a remote context (" + remote + ") is not supported: send the context in the request body");
        }
        List<String> tags = new ArrayList<>();
        for (String t : call.request().queryAll("t")) {
            if (t != null && !t.isEmpty()) tags.add(t);
        }
        BuildService.checkTags(tags);
        BuildService.checkPlatform(call.query("platform"));
        Map<String, String> buildArgs = jsonMap(call.query("buildargs"), "buildargs");
        Map<String, String> labels = jsonMap(call.query("labels"), "labels");
        Map<String, RegistryAuth> auths = registryConfig(call.request().header("X-Registry-Config"));
        // docker-py sends `dockerfile` twice for a Dockerfile outside the context: dockerd takes the first
        List<String> dockerfiles = call.request().queryAll("dockerfile");
        String dockerfile = dockerfiles.isEmpty() ? null : dockerfiles.getFirst();
        BuildRequest request = new BuildRequest(tags, dockerfile, buildArgs, call.query("target"),
                call.queryBool("nocache", false), call.queryBool("pull", false), labels, call.query("networkmode"),
                call.queryBool("q", false), extraHosts(call), cacheFrom(call.query("cachefrom")));
        BuildService service = engine.buildService();
        BuildContext context = service.unpack(call.request().body(), request); // a bad context: 400 before any output
        Stream stream = new Stream(call.exchange(), request.quiet());
        call.exchange().onClientGone(stream::cancel); // the body is read: what comes next is the client leaving
        try {
            Digest id = service.build(request, context, auths, stream);
            stream.succeeded(id);
        } catch (StepFailedException e) {
            stream.error(e.getMessage(), e.code());
        } catch (Exception e) {
            // Before the stream began the edge answers by the failure's kind (a bad
            // Dockerfile is a 400); after it, the error is the stream's last line.
            if (!stream.started() || ApiErrors.clientGone(e)) throw e;
            stream.error(ErrorKinds.message(e), 0);
        }
        stream.end();
    }

    private void prune(ApiCall call) throws Exception {
        Builds.PruneResult r = engine.builds().prune();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("CachesDeleted", r.deleted().stream().map(Digest::toString).toList());
        m.put("SpaceReclaimed", r.reclaimed());
        call.json(200, m);
    }

    /** {@code extrahosts}: {@code name:address}, repeated or comma-separated; a bad address is a 400. */
    private static List<String> extraHosts(ApiCall call) {
        List<String> out = new ArrayList<>();
        for (String v : call.request().queryAll("extrahosts")) {
            for (String e : v.split(",")) {
                String h = e.strip();
                if (h.isEmpty()) continue;
                int colon = h.indexOf(':');
                if (colon <= 0 || !isIpAddress(h.substring(colon + 1))) {
                    throw ApiException.badRequest("invalid IP address in add-host: \"" + (colon < 0 ? "" : h.substring(colon + 1)) + "\"");
                }
                out.add(h);
            }
        }
        return out;
    }

    private static boolean isIpAddress(String s) {
        if (s.isEmpty() || !s.matches("[0-9a-fA-F:.]+")) return false;
        try {
            java.net.InetAddress.ofLiteral(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** {@code cachefrom}: a JSON array of image names; null when not given. */
    private static List<String> cacheFrom(String text) {
        if (text == null || text.isBlank()) return null;
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw ApiException.badRequest("invalid cachefrom parameter: not a JSON array: " + e.getOriginalMessage());
        }
        if (node == null || node.isNull()) return null;
        if (!node.isArray()) throw ApiException.badRequest("invalid cachefrom parameter: not a JSON array");
        List<String> out = new ArrayList<>();
        for (JsonNode n : node) out.add(n.asString());
        return out;
    }

    private static Map<String, String> jsonMap(String text, String name) {
        Map<String, String> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) return out;
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw ApiException.badRequest("invalid " + name + " parameter: not a JSON object: " + e.getOriginalMessage());
        }
        if (node == null || node.isNull()) return out;
        if (!node.isObject()) throw ApiException.badRequest("invalid " + name + " parameter: not a JSON object");
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode v = e.getValue();
            out.put(e.getKey(), v == null || v.isNull() ? null : v.isString() ? v.asString() : v.toString());
        }
        return out;
    }

    /** {@code X-Registry-Config}: base64 of {@code {"registry": {auth config}, ...}}, keyed by registry host. */
    static Map<String, RegistryAuth> registryConfig(String header) {
        Map<String, RegistryAuth> out = new LinkedHashMap<>();
        if (header == null || header.isBlank()) return out;
        String text = header.strip().replace('+', '-').replace('/', '_');
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '=') end--;
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(Base64.getUrlDecoder().decode(text.substring(0, end)));
        } catch (IllegalArgumentException | JacksonException e) {
            throw ApiException.badRequest("invalid X-Registry-Config header: not base64 of a JSON object");
        }
        if (node == null || !node.isObject()) return out;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isObject()) continue;
            String encoded = Base64.getUrlEncoder().encodeToString(Json.bytes(e.getValue()));
            out.put(ImageService.registryHost(e.getKey()), RegistryAuth.decodeHeader(encoded));
        }
        return out;
    }

    /** The build's JSON stream ({@link JsonStream}), started at its first message; quiet keeps the text back. */
    private static final class Stream implements BuildService.Output {
        private final JsonStream json;
        private final boolean quiet;
        private final StringBuilder held = new StringBuilder();
        private volatile boolean cancelled;

        Stream(HttpExchange exchange, boolean quiet) {
            this.json = new JsonStream(exchange);
            this.quiet = quiet;
        }

        boolean started() {
            return json.started();
        }

        void cancel() {
            cancelled = true;
        }

        @Override
        public boolean cancelled() {
            return cancelled;
        }

        @Override
        public synchronized void stream(String text) {
            if (quiet) {
                held.append(text);
                return;
            }
            json.write(Map.of("stream", text));
        }

        @Override
        public void imageId(Digest id) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", "moby.image.id");
            m.put("aux", Map.of("ID", id.toString()));
            json.write(m);
        }

        @Override
        public void emit(Progress p) {
            if (quiet) return;
            json.write(JsonProgress.message(p));
        }

        void succeeded(Digest id) {
            if (quiet) json.write(Map.of("stream", id + "\n"));
        }

        synchronized void error(String message, int code) {
            json.error(quiet && !held.isEmpty() ? held + message : message, code);
        }

        /** Ends the response: the client has its answer before the context is deleted. */
        void end() throws IOException {
            json.end();
        }
    }
}
