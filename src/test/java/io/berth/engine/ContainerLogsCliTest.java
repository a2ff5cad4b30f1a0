package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Log size caps and rotation (--log-opt max-size, max-file) and docker logs over rotated files, against a real berthd. */
class ContainerLogsCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final long MAX = 10 * 1024;
    /**
     * How far past max-size a file may grow: the rotator looks every 250 ms, and the writers
     * below write about 1.3 KB each 50 ms (26 KB/s), so about 7 KB an interval; twice that
     * for a busy machine.
     */
    static final long SLACK = 14 * 1024;
    static CliDaemon cli;
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        cli = CliDaemon.start();
        daemon = cli.daemon();
        docker = cli.docker();
        cli.load(TestImages.busybox().tag("bb:logs").writeTo(tmp.resolve("bb.tar")));
    }

    @AfterEach
    void removeAll() throws Exception {
        cli.removeContainers();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cli != null) cli.close();
    }

    static DockerCli.Result ok(String... args) throws Exception {
        return cli.ok(args);
    }

    /** A shell loop printing seq-1 .. seq-N, resting 50 ms every 25 lines (about 1.3 KB of log). */
    static String writer(int lines, int delaySeconds) {
        return "sleep " + delaySeconds + "; i=1; while [ $i -le " + lines + " ]; do echo seq-$i; "
                + "if [ $((i % 25)) = 0 ]; then usleep 50000; fi; i=$((i+1)); done";
    }

    static List<String> seq(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> "seq-" + i).toList();
    }

    static List<String> lines(String out) {
        return out.isEmpty() ? List.of() : List.of(out.split("\n"));
    }

    /** The container's log files by name, with their sizes. */
    static Map<String, Long> logFiles(String id) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(daemon.dataRoot().resolve("containers").resolve(id))) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("container.log")).toList()) {
                out.put(p.getFileName().toString(), Files.size(p));
            }
        }
        return out;
    }

    /**
     * docker-py's build tests create a container running {@code ls}, start it and read its logs at
     * once, with no wait: the logs must hold the output (they were empty one time in four).
     * Through the API, as the SDK does: the CLI's own start-up would hide the race.
     */
    @Test
    void logsReadRightAfterTheStartHoldAShortCommandsOutput() throws Exception {
        int empty = 0;
        for (int i = 0; i < 20; i++) {
            String created = daemon.raw(post("/containers/create", "{\"Image\":\"bb:logs\",\"Cmd\":[\"ls\",\"-a\",\"/\"]}"));
            String id = created.replaceAll("(?s).*\"Id\":\"([0-9a-f]{64})\".*", "$1");
            assertThat(id).as(created).hasSize(64);
            assertThat(daemon.raw(post("/containers/" + id + "/start", ""))).startsWith("HTTP/1.1 204");
            String logs = daemon.httpGet("/containers/" + id + "/logs?stdout=1&stderr=1");
            if (!logs.contains("bin")) empty++;
            ok("rm", "-f", id);
        }
        assertThat(empty).as("empty logs in 20").isZero();
    }

    @Test
    void rotatedLogKeepsTheLastLinesInOrder() throws Exception {
        String id = ok("run", "-d", "--name", "rot", "--log-opt", "max-size=10k", "--log-opt", "max-file=3", "bb:logs",
                "sh", "-c", writer(2000, 0)).stdout().trim();
        assertThat(ok("wait", "rot").stdout().trim()).isEqualTo("0");

        Map<String, Long> files = logFiles(id);
        assertThat(files.keySet()).as("%s", files).isSubsetOf("container.log", "container.log.1", "container.log.2")
                .contains("container.log.1", "container.log.2");
        files.forEach((name, size) -> assertThat(size).as("%s %s", name, files).isLessThanOrEqualTo(MAX + SLACK));
        assertThat(files.get("container.log.1")).as("rotated once past max-size").isGreaterThan(MAX);
        assertThat(files.get("container.log.2")).isGreaterThan(MAX);

        List<String> all = lines(ok("logs", "rot").stdout());
        int first = Integer.parseInt(all.getFirst().substring(4));
        assertThat(first).as("older lines were dropped").isGreaterThan(1);
        assertThat(all).containsExactlyElementsOf(seq(first, 2000));
        // what is kept is two to three files' worth: 10 KB holds about 180 lines here
        assertThat(all.size()).isBetween(2 * 180, (int) (3 * (MAX + SLACK) / 50));

        assertThat(lines(ok("logs", "--tail", "300", "rot").stdout())).containsExactlyElementsOf(seq(1701, 2000));
        assertThat(lines(ok("logs", "--tail", "0", "rot").stdout())).isEmpty();
        List<String> stamped = lines(ok("logs", "-t", "--tail", "2", "rot").stdout());
        assertThat(stamped).hasSize(2);
        assertThat(stamped.get(1)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z seq-2000");
        assertThat(lines(ok("logs", "--until", "2000-01-01T00:00:00Z", "rot").stdout())).isEmpty();
        assertThat(lines(ok("logs", "--since", "2000-01-01T00:00:00Z", "rot").stdout())).containsExactlyElementsOf(all);

        JsonNode lc = JSON.readTree(ok("inspect", "rot").stdout()).get(0).get("HostConfig").get("LogConfig");
        assertThat(lc.get("Type").asString()).isEqualTo("json-file");
        assertThat(lc.get("Config").get("max-size").asString()).isEqualTo("10k");
        assertThat(lc.get("Config").get("max-file").asString()).isEqualTo("3");
    }

    @Test
    void followSeesEveryLineOnceAcrossRotations() throws Exception {
        ok("run", "-d", "--name", "fol", "--log-opt", "max-size=10k", "--log-opt", "max-file=2", "bb:logs",
                "sh", "-c", writer(1500, 2));
        Process follow = docker.start("logs", "-f", "fol");
        try {
            assertThat(follow.waitFor(60, TimeUnit.SECONDS)).as("docker logs -f ends with the container").isTrue();
            String out = new String(follow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(lines(out)).containsExactlyElementsOf(seq(1, 1500));
        } finally {
            follow.destroyForcibly();
        }
        assertThat(lines(ok("logs", "fol").stdout()).getLast()).isEqualTo("seq-1500");
    }

    @Test
    void maxFileOneKeepsOneFile() throws Exception {
        String id = ok("run", "-d", "--name", "one", "--log-opt", "max-size=10k", "--log-opt", "max-file=1", "bb:logs",
                "sh", "-c", writer(1000, 0)).stdout().trim();
        assertThat(ok("wait", "one").stdout().trim()).isEqualTo("0");
        Map<String, Long> files = logFiles(id);
        // kept as two halves, so the last lines are always there (see LogRotator)
        assertThat(files.keySet()).as("%s", files).isSubsetOf("container.log", "container.log.1");
        assertThat(files.values().stream().mapToLong(Long::longValue).sum()).isLessThanOrEqualTo(MAX + SLACK);
        List<String> all = lines(ok("logs", "one").stdout());
        assertThat(all).isNotEmpty().endsWith("seq-1000");
        int first = Integer.parseInt(all.getFirst().substring(4));
        assertThat(first).isGreaterThan(1);
        assertThat(all).containsExactlyElementsOf(seq(first, 1000));
    }

    @Test
    void theNoneDriverKeepsNothingToRead() throws Exception {
        ok("run", "--name", "quiet", "--log-driver", "none", "bb:logs", "echo", "hello");
        DockerCli.Result logs = docker.run("logs", "quiet");
        assertThat(logs.exitCode()).isNotZero();
        assertThat(logs.stderr()).contains("configured logging driver does not support reading");
        ok("rm", "quiet");
    }

    @Test
    void badLogOptionsAreRefusedAndCreateNothing() throws Exception {
        String before = ok("ps", "-aq").stdout();
        Object[][] cases = {
                {List.of("--log-opt", "max-size=abc"), "failed to initialize logging driver: invalid size: 'abc'"},
                {List.of("--log-opt", "max-size=10k", "--log-opt", "max-file=0"), "failed to initialize logging driver: max-file cannot be less than 1"},
                {List.of("--log-opt", "max-file=0"), "failed to initialize logging driver: max-file cannot be less than 1"},
                {List.of("--log-opt", "foo=bar"), "unknown log opt 'foo' for json-file log driver"},
                {List.of("--log-driver", "nosuch"), "error looking up logging plugin nosuch: plugin \"nosuch\" not found"},
        };
        for (Object[] c : cases) {
            List<String> args = new ArrayList<>(List.of("create"));
            @SuppressWarnings("unchecked") List<String> opts = (List<String>) c[0];
            args.addAll(opts);
            args.addAll(List.of("bb:logs", "true"));
            DockerCli.Result r = docker.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as("%s", r).isNotZero();
            assertThat(r.stderr()).as("%s", args).contains("Error response from daemon: " + c[1]);
        }
        String raw = daemon.raw(post("/containers/create", """
                {"Image":"bb:logs","Cmd":["true"],"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"abc"}}}}"""));
        assertThat(raw).startsWith("HTTP/1.1 400").contains("{\"message\":\"failed to initialize logging driver: invalid size: 'abc'\"}");
        assertThat(ok("ps", "-aq").stdout()).isEqualTo(before);

        ok("create", "--name", "plain", "bb:logs", "true");
        JsonNode lc = JSON.readTree(ok("inspect", "plain").stdout()).get(0).get("HostConfig").get("LogConfig");
        assertThat(lc.toString()).isEqualTo("{\"Type\":\"json-file\",\"Config\":{}}");
    }

    /**
     * daemon.json's log-opts apply to containers that ask for nothing, and rotation goes on
     * after a daemon restart: what conmon wrote while the daemon was away is rotated then,
     * and nothing is lost or repeated.
     */
    @Test
    void daemonDefaultsAndRotationAcrossADaemonRestart() throws Exception {
        Path dir = Files.createTempDirectory("berthd-logs");
        Files.writeString(dir.resolve("daemon.json"), "{\"log-opts\": {\"max-size\": \"10k\", \"max-file\": \"3\"}}\n");
        BerthdProcess first = BerthdProcess.start(dir);
        BerthdProcess second = null;
        try {
            DockerCli d = first.docker();
            DockerCli.Result load = d.run(Duration.ofSeconds(60), "load", "-i",
                    TestImages.busybox().tag("bb:logs").writeTo(dir.resolve("bb.tar")).archive().toString());
            assertThat(load.exitCode()).as("%s", load).isZero();
            DockerCli.Result run = d.run("run", "-d", "--name", "again", "bb:logs", "sh", "-c", writer(1500, 0));
            assertThat(run.exitCode()).as("%s", run).isZero();
            JsonNode lc = JSON.readTree(d.run("inspect", "again").stdout()).get(0).get("HostConfig").get("LogConfig");
            assertThat(lc.get("Type").asString()).isEqualTo("json-file");
            assertThat(lc.get("Config").properties().stream().map(e -> e.getKey() + "=" + e.getValue().asString()))
                    .containsExactlyInAnyOrder("max-size=10k", "max-file=3");
            Thread.sleep(1000);
            first.signal("KILL");
            first.process().waitFor();
            Thread.sleep(1000);
            second = BerthdProcess.start(dir);
            DockerCli d2 = second.docker();
            assertThat(d2.run(Duration.ofSeconds(60), "wait", "again").stdout().trim()).isEqualTo("0");
            String id = JSON.readTree(d2.run("inspect", "again").stdout()).get(0).get("Id").asString();
            Map<String, Long> files = new TreeMap<>();
            try (Stream<Path> s = Files.list(second.dataRoot().resolve("containers").resolve(id))) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith("container.log")).toList()) {
                    files.put(p.getFileName().toString(), Files.size(p));
                }
            }
            assertThat(files.keySet()).as("%s", files).isSubsetOf("container.log", "container.log.1", "container.log.2");
            List<String> all = lines(d2.run("logs", "again").stdout());
            int first1 = Integer.parseInt(all.getFirst().substring(4));
            assertThat(all).containsExactlyElementsOf(seq(first1, 1500));
        } finally {
            BerthdProcess live = second != null ? second : first;
            if (second == null && !first.process().isAlive()) live = BerthdProcess.start(dir);
            CliDaemon.removeContainers(live.docker());
            live.close();
        }
    }

    static String post(String path, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return "POST " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n" + json;
    }
}
