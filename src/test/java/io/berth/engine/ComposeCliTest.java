package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's docker-compose (1.29, Python, docker-py) against a real berthd: two services on a
 * user network sharing a named volume, one published on 127.0.0.1, the other depending on it
 * and fetching from it by service name; up -d, ps, logs, exec, down -v.
 */
class ComposeCliTest {
    static final String IMAGE = "berth-test/busybox:latest";
    static final Path COMPOSE = Path.of("/usr/bin/docker-compose");
    static Set<String> linksBefore;
    static Set<String> rulesBefore;
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isExecutable(COMPOSE), "docker-compose is not installed: apt-get install docker-compose");
        linksBefore = WiringHost.links();
        rulesBefore = WiringHost.iptables();
        daemon = BerthdProcess.start();
        docker = daemon.docker();
        DockerCli.Result r = docker.run("load", "-i", TestImages.busybox().tag(IMAGE).writeTo(tmp.resolve("bb.tar")).archive().toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon == null) return;
        try {
            String ids = docker.run("ps", "-aq").stdout().trim();
            if (!ids.isEmpty()) {
                List<String> args = new ArrayList<>(List.of("rm", "-f", "-v"));
                args.addAll(List.of(ids.split("\\s+")));
                docker.run(args.toArray(String[]::new));
            }
            for (String n : docker.run("network", "ls", "-q", "--filter", "type=custom").stdout().trim().split("\\s+")) {
                if (!n.isEmpty()) docker.run("network", "rm", n);
            }
        } finally {
            daemon.close();
            assertThat(WiringHost.leakedLinks(linksBefore)).as("links left").isEmpty();
            assertThat(WiringHost.leakedRules(rulesBefore)).as("iptables rules left").isEmpty();
        }
    }

    record Result(int exit, String out) {}

    static Result compose(Path project, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(COMPOSE.toString(), "--ansi", "never", "-p", "berthc"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(project.toFile()).redirectErrorStream(true);
        pb.environment().put("DOCKER_HOST", daemon.dockerHost());
        pb.environment().remove("DOCKER_CONFIG");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(180, TimeUnit.SECONDS)) p.destroyForcibly();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Result ok(Path project, String... args) throws Exception {
        Result r = compose(project, args);
        assertThat(r.exit()).as("docker-compose %s\n%s\n--- daemon log\n%s", String.join(" ", args), r.out(), daemon.log()).isZero();
        return r;
    }

    @Test
    void upPsLogsExecDown(@TempDir Path project) throws Exception {
        int port = WiringHost.freePort();
        Files.writeString(project.resolve("docker-compose.yml"), """
                version: "3.8"
                services:
                  web:
                    image: %s
                    command: ["sh", "-c", "echo served-from-volume > /www/index.html && exec httpd -f -p 80 -h /www"]
                    stop_grace_period: 1s
                    volumes:
                      - webdata:/www
                    networks:
                      - appnet
                    ports:
                      - "127.0.0.1:%d:80"
                  client:
                    image: %s
                    command: ["sh", "-c", "until wget -qO- http://web/index.html; do sleep 0.2; done; exec sleep 300"]
                    stop_grace_period: 1s
                    depends_on:
                      - web
                    networks:
                      - appnet
                networks:
                  appnet:
                volumes:
                  webdata:
                """.formatted(IMAGE, port, IMAGE));
        try {
            ok(project, "up", "-d");
            String ps = ok(project, "ps").out();
            assertThat(ps).contains("berthc_web_1").contains("berthc_client_1").contains("127.0.0.1:" + port + "->80/tcp");
            assertThat(ps.lines().filter(l -> l.contains("berthc_")).allMatch(l -> l.contains(" Up "))).as(ps).isTrue();

            assertThat(WiringHost.httpGet(port, "/index.html")).isEqualTo("served-from-volume\n");
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> compose(project, "logs", "client").out().contains("served-from-volume"));
            assertThat(ok(project, "exec", "-T", "web", "cat", "/www/index.html").out()).isEqualTo("served-from-volume\n");
            assertThat(ok(project, "exec", "-T", "client", "wget", "-qO-", "http://web/index.html").out()).isEqualTo("served-from-volume\n");
            assertThat(docker.run("volume", "ls", "-q").stdout()).contains("berthc_webdata");
            assertThat(docker.run("network", "ls", "--format", "{{.Name}}").stdout()).contains("berthc_appnet");

            ok(project, "down", "-v");
            assertThat(docker.run("ps", "-aq").stdout()).isBlank();
            assertThat(docker.run("volume", "ls", "-q").stdout()).isBlank();
            assertThat(docker.run("network", "ls", "--format", "{{.Name}}").stdout()).doesNotContain("berthc_appnet");
        } finally {
            compose(project, "down", "-v", "-t", "1");
        }
    }
}
