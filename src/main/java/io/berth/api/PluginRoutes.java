package io.berth.api;

import io.berth.plugin.Plugins;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The /plugins endpoints. Plugins are kept as {@code docker plugin create} makes them (see
 * {@link Plugins}); berth runs none and installs none from a registry, so those answers say so.
 */
final class PluginRoutes {
    private static final Set<String> LIST_FILTERS = Set.of("capability", "enabled");
    private final Plugins plugins;

    PluginRoutes(Plugins plugins) {
        this.plugins = plugins;
    }

    void register(Router router) {
        router.add("GET", "/plugins", this::list);
        // Berth asks no registry for a plugin's config (it installs no plugin from one), so no
        // privilege is needed: an empty list, as dockerd answers when it cannot fetch the config.
        router.add("GET", "/plugins/privileges", call -> call.json(200, List.of()));
        router.add("POST", "/plugins/pull", call -> {
            throw new ApiException(501, "berth does not install plugins from a registry: " + nz(call.query("remote")) + " cannot be installed");
        });
        router.add("POST", "/plugins/create", this::create);
        router.add("GET", "/plugins/{name*}/json", call -> call.json(200, plugins.inspect(call.path("name"))));
        router.add("DELETE", "/plugins/{name*}", call -> {
            call.queryBool("force", false);
            plugins.remove(call.path("name"));
            call.exchange().sendEmpty(200);
        });
        router.add("POST", "/plugins/{name*}/enable", call -> plugins.enable(call.path("name")));
        router.add("POST", "/plugins/{name*}/disable", call -> plugins.disable(call.path("name")));
        router.add("POST", "/plugins/{name*}/set", this::set);
        router.add("POST", "/plugins/{name*}/upgrade", call -> {
            plugins.inspect(call.path("name"));
            throw new ApiException(501, "berth does not install plugins from a registry: " + call.path("name") + " cannot be upgraded");
        });
        router.add("POST", "/plugins/{name*}/push", call -> {
            plugins.inspect(call.path("name"));
            throw new ApiException(501, "berth does not push plugins to a registry");
        });
    }

    private void list(ApiCall call) throws IOException {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), LIST_FILTERS);
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode p : plugins.list()) {
            Set<String> enable = filters.get("enabled");
            if (enable != null && !enable.isEmpty() && !enable.contains(Boolean.toString(p.path("Enabled").asBoolean()))) continue;
            Set<String> capability = filters.get("capability");
            if (capability != null && !capability.isEmpty()) {
                boolean any = false;
                for (JsonNode t : p.path("Config").path("Interface").path("Types")) {
                    String type = t.asString("");
                    String cap = type.contains(".") ? type.substring(type.indexOf('.') + 1).replaceFirst("/.*", "") : type;
                    any |= capability.contains(cap) || capability.contains(type);
                }
                if (!any) continue;
            }
            out.add(p);
        }
        call.json(200, out);
    }

    private void create(ApiCall call) throws IOException {
        plugins.create(call.query("name"), call.request().body());
        call.exchange().sendEmpty(204);
    }

    private void set(ApiCall call) throws IOException {
        JsonNode body = call.readJson(JsonNode.class);
        if (!body.isArray()) throw ApiException.badRequest("want a JSON array of KEY=VALUE strings");
        List<String> settings = new ArrayList<>();
        for (JsonNode s : body) settings.add(s.asString());
        plugins.set(call.path("name"), settings);
        call.exchange().sendEmpty(204);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
