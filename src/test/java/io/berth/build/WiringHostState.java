package io.berth.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** What a build's RUN network leaves on the host: namespaces, address leases, and host commands to look. */
final class WiringHostState {
    private WiringHostState() {}

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

    /** Network namespaces the daemon holds under its exec root. */
    static List<String> netns(Path execRoot) throws IOException {
        Path dir = execRoot.resolve("netns");
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** Address leases (files named by an address) under the IPAM folder. */
    static List<String> leases(Path ipamDir) throws IOException {
        if (!Files.isDirectory(ipamDir)) return List.of();
        try (Stream<Path> walk = Files.walk(ipamDir)) {
            return walk.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("\\d+\\.\\d+\\.\\d+\\.\\d+")).toList();
        }
    }
}
