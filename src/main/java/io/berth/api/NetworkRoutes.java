package io.berth.api;

import io.berth.errdefs.ErrorKind;
import io.berth.engine.Engine;
import io.berth.engine.NetworkUseCases;
import io.berth.network.Attachment;
import io.berth.network.Network;
import io.berth.network.NetworkException;
import io.berth.network.NetworkService;
import io.berth.network.NetworkSpec;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/** /networks: list, inspect, create, remove, prune, connect, disconnect, as `docker network` uses them. */
final class NetworkRoutes {
    private static final Set<String> LIST_FILTERS = Set.of("dangling", "driver", "id", "label", "name", "scope", "type");
    private static final Set<String> PRUNE_FILTERS = Set.of("label", "label!", "until");
    private static final Pattern GO_DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ns|us|µs|ms|s|m|h)");

    private final NetworkUseCases networks;

    NetworkRoutes(Engine engine) {
        this.networks = engine.networks();
    }

    void register(Router router) {
        router.add("GET", "/networks", this::list);
        router.add("POST", "/networks/create", this::create);
        router.add("POST", "/networks/prune", this::prune);
        router.add("GET", "/networks/{id}", this::inspect);
        router.add("DELETE", "/networks/{id}", this::remove);
        router.add("POST", "/networks/{id}/connect", this::connect);
        router.add("POST", "/networks/{id}/disconnect", this::disconnect);
    }

    private void list(ApiCall call) throws IOException {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), LIST_FILTERS);
        Boolean dangling = dangling(filters.get("dangling"));
        Set<String> types = filters.get("type");
        if (types != null) {
            for (String t : types) {
                if (!t.equals("custom") && !t.equals("builtin")) throw ApiException.badRequest("invalid filter: 'type'='" + t + "'");
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Network n : networks.list()) {
            if (!matches(n, filters)) continue;
            if (dangling != null && dangling == (n.isPredefined() || networks.inUse(n))) continue;
            if (types != null && !types.contains(n.isPredefined() ? "builtin" : "custom")) continue;
            out.add(shape(n, List.of()));
        }
        call.json(200, out);
    }

    private static Boolean dangling(Set<String> values) {
        if (values == null || values.isEmpty()) return null;
        if (values.size() > 1) throw ApiException.badRequest("got more than one value for filter key \"dangling\"");
        return switch (values.iterator().next()) {
            case "0", "false" -> false;
            case "1", "true" -> true;
            default -> throw ApiException.badRequest("invalid value for filter 'dangling', must be \"true\" (or \"1\"), or \"false\" (or \"0\")");
        };
    }

    private static boolean matches(Network n, Map<String, Set<String>> filters) {
        for (Map.Entry<String, Set<String>> f : filters.entrySet()) {
            Set<String> values = f.getValue();
            boolean ok = switch (f.getKey()) {
                case "driver" -> values.contains(n.driver());
                case "scope" -> values.contains(n.scope());
                case "name" -> values.stream().anyMatch(v -> dockerMatch(v, n.name()));
                case "id" -> values.stream().anyMatch(v -> dockerMatch(v, n.id()));
                case "label" -> labelsMatch(n.labels(), values);
                default -> true;
            };
            if (!ok) return false;
        }
        return true;
    }

    /** dockerd's filter match: equal, or the value as a regular expression found in the text. */
    private static boolean dockerMatch(String value, String text) {
        if (value.equals(text)) return true;
        try {
            return Pattern.compile(value).matcher(text).find();
        } catch (PatternSyntaxException e) {
            return false;
        }
    }

    /** Every term must hold: {@code key} present, or {@code key=value} equal. */
    private static boolean labelsMatch(Map<String, String> labels, Set<String> terms) {
        if (terms == null) return true;
        for (String term : terms) {
            int eq = term.indexOf('=');
            boolean has = eq < 0 ? labels.containsKey(term) : term.substring(eq + 1).equals(labels.get(term.substring(0, eq)));
            if (!has) return false;
        }
        return true;
    }

    private void inspect(ApiCall call) throws IOException {
        String scope = call.query("scope");
        call.queryBool("verbose", false);
        Network n = networks.inspect(call.path("id"));
        if (scope != null && !scope.isEmpty() && !scope.equals(n.scope())) throw new NetworkException(ErrorKind.NOT_FOUND, "network " + call.path("id") + " not found");
        Map<String, Object> body = shape(n, networks.members(n));
        call.json(200, body);
    }

    private void create(ApiCall call) throws IOException {
        JsonNode req = call.readJson(JsonNode.class);
        if (!req.isObject()) throw ApiException.badRequest("a JSON object was expected");
        String name = text(req, "Name");
        if (name == null || name.isEmpty()) throw ApiException.badRequest("network name is required");
        String scope = text(req, "Scope");
        if (scope != null && !scope.isEmpty() && !scope.equals("local")) {
            throw ApiException.badRequest("berth has local networks only: scope \"" + scope + "\" is not supported");
        }
        if (req.path("Ingress").asBoolean(false)) throw ApiException.badRequest("berth has no ingress network: it is a swarm feature");
        if (req.path("ConfigOnly").asBoolean(false) || (req.has("ConfigFrom") && !req.get("ConfigFrom").isNull()
                && !req.get("ConfigFrom").path("Network").asString("").isEmpty())) {
            throw ApiException.badRequest("berth does not support config-only networks (--config-only, --config-from)");
        }
        List<NetworkSpec.Pool> pools = new ArrayList<>();
        JsonNode ipam = req.get("IPAM");
        Map<String, String> ipamOptions = null;
        if (ipam != null && ipam.isObject()) {
            String ipamDriver = text(ipam, "Driver");
            if (ipamDriver != null && !ipamDriver.isEmpty() && !ipamDriver.equals("default")) {
                throw new ApiException(404, "plugin \"" + ipamDriver + "\" not found");
            }
            if (ipam.get("Options") != null && !ipam.get("Options").isNull()) ipamOptions = stringMap(ipam.get("Options"));
            JsonNode config = ipam.get("Config");
            if (config != null && config.isArray()) {
                for (JsonNode c : config) {
                    JsonNode aux = c.get("AuxiliaryAddresses");
                    pools.add(new NetworkSpec.Pool(text(c, "Subnet"), text(c, "Gateway"), text(c, "IPRange"),
                            aux == null || aux.isNull() ? null : stringMap(aux)));
                }
            }
        }
        NetworkSpec spec = new NetworkSpec(name, text(req, "Driver"), pools, req.path("Internal").asBoolean(false),
                req.path("Attachable").asBoolean(false), req.path("EnableIPv6").asBoolean(false), stringMap(req.get("Options")), stringMap(req.get("Labels")), ipamOptions);
        Network n = networks.create(spec);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Id", n.id());
        body.put("Warning", "");
        call.json(201, body);
    }

    private void remove(ApiCall call) throws IOException {
        networks.remove(call.path("id"));
        call.exchange().sendEmpty(204);
    }

    private void prune(ApiCall call) throws IOException {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), PRUNE_FILTERS);
        Instant until = until(filters.get("until"));
        Set<String> with = filters.get("label");
        Set<String> without = filters.get("label!");
        Predicate<Network> select = n -> (until == null || Instant.parse(n.created()).isBefore(until))
                && labelsMatch(n.labels(), with)
                && (without == null || without.isEmpty() || !labelsMatch(n.labels(), without));
        List<String> removed = networks.prune(select);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("NetworksDeleted", removed.isEmpty() ? null : removed);
        call.json(200, body);
    }

    /** The until filter: Unix seconds, an RFC 3339 time, or a Go duration before now ("24h", "1h30m"). */
    private static Instant until(Set<String> values) {
        if (values == null || values.isEmpty()) return null;
        if (values.size() > 1) throw ApiException.badRequest("more than one until filter specified");
        String v = values.iterator().next();
        Duration d = goDuration(v);
        if (d != null) return Instant.now().minus(d);
        long nanos = Timestamps.parseNanos("until", v);
        return Instant.ofEpochSecond(0, nanos);
    }

    private static Duration goDuration(String text) {
        if (text.isEmpty()) return null;
        Matcher m = GO_DURATION.matcher(text);
        int at = 0;
        double nanos = 0;
        while (m.find() && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            nanos += n * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            at = m.end();
        }
        return at == text.length() ? Duration.ofNanos((long) nanos) : null;
    }

    private void connect(ApiCall call) throws IOException {
        JsonNode req = call.readJson(JsonNode.class);
        String container = text(req, "Container");
        JsonNode ep = req.path("EndpointConfig");
        List<String> aliases = new ArrayList<>();
        ep.path("Aliases").forEach(a -> aliases.add(a.asString()));
        String ip = text(ep.path("IPAMConfig"), "IPv4Address");
        String mac = text(ep, "MacAddress");
        Map<String, String> links = new LinkedHashMap<>();
        ep.path("Links").forEach(l -> {
            String s = l.asString();
            int colon = s.indexOf(':');
            if (colon < 0) links.put(s, s);
            else links.put(s.substring(colon + 1), s.substring(0, colon));
        });
        String ipv6 = text(ep.path("IPAMConfig"), "IPv6Address");
        Attachment a = new Attachment(call.path("id"), aliases, ip, mac, links).withEndpointExtras(WiringJson.driverOpts(ep), WiringJson.linkLocalIps(ep))
                .withIpv6(ipv6);
        networks.connect(call.path("id"), container, a);
        call.exchange().sendEmpty(200);
    }

    private void disconnect(ApiCall call) throws IOException {
        JsonNode req = call.readJson(JsonNode.class);
        String container = text(req, "Container");
        boolean force = req.path("Force").asBoolean(false);
        networks.disconnect(call.path("id"), container, force);
        call.exchange().sendEmpty(200);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return v == null || v.isNull() ? null : v.asString();
    }

    private static Map<String, String> stringMap(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) return out;
        if (!node.isObject()) throw ApiException.badRequest("want a JSON object of strings, got " + node.getNodeType());
        for (Map.Entry<String, JsonNode> e : node.properties()) out.put(e.getKey(), e.getValue().asString());
        return out;
    }

    /** Docker's network JSON (the inspect and list shape); maps sorted by key as dockerd's are. */
    static Map<String, Object> shape(Network n, List<NetworkService.Member> members) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Name", n.name());
        m.put("Id", n.id());
        m.put("Created", n.created());
        m.put("Scope", n.scope());
        m.put("Driver", n.driver());
        m.put("EnableIPv6", n.enableIPv6());
        Map<String, Object> ipam = new LinkedHashMap<>();
        ipam.put("Driver", n.ipam().driver());
        ipam.put("Options", n.isPredefined() || n.ipam().options() == null ? null : new TreeMap<>(n.ipam().options()));
        List<Map<String, Object>> config = new ArrayList<>();
        for (Network.IpamConfig c : n.ipam().config()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("Subnet", c.subnet());
            if (c.ipRange() != null && !c.ipRange().isEmpty()) x.put("IPRange", c.ipRange());
            if (c.gateway() != null && !c.gateway().isEmpty()) x.put("Gateway", c.gateway());
            if (c.auxAddresses() != null) x.put("AuxiliaryAddresses", new TreeMap<>(c.auxAddresses()));
            config.add(x);
        }
        ipam.put("Config", n.isPredefined() && config.isEmpty() ? null : config);
        m.put("IPAM", ipam);
        m.put("Internal", n.internal());
        m.put("Attachable", n.attachable());
        m.put("Ingress", false);
        m.put("ConfigFrom", Map.of("Network", ""));
        m.put("ConfigOnly", false);
        Map<String, Object> containers = new TreeMap<>();
        for (NetworkService.Member mem : members) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("Name", mem.containerName() == null ? "" : mem.containerName());
            e.put("EndpointID", mem.endpoint().endpointId());
            e.put("MacAddress", mem.endpoint().macAddress() == null ? "" : mem.endpoint().macAddress());
            e.put("IPv4Address", mem.endpoint().ipAddress() + "/" + mem.endpoint().prefixLen());
            e.put("IPv6Address", mem.endpoint().ipv6Address() == null ? "" : mem.endpoint().ipv6Address() + "/" + mem.endpoint().ipv6PrefixLen());
            containers.put(mem.containerId(), e);
        }
        m.put("Containers", containers);
        m.put("Options", new TreeMap<>(n.options()));
        m.put("Labels", new TreeMap<>(n.labels()));
        return m;
    }

}
