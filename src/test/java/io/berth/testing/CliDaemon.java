package io.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real berthd with the docker CLI pointed at it: the shared set-up of the CLI tests. A test class
 * starts one in {@code @BeforeAll}, loads its images, cleans up in {@code @AfterEach} and closes it in
 * {@code @AfterAll}.
 */
public final class CliDaemon implements AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final BerthdProcess daemon;
    private final DockerCli docker;

    private CliDaemon(BerthdProcess daemon) {
        this.daemon = daemon;
        this.docker = daemon.docker();
    }

    public static CliDaemon start(String... extraArgs) throws Exception {
        return new CliDaemon(BerthdProcess.start(extraArgs));
    }

    /** On a given folder (data root, exec root and socket below it). */
    public static CliDaemon start(Path dir, String... extraArgs) throws Exception {
        return new CliDaemon(BerthdProcess.start(dir, extraArgs));
    }

    public BerthdProcess daemon() {
        return daemon;
    }

    public DockerCli docker() {
        return docker;
    }

    /** Runs docker (60 s at the most) and asserts it exited 0, showing its output and the daemon's log when not. */
    public DockerCli.Result ok(String... args) throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, daemon.log()).isZero();
        return r;
    }

    /** docker inspect of one object. */
    public JsonNode inspect(String name) throws Exception {
        return JSON.readTree(ok("inspect", name).stdout()).get(0);
    }

    /** docker load of an image archive made by {@link TestImages}. */
    public void load(TestImages.Built image) throws Exception {
        ok("load", "-i", image.archive().toString());
    }

    /** docker rm -f of every container. */
    public void removeContainers() throws Exception {
        removeContainers(docker);
    }

    /** docker rm -f -v of every container, then docker volume rm -f of every volume. */
    public void removeContainersAndVolumes() throws Exception {
        removeAll(docker, List.of("ps", "-aq"), List.of("rm", "-f", "-v"));
        removeAll(docker, List.of("volume", "ls", "-q"), List.of("volume", "rm", "-f"));
    }

    /** docker network rm of every user-defined network. */
    public void removeCustomNetworks() throws Exception {
        for (String n : docker.run("network", "ls", "-q", "--filter", "type=custom").stdout().trim().split("\\s+")) {
            if (!n.isEmpty()) docker.run("network", "rm", n);
        }
    }

    /** docker rm -f of every container of the daemon {@code d} talks to. */
    public static void removeContainers(DockerCli d) throws Exception {
        removeAll(d, List.of("ps", "-aq"), List.of("rm", "-f"));
    }

    /** Lists ids with {@code list} and removes them all at once with {@code remove}; a failure is only reported. */
    private static void removeAll(DockerCli d, List<String> list, List<String> remove) throws Exception {
        String ids = d.run(list.toArray(String[]::new)).stdout().trim();
        if (ids.isEmpty()) return;
        List<String> args = new ArrayList<>(remove);
        args.addAll(List.of(ids.split("\\s+")));
        DockerCli.Result r = d.run(args.toArray(String[]::new));
        if (r.exitCode() != 0) System.err.println("cleanup: docker " + String.join(" ", remove) + " failed: " + r);
    }

    @Override
    public void close() throws Exception {
        daemon.close();
    }
}
