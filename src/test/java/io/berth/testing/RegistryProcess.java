package io.berth.testing;

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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's docker-registry on 127.0.0.1, a free port and a temp dir, optionally behind
 * htpasswd basic auth; its access log counts requests. close() kills it and removes the dir.
 */
public final class RegistryProcess implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final Process process;

    private RegistryProcess(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /** host:port, as image references name it. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public Path dir() {
        return dir;
    }

    /** A port on 127.0.0.1 that nothing listens on (now). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public static RegistryProcess start() throws Exception {
        return start(null, null);
    }

    /** With basic auth for one user (the password hashed by htpasswd from apache2-utils), or none when user is null. */
    public static RegistryProcess start(String user, String password) throws Exception {
        Path dir = Files.createTempDirectory("berth-registry-");
        int port = freePort();
        String auth = "";
        if (user != null) {
            Process p = new ProcessBuilder("htpasswd", "-Bbn", user, password).redirectErrorStream(true).start();
            String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) throw new IOException("htpasswd failed: " + line);
            Files.writeString(dir.resolve("htpasswd"), line + "\n");
            auth = "auth:\n  htpasswd:\n    realm: test\n    path: " + dir.resolve("htpasswd") + "\n";
        }
        Path config = dir.resolve("config.yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: info
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:%d
                %s""".formatted(dir.resolve("data"), port, auth));
        Process p = new ProcessBuilder("docker-registry", "serve", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile())
                .start();
        RegistryProcess reg = new RegistryProcess(dir, port, p);
        try {
            reg.awaitReady();
        } catch (Exception e) {
            reg.close();
            throw e;
        }
        return reg;
    }

    private void awaitReady() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            if (!process.isAlive()) throw new IllegalStateException("docker-registry exited: " + log());
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host() + "/v2/")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200 || r.statusCode() == 401) return;
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) throw new IllegalStateException("docker-registry did not start on " + host());
            Thread.sleep(50);
        }
    }

    public String log() {
        try {
            return Files.readString(dir.resolve("registry.log"));
        } catch (IOException e) {
            return "";
        }
    }

    /** How many successful GETs of a blob (any repository) the access log shows. */
    public int blobGets(String digest) {
        Matcher m = Pattern.compile("\"GET /v2/[^ ]+/blobs/" + Pattern.quote(digest) + " HTTP/1\\.1\" 20[06]").matcher(log());
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            BerthdProcess.deleteTree(dir);
        } catch (IOException ignored) {
            // a temp dir left behind
        }
    }
}
