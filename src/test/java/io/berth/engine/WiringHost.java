package io.berth.engine;

import io.berth.testing.HostNet;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Test helpers for container networking: host commands, what the host holds, HTTP on 127.0.0.1. */
final class WiringHost {
    private WiringHost() {}

    static String run(String... cmd) {
        return HostNet.run(cmd).out();
    }

    /** Interface names, without the @peer part. */
    static Set<String> links() {
        return HostNet.links();
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
        return HostNet.iptables();
    }

    /** Rules added since {@code before}, less the shared chains kept and the default bridge's rules (like berth0 itself). */
    static List<String> leakedRules(Set<String> before) {
        return HostNet.leakedRules(before).stream().filter(line -> !line.matches(".*[io] berth0( .*|$)")).toList();
    }

    /** Address leases (files named by an address) under the IPAM folder. */
    static List<String> leases(Path ipamDir) {
        return HostNet.leases(ipamDir);
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
