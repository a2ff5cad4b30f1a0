package io.berth.registry;

import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where and how registries are reached.
 *
 * @param insecureRegistries entries {@code host}, {@code host:port} or a CIDR such as {@code 10.0.0.0/8};
 *                           these are spoken to over plain HTTP, as are {@code localhost} and 127.0.0.0/8
 * @param mirrors            base URLs ({@code https://mirror.example} or {@code http://127.0.0.1:5001})
 *                           tried in order before Docker Hub when pulling
 * @param hostMirrors        per registry host ({@code gcr.io}, {@code registry.k8s.io:443}), base URLs
 *                           tried in order before that registry when pulling
 */
public record RegistryConfig(List<String> insecureRegistries, List<String> mirrors, Map<String, List<String>> hostMirrors) {
    /** Docker Hub's name in image references. */
    public static final String DOCKER_HUB = "docker.io";
    /** Docker Hub's API host. */
    public static final String DOCKER_HUB_API = "registry-1.docker.io";

    public RegistryConfig(List<String> insecureRegistries, List<String> mirrors) {
        this(insecureRegistries, mirrors, Map.of());
    }

    public RegistryConfig {
        insecureRegistries = List.copyOf(insecureRegistries);
        mirrors = List.copyOf(mirrors);
        Map<String, List<String>> byHost = new java.util.LinkedHashMap<>();
        if (hostMirrors != null) hostMirrors.forEach((h, urls) -> byHost.put(h.toLowerCase(Locale.ROOT), List.copyOf(urls)));
        hostMirrors = java.util.Collections.unmodifiableMap(byHost);
        List<String> all = new ArrayList<>(mirrors);
        byHost.values().forEach(all::addAll);
        for (String m : all) {
            URI u = URI.create(m);
            if (u.getScheme() == null || u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
                throw new IllegalArgumentException("invalid registry mirror \"" + m + "\": want http(s)://host[:port]");
            }
        }
        for (String entry : insecureRegistries) {
            if (entry.contains("/")) parseCidr(entry);
        }
    }

    public static RegistryConfig defaults() {
        return new RegistryConfig(List.of(), List.of());
    }

    public static boolean isDockerHub(String registryHost) {
        String h = registryHost.toLowerCase(Locale.ROOT);
        return h.equals(DOCKER_HUB) || h.equals("index.docker.io") || h.equals(DOCKER_HUB_API);
    }

    /** The host[:port] that serves the API for a registry name: {@code docker.io} becomes {@code registry-1.docker.io}. */
    public String apiHost(String registryHost) {
        return isDockerHub(registryHost) ? DOCKER_HUB_API : registryHost;
    }

    /** True when the registry is spoken to over plain HTTP. */
    public boolean isInsecure(String registryHost) {
        String hostPort = registryHost.toLowerCase(Locale.ROOT);
        String host = hostOnly(hostPort);
        if (host.equals("localhost") || host.endsWith(".localhost")) return true;
        byte[] ip = ipLiteral(host);
        if (ip != null && ip.length == 4 && (ip[0] & 0xff) == 127) return true;
        if (ip != null && ip.length == 16 && isV6Loopback(ip)) return true;
        for (String entry : insecureRegistries) {
            String e = entry.toLowerCase(Locale.ROOT);
            if (e.contains("/")) {
                if (ip != null && inCidr(ip, e)) return true;
            } else if (e.equals(hostPort) || e.equals(host)) {
                return true;
            }
        }
        return false;
    }

    /** The base URI ({@code scheme://host[:port]}) of the registry's API. */
    public URI endpoint(String registryHost) {
        String api = apiHost(registryHost);
        return URI.create((isInsecure(api) ? "http://" : "https://") + api);
    }

    /** The base URIs to pull from, in order: the mirrors (for Docker Hub only), then the registry itself. */
    public List<URI> pullEndpoints(String registryHost) {
        List<URI> out = new ArrayList<>();
        if (isDockerHub(registryHost)) {
            for (String m : mirrors) out.add(base(m));
        }
        List<String> own = hostMirrors.get(isDockerHub(registryHost) ? DOCKER_HUB : registryHost.toLowerCase(Locale.ROOT));
        if (own != null) for (String m : own) out.add(base(m));
        out.add(endpoint(registryHost));
        return out;
    }

    private static URI base(String mirror) {
        return URI.create(mirror.endsWith("/") ? mirror.substring(0, mirror.length() - 1) : mirror);
    }

    static String hostOnly(String hostPort) {
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            return close > 0 ? hostPort.substring(1, close) : hostPort;
        }
        int colon = hostPort.indexOf(':');
        if (colon >= 0 && hostPort.indexOf(':', colon + 1) < 0) return hostPort.substring(0, colon);
        return hostPort;
    }

    private static byte[] ipLiteral(String host) {
        if (!host.matches("[0-9.]+|[0-9a-f:.]*:[0-9a-f:.]*")) return null;
        try {
            return InetAddress.ofLiteral(host).getAddress();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean isV6Loopback(byte[] ip) {
        for (int i = 0; i < 15; i++) if (ip[i] != 0) return false;
        return ip[15] == 1;
    }

    private record Cidr(byte[] network, int prefix) {}

    private static Cidr parseCidr(String entry) {
        int slash = entry.indexOf('/');
        byte[] net = ipLiteral(entry.substring(0, slash));
        int prefix;
        try {
            prefix = Integer.parseInt(entry.substring(slash + 1));
        } catch (NumberFormatException e) {
            prefix = -1;
        }
        if (net == null || prefix < 0 || prefix > net.length * 8) {
            throw new IllegalArgumentException("invalid insecure registry CIDR \"" + entry + "\"");
        }
        return new Cidr(net, prefix);
    }

    private static boolean inCidr(byte[] ip, String entry) {
        Cidr c = parseCidr(entry);
        if (c.network().length != ip.length) return false;
        int bits = c.prefix();
        for (int i = 0; i < ip.length && bits > 0; i++, bits -= 8) {
            int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            if ((ip[i] & mask) != (c.network()[i] & mask)) return false;
        }
        return true;
    }
}
