package io.berth.engine;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Test helpers for container networking: host commands, what the host holds, HTTP on 127.0.0.1. */
final class WiringHost {
    private WiringHost() {}

    static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("running " + String.join(" ", cmd), e);
        }
    }

    /** Interface names (ip -br link), without the @peer part. */
    static Set<String> links() {
        Set<String> names = new LinkedHashSet<>();
        for (String line : run("ip", "-br", "link").split("\n")) {
            if (line.isBlank()) continue;
            names.add(line.split("\\s+")[0].split("@")[0]);
        }
        return names;
    }

    /** The container-made links that appeared since {@code before}: veths and bridges (the default bridge berth0 may stay). */
    static List<String> leakedLinks(Set<String> before) {
        List<String> out = new ArrayList<>();
        for (String l : links()) {
            if (before.contains(l) || l.equals("berth0")) continue;
            if (l.startsWith("veth") || l.startsWith("br-") || l.startsWith("berth")) out.add(l);
        }
        return out;
    }

    /** iptables-save without comments and counters. */
    static Set<String> iptables() {
        Set<String> lines = new LinkedHashSet<>();
        for (String line : run("iptables-save").split("\n")) {
            if (line.startsWith("#") || line.isBlank()) continue;
            lines.add(line.replaceAll(" \\[\\d+:\\d+\\]$", ""));
        }
        return lines;
    }

    /** Rules added since {@code before}, less the shared chains the CNI plugins make once and keep. */
    static List<String> leakedRules(Set<String> before) {
        List<String> leaks = new ArrayList<>();
        for (String line : iptables()) {
            if (before.contains(line)) continue;
            if (line.matches(".*CNI-(FORWARD|ADMIN|HOSTPORT-(DNAT|SETMARK|MASQ))\\b.*") && !line.matches(".*\\d+\\.\\d+\\.\\d+\\.\\d+.*")) continue;
            // Berth's forward chain and its jump stay, like the plugins' chains
            if (line.equals(":BERTH-FORWARD - [0:0]") || line.equals(":BERTH-FORWARD -") || line.equals("-A FORWARD -j BERTH-FORWARD")) continue;
            // so do the default bridge's rules, like the berth0 device itself
            if (line.matches(".*[io] berth0( .*|$)")) continue;
            leaks.add(line);
        }
        return leaks;
    }

    /** Address leases (files named by an address) under the IPAM folder. */
    static List<String> leases(Path ipamDir) throws IOException {
        if (!Files.isDirectory(ipamDir)) return List.of();
        try (Stream<Path> walk = Files.walk(ipamDir)) {
            return walk.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("\\d+\\.\\d+\\.\\d+\\.\\d+")).toList();
        }
    }

    static List<String> netns(Path execRoot) throws IOException {
        Path dir = execRoot.resolve("netns");
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** GET on 127.0.0.1, retried a little while the server comes up; the body, or the last failure's text. */
    static String httpGet(int port, String path) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        String last = "";
        for (int i = 0; i < 50; i++) {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return r.body();
                last = "HTTP " + r.statusCode();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        return last;
    }
}
