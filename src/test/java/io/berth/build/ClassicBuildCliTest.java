package io.berth.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.archive.TarEntry;
import io.berth.archive.TarReader;
import io.berth.archive.TarWriter;
import io.berth.sys.MountTable;
import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code DOCKER_BUILDKIT=0 docker build} (the real CLI) against a real berthd, with a busybox base loaded by {@code docker load}. */
class ClassicBuildCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static BerthdProcess daemon;
    static DockerCli docker;
    static Path base;

    @TempDir Path tmp;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        daemon = BerthdProcess.start();
        docker = daemon.docker().withEnv(Map.of("DOCKER_BUILDKIT", "0"));
        base = Files.createTempDirectory("berth-build-base");
        TestImages.Built b = TestImages.busybox().tag("busybox:latest").writeTo(base.resolve("busybox.tar"));
        ok("load", "-i", b.archive().toString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
        if (base != null) BerthdProcess.deleteTree(base);
    }

    /** After each test: no build container, mount, snapshot or cgroup is left, and the test's images are gone. */
    @AfterEach
    void clean() throws Exception {
        List<String> problems = leftovers();
        String images = ok("images", "-a", "-q", "--no-trunc").stdout();
        for (String id : images.lines().map(String::trim).filter(l -> !l.isEmpty()).distinct().toList()) {
            DockerCli.Result tags = docker.run("image", "inspect", "-f", "{{json .RepoTags}}", id);
            if (tags.exitCode() != 0 || tags.stdout().contains("busybox:latest")) continue;
            docker.run("rmi", "-f", id);
        }
        ok("builder", "prune", "-f");
        assertThat(problems).as("left by the build").isEmpty();
    }

    static List<String> leftovers() throws IOException {
        List<String> problems = new ArrayList<>();
        List<String> mounts = MountTable.mountsUnder(daemon.dataRoot());
        if (!mounts.isEmpty()) problems.add("mounts: " + mounts);
        Path snaps = daemon.dataRoot().resolve("snapshots");
        try (Stream<Path> s = Files.list(snaps)) {
            for (Path p : s.toList()) {
                Path rec = p.resolve("snapshot.json");
                if (Files.exists(rec) && Files.readString(rec).contains("\"build-")) problems.add("snapshot: " + Files.readString(rec));
            }
        }
        Path bundles = daemon.dataRoot().resolve("build/c");
        if (Files.isDirectory(bundles)) {
            try (Stream<Path> s = Files.list(bundles)) {
                List<Path> left = s.toList();
                if (!left.isEmpty()) problems.add("bundles: " + left);
            }
        }
        Path runcRoot = daemon.dir().resolve("run/build-runtime");
        if (Files.isDirectory(runcRoot)) {
            try (Stream<Path> s = Files.list(runcRoot)) {
                List<Path> left = s.toList();
                if (!left.isEmpty()) problems.add("runtime state: " + left);
            }
        }
        List<Path> cgroups = cgroupDirs();
        if (!cgroups.isEmpty()) problems.add("cgroups: " + cgroups);
        return problems;
    }

    static List<Path> cgroupDirs() throws IOException {
        List<Path> out = new ArrayList<>();
        Path root = Path.of("/sys/fs/cgroup");
        if (Files.isDirectory(root.resolve(BuildContainers.CGROUP_PARENT.substring(1)))) out.add(root.resolve(BuildContainers.CGROUP_PARENT.substring(1)));
        try (Stream<Path> s = Files.list(root)) {
            for (Path h : s.toList()) {
                Path d = h.resolve(BuildContainers.CGROUP_PARENT.substring(1));
                if (!Files.isSymbolicLink(h) && Files.isDirectory(d) && !out.contains(d)) out.add(d);
            }
        }
        return out;
    }

    static DockerCli.Result ok(String... args) throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(180), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, tail(daemon.log())).isZero();
        return r;
    }

    static String tail(String s) {
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    static JsonNode inspect(String name) throws Exception {
        return JSON.readTree(ok("image", "inspect", name).stdout()).get(0);
    }

    static DockerCli.Result build(Path context, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("build"));
        all.addAll(List.of(args));
        all.add(context.toString());
        return docker.run(Duration.ofSeconds(300), all.toArray(String[]::new));
    }

    static DockerCli.Result buildOk(Path context, String... args) throws Exception {
        DockerCli.Result r = build(context, args);
        assertThat(r.exitCode()).as("docker build\n%s\n--- daemon log\n%s", r, tail(daemon.log())).isZero();
        return r;
    }

    static Path context(Path dir, String dockerfile, Map<String, String> files) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("Dockerfile"), dockerfile);
        for (var e : files.entrySet()) {
            Path p = dir.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, e.getValue());
        }
        return dir;
    }

    static String builtId(DockerCli.Result r) {
        Matcher m = Pattern.compile("Successfully built ([0-9a-f]{12})").matcher(r.stdout());
        assertThat(m.find()).as(r.toString()).isTrue();
        return m.group(1);
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
        return n;
    }

    /** The files of each layer of an image, read from {@code docker save}: name → content (null for non-files). */
    static List<Map<String, String>> savedLayers(String image, Path dir) throws Exception {
        Path tar = dir.resolve("saved.tar");
        ok("save", "-o", tar.toString(), image);
        Map<String, byte[]> members = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(tar)) {
            TarReader r = new TarReader(in);
            for (TarEntry e; (e = r.next()) != null; ) {
                if (e.type() == TarEntry.Type.FILE) members.put(e.name(), r.content().readAllBytes());
            }
        }
        JsonNode manifest = JSON.readTree(members.get("manifest.json")).get(0);
        List<Map<String, String>> layers = new ArrayList<>();
        for (JsonNode l : manifest.get("Layers")) {
            Map<String, String> files = new LinkedHashMap<>();
            TarReader r = new TarReader(new java.io.ByteArrayInputStream(members.get(l.asString())));
            for (TarEntry e; (e = r.next()) != null; ) {
                files.put(e.name(), e.type() == TarEntry.Type.FILE ? new String(r.content().readAllBytes(), StandardCharsets.UTF_8) : null);
            }
            layers.add(files);
        }
        return layers;
    }

    static void gzipTar(Path target, Map<String, String> files) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(target)); TarWriter w = new TarWriter(out)) {
            for (var e : files.entrySet()) {
                byte[] b = e.getValue().getBytes(StandardCharsets.UTF_8);
                w.writeEntry(TarEntry.file(e.getKey(), b.length).withOwner(1000, 1000), b);
            }
        }
    }

    // ================================================================ tests

    @Test
    void everyInstruction() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                ARG BASE=busybox
                FROM $BASE
                LABEL org.test.name="every instruction" org.test.version=1
                MAINTAINER Berth Tests <tests@berth.invalid>
                ENV GREETING=hello TARGET=world
                ARG VERSION=1.0
                WORKDIR /app
                COPY hello.txt ./
                COPY dir/ /app/dir/
                ADD archive.tar.gz /opt/
                COPY --chown=app:app --chmod=600 hello.txt /home/app/private.txt
                RUN echo "$GREETING $TARGET $VERSION" > /app/greeting && ls /opt && stat -c '%u:%g %a' /home/app/private.txt
                SHELL ["/bin/sh", "-e", "-c"]
                RUN test -f /app/hello.txt && test -f /app/dir/sub/inner.txt && test -f /opt/packed.txt
                USER app
                EXPOSE 8080 9090/udp
                VOLUME /data
                STOPSIGNAL SIGQUIT
                HEALTHCHECK --interval=5s --timeout=3s --retries=2 CMD true
                ENTRYPOINT ["/bin/sh", "-c"]
                CMD ["cat /app/greeting"]
                ONBUILD RUN echo triggered
                """, Map.of("hello.txt", "hello file\n", "dir/sub/inner.txt", "inner\n"));
        gzipTar(ctx.resolve("archive.tar.gz"), Map.of("packed.txt", "packed\n"));

        DockerCli.Result r = buildOk(ctx, "-t", "every:1", "-t", "every:latest", "--build-arg", "VERSION=2.5", "--label", "org.extra=from-cli");
        String out = r.stdout();
        assertThat(out).contains("Step 1/23 : ARG BASE=busybox", "Step 2/23 : FROM $BASE", "Step 22/23 : ONBUILD RUN echo triggered", "Step 23/23 : LABEL org.extra=from-cli");
        assertThat(out).contains(" ---> Running in ", "Removing intermediate container ", "packed.txt", "1000:1000 600");
        assertThat(out).contains("Successfully tagged every:1", "Successfully tagged every:latest");
        String id = builtId(r);

        JsonNode img = inspect("every:1");
        assertThat(img.get("Id").asString()).startsWith("sha256:" + id);
        JsonNode c = img.get("Config");
        assertThat(c.get("Env").toString()).contains("GREETING=hello", "TARGET=world");
        assertThat(c.get("User").asString()).isEqualTo("app");
        assertThat(c.get("WorkingDir").asString()).isEqualTo("/app");
        assertThat(c.get("Labels").get("org.test.name").asString()).isEqualTo("every instruction");
        assertThat(c.get("Labels").get("org.test.version").asString()).isEqualTo("1");
        assertThat(c.get("ExposedPorts").has("8080/tcp")).isTrue();
        assertThat(c.get("ExposedPorts").has("9090/udp")).isTrue();
        assertThat(c.get("Volumes").has("/data")).isTrue();
        assertThat(c.get("StopSignal").asString()).isEqualTo("SIGQUIT");
        assertThat(c.get("Entrypoint").toString()).isEqualTo("[\"/bin/sh\",\"-c\"]");
        assertThat(c.get("Cmd").toString()).isEqualTo("[\"cat /app/greeting\"]");
        assertThat(c.get("Shell").toString()).isEqualTo("[\"/bin/sh\",\"-e\",\"-c\"]");
        assertThat(c.get("Healthcheck").get("Test").toString()).isEqualTo("[\"CMD-SHELL\",\"true\"]");
        assertThat(c.get("Healthcheck").get("Interval").asLong()).isEqualTo(5_000_000_000L);
        assertThat(c.get("Healthcheck").get("Retries").asInt()).isEqualTo(2);
        assertThat(c.get("OnBuild").toString()).contains("RUN echo triggered");
        assertThat(img.get("Author").asString()).isEqualTo("Berth Tests <tests@berth.invalid>");

        assertThat(c.get("Labels").get("org.extra").asString()).isEqualTo("from-cli");
        // base history (layer + CMD) + 20 steps after FROM + the --label step
        String history = ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", "every:1").stdout();
        assertThat(history.strip().split("\n")).hasSize(2 + 21);
        assertThat(history).contains("/bin/sh -c #(nop)  ENV GREETING=hello TARGET=world", "|1 VERSION=2.5 /bin/sh -c echo",
                "/bin/sh -c #(nop)  WORKDIR /app", "/bin/sh -c #(nop)  COPY file:", " in /app/ ", "/bin/sh -c #(nop)  COPY dir:",
                "/bin/sh -e -c #(nop)  CMD [\"cat /app/greeting\"]");
        // layers: WORKDIR (made /app), 4 copies/adds, 1st RUN; the 2nd RUN changed nothing
        assertThat(img.get("RootFS").get("Layers").size()).isEqualTo(1 + 6);

        // the files are in the layers
        List<Map<String, String>> layers = savedLayers("every:1", tmp);
        Map<String, String> all = new LinkedHashMap<>();
        layers.forEach(all::putAll);
        assertThat(all.get("app/greeting")).isEqualTo("hello world 2.5\n");
        assertThat(all.get("app/hello.txt")).isEqualTo("hello file\n");
        assertThat(all.get("app/dir/sub/inner.txt")).isEqualTo("inner\n");
        assertThat(all.get("opt/packed.txt")).isEqualTo("packed\n");
        assertThat(all).containsKey("home/app/private.txt");

        // a child build runs the ONBUILD trigger
        Path child = context(tmp.resolve("child"), "FROM every:1\nRUN echo child\n", Map.of());
        DockerCli.Result cr = buildOk(child, "-t", "every-child");
        assertThat(cr.stdout()).contains("# Executing 1 build trigger", "triggered", "child");
        JsonNode onBuild = inspect("every-child").get("Config").get("OnBuild");
        assertThat(onBuild == null || onBuild.isNull() || onBuild.isEmpty()).as("OnBuild of the child: %s", onBuild).isTrue();
    }

    @Test
    void cacheIsUsedAcrossBuildsAndRestartsAndChangesRebuildFromTheirStep() throws Exception {
        String dockerfile = """
                FROM busybox
                ENV A=1
                COPY a.txt /a.txt
                RUN echo running-step-4
                COPY b.txt /b.txt
                CMD ["sh"]
                """;
        Path ctx = context(tmp.resolve("ctx"), dockerfile, Map.of("a.txt", "a\n", "b.txt", "b\n"));
        DockerCli.Result first = buildOk(ctx, "-t", "cached:1");
        assertThat(first.stdout()).doesNotContain("Using cache").contains("\nrunning-step-4\n");
        String id = builtId(first);
        // intermediate images show with -a only, as dockerd's
        assertThat(ok("images", "--format", "{{.Repository}}:{{.Tag}}").stdout()).contains("cached:1").doesNotContain("<none>");
        assertThat(ok("images", "-a", "--format", "{{.Repository}}:{{.Tag}}").stdout()).contains("<none>:<none>");
        // an untagged result is shown, as dockerd shows a dangling build result
        String untagged = builtId(buildOk(ctx));
        assertThat(untagged).isEqualTo(id);
        Path other = context(tmp.resolve("other"), "FROM busybox\nENV UNTAGGED=1\n", Map.of());
        String otherId = builtId(buildOk(other));
        assertThat(ok("images", "-q").stdout()).contains(otherId);

        DockerCli.Result second = buildOk(ctx, "-t", "cached:1");
        assertThat(count(second.stdout(), " ---> Using cache")).as(second.stdout()).isEqualTo(5);
        assertThat(second.stdout()).doesNotContain("\nrunning-step-4\n", "Running in");
        assertThat(builtId(second)).isEqualTo(id);

        // -q prints the ID only
        DockerCli.Result quiet = buildOk(ctx, "-q");
        assertThat(quiet.stdout().strip()).startsWith("sha256:" + id).doesNotContain("Step");

        // the cache survives a restart of the daemon
        daemon.stop();
        daemon = BerthdProcess.start(daemon.dir());
        docker = daemon.docker().withEnv(Map.of("DOCKER_BUILDKIT", "0"));
        DockerCli.Result afterRestart = buildOk(ctx, "-t", "cached:1");
        assertThat(count(afterRestart.stdout(), " ---> Using cache")).isEqualTo(5);
        assertThat(builtId(afterRestart)).isEqualTo(id);

        // a changed file rebuilds from its COPY on
        Files.writeString(ctx.resolve("b.txt"), "b changed\n");
        DockerCli.Result changedB = buildOk(ctx, "-t", "cached:2");
        assertThat(count(changedB.stdout(), " ---> Using cache")).as(changedB.stdout()).isEqualTo(3);
        assertThat(changedB.stdout()).doesNotContain("\nrunning-step-4\n");
        assertThat(builtId(changedB)).isNotEqualTo(id);

        Files.writeString(ctx.resolve("a.txt"), "a changed\n");
        DockerCli.Result changedA = buildOk(ctx, "-t", "cached:3");
        assertThat(count(changedA.stdout(), " ---> Using cache")).as(changedA.stdout()).isEqualTo(1);
        assertThat(changedA.stdout()).contains("\nrunning-step-4\n");

        // --no-cache runs everything again
        DockerCli.Result noCache = buildOk(ctx, "--no-cache", "-t", "cached:4");
        assertThat(noCache.stdout()).doesNotContain("Using cache").contains("\nrunning-step-4\n");

        // builder prune drops the intermediate images and the cache
        DockerCli.Result prune = ok("builder", "prune", "-f");
        assertThat(prune.stdout()).contains("Total");
        DockerCli.Result afterPrune = buildOk(ctx, "-t", "cached:5");
        assertThat(count(afterPrune.stdout(), " ---> Using cache")).as(afterPrune.stdout()).isLessThan(5);
    }

    @Test
    void systemDfListsTheBuildCache() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                FROM busybox
                RUN echo hi > /a
                ENV X=1
                RUN dd if=/dev/zero of=/b bs=1k count=100
                """, Map.of());
        buildOk(ctx, "-t", "dfcache:1");
        // one entry a cached step, with the size of the layer it added; the tagged result is shared with its image
        String summary = ok("system", "df", "--format", "{{.Type}}={{.TotalCount}}/{{.Active}}").stdout();
        assertThat(summary).contains("Build Cache=3/0");
        JsonNode df = JSON.readTree(ok("system", "df", "-v", "--format", "{{json .BuildCache}}").stdout());
        Map<String, JsonNode> byStep = new java.util.HashMap<>();
        for (JsonNode c : df) byStep.put(c.path("Description").asString(), c);
        assertThat(byStep).hasSize(3);
        JsonNode dd = byStep.get("/bin/sh -c dd if=/dev/zero of=/b bs=1k count=100");
        assertThat(dd.path("Size").asString()).isEqualTo("102kB");
        assertThat(dd.path("Shared").asString()).isEqualTo("true");
        JsonNode env = byStep.get("/bin/sh -c #(nop)  ENV X=1");
        assertThat(env.path("Size").asString()).isEqualTo("0B");
        assertThat(dd.path("Parent").asString()).isEqualTo(env.path("ID").asString());
        assertThat(byStep.get("/bin/sh -c echo hi > /a").path("Shared").asString()).isEqualTo("false");
        assertThat(ok("system", "df", "-v").stdout()).contains("Build cache usage").contains(dd.path("ID").asString().substring(0, 12));

        ok("builder", "prune", "-f");
        assertThat(ok("system", "df", "--format", "{{.Type}}={{.TotalCount}}/{{.Active}}").stdout()).contains("Build Cache=0/0");
    }

    @Test
    void multiStageBuildsOnlyWhatTheTargetNeeds() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                FROM busybox AS builder
                RUN echo built > /artifact && echo building-artifact
                FROM busybox AS unused
                RUN echo stage-nobody-needs
                FROM scratch AS final
                COPY --from=builder /artifact /artifact
                COPY --from=busybox /etc/passwd /passwd
                FROM busybox AS tester
                COPY --from=final /artifact /copied
                RUN cat /copied
                """, Map.of());
        DockerCli.Result target = buildOk(ctx, "--target", "final", "-t", "ms:final");
        assertThat(target.stdout()).contains("building-artifact", "Step 5/5 : COPY --from=busybox /etc/passwd /passwd")
                .doesNotContain("stage-nobody-needs", "cat /copied");
        JsonNode img = inspect("ms:final");
        assertThat(img.get("RootFS").get("Layers").size()).isEqualTo(2);
        List<Map<String, String>> layers = savedLayers("ms:final", tmp);
        assertThat(layers.get(0)).containsEntry("artifact", "built\n");
        assertThat(layers.get(1).get("passwd")).contains("app:x:1000");

        DockerCli.Result all = buildOk(ctx, "-t", "ms:tester");
        assertThat(all.stdout()).doesNotContain("stage-nobody-needs").contains("Step 8/8 : RUN cat /copied");
        assertThat(all.stdout().lines().filter(l -> l.equals("built")).count()).isEqualTo(1);
    }

    @Test
    void dockerignoreExcludesWhatItNames() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                FROM busybox
                COPY . /ctx/
                RUN find /ctx | sort
                """, Map.of(".dockerignore", "secret.txt\nlogs/\n*.tmp\n", "secret.txt", "s3cret\n", "logs/app.log", "log\n",
                "x.tmp", "tmp\n", "keep/kept.txt", "kept\n"));
        DockerCli.Result r = buildOk(ctx, "-t", "ignored");
        assertThat(r.stdout()).contains("/ctx/keep/kept.txt", "/ctx/Dockerfile").doesNotContain("secret.txt", "app.log", "x.tmp");
        Map<String, String> all = new LinkedHashMap<>();
        savedLayers("ignored", tmp).forEach(all::putAll);
        assertThat(all).containsKey("ctx/keep/kept.txt").doesNotContainKeys("ctx/secret.txt", "ctx/logs/app.log", "ctx/x.tmp");
    }

    @Test
    void dockerfileOutsideTheContextIsBuilt() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), "FROM busybox\nRUN echo wrong-dockerfile\n", Map.of("f.txt", "from-context\n"));
        Files.writeString(tmp.resolve("Other.dockerfile"), "FROM busybox\nCOPY f.txt /f.txt\nRUN cat /f.txt\n");
        DockerCli.Result r = buildOk(ctx, "-f", tmp.resolve("Other.dockerfile").toString(), "-t", "outside");
        assertThat(r.stdout()).contains("from-context").doesNotContain("wrong-dockerfile");

        // docker-py sends `dockerfile` twice for such a file: the first one counts, as with dockerd
        Path tar = tmp.resolve("ctx.tar");
        Files.writeString(ctx.resolve("Second.dockerfile"), "FROM busybox\nRUN echo second-one\n");
        Files.writeString(ctx.resolve("First.dockerfile"), "FROM busybox\nRUN echo first-one\n");
        assertThat(new ProcessBuilder("tar", "-C", ctx.toString(), "-cf", tar.toString(), ".").start().waitFor()).isZero();
        Process curl = new ProcessBuilder("curl", "-s", "--unix-socket", daemon.socket().toString(), "-H",
                "Content-Type: application/x-tar", "--data-binary", "@" + tar,
                "http://berth/v1.41/build?dockerfile=First.dockerfile&dockerfile=Second.dockerfile&rm=1").start();
        String body = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor()).isZero();
        assertThat(body).contains("first-one").doesNotContain("second-one");
        for (String id : Pattern.compile("Successfully built ([0-9a-f]{12})").matcher(body).results().map(m -> m.group(1)).toList()) {
            docker.run("rmi", id);
        }
    }

    @Test
    void runStepsGetAddedHostsAndTheirStderrInRed() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), "FROM busybox\nRUN cat /etc/hosts && echo to-stderr >&2\n", Map.of());
        DockerCli.Result r = buildOk(ctx, "--add-host", "db.example:10.1.2.3", "--no-cache");
        assertThat(r.stdout()).contains("10.1.2.3\tdb.example");
        assertThat(r.stdout()).contains("\u001b[91mto-stderr\n\u001b[0m");
        DockerCli.Result bad = build(ctx, "--add-host", "db.example:not-an-ip");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.stderr()).contains("invalid IP address in add-host");
    }

    @Test
    void cacheFromLimitsTheCacheToThoseImages() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), "FROM busybox\nRUN echo cached-step > /x\n", Map.of());
        buildOk(ctx, "-t", "cache-source");
        // docker-py's test_build_with_cache_from, through the CLI: the named image serves, a missing one does not
        assertThat(buildOk(ctx, "--cache-from", "cache-source").stdout()).contains("Using cache");
        assertThat(buildOk(ctx, "--cache-from", "not-here:latest").stdout()).doesNotContain("Using cache");
    }

    @Test
    void failingRunShowsItsOutputAndCodeAndLeavesNothing() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                FROM busybox
                RUN echo before-the-failure && exit 3
                RUN echo never
                """, Map.of());
        DockerCli.Result r = build(ctx, "-t", "failing");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(3);
        assertThat(r.stdout()).contains("before-the-failure").doesNotContain("never");
        assertThat(r.stderr() + r.stdout()).contains("The command '/bin/sh -c echo before-the-failure && exit 3' returned a non-zero code: 3");
        assertThat(leftovers()).isEmpty();
        assertThat(docker.run("image", "inspect", "failing").exitCode()).isNotZero();
    }

    @Test
    void deletedFilesAreGoneFromTheImage() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                FROM busybox
                RUN echo data > /tmp/file && mkdir -p /tmp/d && echo x > /tmp/d/x
                RUN rm /tmp/file && rm -r /tmp/d && mkdir /tmp/d && echo y > /tmp/d/y && rm /etc/hostname
                """, Map.of());
        buildOk(ctx, "-t", "deleting");
        List<Map<String, String>> layers = savedLayers("deleting", tmp);
        assertThat(layers).hasSize(3);
        assertThat(layers.get(1)).containsEntry("tmp/file", "data\n").containsEntry("tmp/d/x", "x\n");
        Map<String, String> last = layers.get(2);
        assertThat(last).containsKeys("tmp/.wh.file", "etc/.wh.hostname", "tmp/d/.wh..wh..opq").containsEntry("tmp/d/y", "y\n")
                .doesNotContainKey("tmp/d/x");

        Path child = context(tmp.resolve("child"), """
                FROM deleting
                RUN test ! -e /tmp/file && test ! -e /etc/hostname && test ! -e /tmp/d/x && cat /tmp/d/y
                """, Map.of());
        assertThat(buildOk(child, "-t", "deleting-child").stdout()).contains("y\n");
    }

    @Test
    void unconsumedBuildArgIsWarnedAbout() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                FROM busybox
                ARG USED
                RUN echo "used=$USED"
                """, Map.of());
        DockerCli.Result r = buildOk(ctx, "--build-arg", "USED=yes", "--build-arg", "UNUSED=1", "-t", "args");
        assertThat(r.stdout()).contains("used=yes", "[Warning] One or more build-args [UNUSED] were not consumed");
    }

    @Test
    void timeOfASixStepBuildWithA50MegabyteContext() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                FROM busybox
                ENV X=1
                COPY big.bin /big.bin
                RUN ls -l /big.bin
                WORKDIR /w
                CMD ["sh"]
                """, Map.of());
        try (OutputStream o = Files.newOutputStream(ctx.resolve("big.bin"))) {
            TestImages.writeRandom(o, 50L << 20, 42);
        }
        long t0 = System.nanoTime();
        DockerCli.Result first = buildOk(ctx, "-t", "timed");
        long t1 = System.nanoTime();
        DockerCli.Result cached = buildOk(ctx, "-t", "timed");
        long t2 = System.nanoTime();
        assertThat(count(cached.stdout(), " ---> Using cache")).isEqualTo(5);
        assertThat(builtId(cached)).isEqualTo(builtId(first));
        System.out.printf("[figures] 6-step classic build, 50 MB context: first %d ms, cached %d ms%n",
                (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
    }

    @Test
    void runJoinsTheDefaultBridgeOrTheNetworkTheBuildNamesAndLeavesNothingBehind() throws Exception {
        Path ctx = context(tmp.resolve("net"), """
                FROM busybox
                RUN ip -o link show eth0; ip -4 -o addr show dev eth0; ip -4 -o addr show dev eth0 | grep -q 'inet ' \\
                    && ping -c 1 -W 5 "$(ip route | awk '/^default/ {print $3}')" >/dev/null && echo gateway-answered && cat /etc/resolv.conf
                """, Map.of());
        Path execRoot = daemon.dir().resolve("run");
        Path ipam = daemon.dataRoot().resolve("network").resolve("ipam");

        // default: the daemon's default bridge, as docker run; the namespace, veth, address and rules go with the step
        for (String mode : new String[] {null, "bridge"}) {
            DockerCli.Result r = mode == null ? buildOk(ctx, "--no-cache") : buildOk(ctx, "--no-cache", "--network", mode);
            assertThat(r.stdout()).as(r.toString()).containsPattern("inet \\d+\\.\\d+\\.\\d+\\.\\d+/\\d+").contains("gateway-answered", "nameserver");
            assertNetworkGone(r, execRoot, ipam);
        }

        // a user-defined network by name
        ok("network", "create", "--subnet", "10.93.77.0/24", "buildnet");
        try {
            DockerCli.Result r = buildOk(ctx, "--no-cache", "--network", "buildnet");
            assertThat(r.stdout()).as(r.toString()).contains("inet 10.93.77.", "gateway-answered");
            assertNetworkGone(r, execRoot, ipam);
        } finally {
            ok("network", "rm", "buildnet");
        }

        // a failing RUN on the bridge leaves nothing either
        Path failing = context(tmp.resolve("failing"), "FROM busybox\nRUN ip -o link show eth0; ip -4 -o addr show dev eth0; exit 3\n", Map.of());
        DockerCli.Result failed = build(failing, "--no-cache");
        assertThat(failed.exitCode()).isNotZero();
        assertThat(failed.stdout() + failed.stderr()).contains("returned a non-zero code: 3");
        assertNetworkGone(failed, execRoot, ipam);

        // none: loopback only
        Path none = context(tmp.resolve("none"), "FROM busybox\nRUN ip -o link; ! ip link show eth0 2>/dev/null && echo loopback-only\n", Map.of());
        DockerCli.Result n = buildOk(none, "--no-cache", "--network", "none");
        assertThat(n.stdout()).contains("1: lo:", "loopback-only").doesNotContainPattern("(?m)^\\d+: (?!lo:)");

        // an unknown network fails the RUN step as dockerd does; container: is refused clearly
        DockerCli.Result unknown = build(ctx, "--no-cache", "--network", "nosuchnet");
        assertThat(unknown.stdout() + unknown.stderr()).contains("network nosuchnet not found");
        assertThat(unknown.stdout()).doesNotContain("Successfully built");
        DockerCli.Result other = build(ctx, "--no-cache", "--network", "container:abc");
        assertThat(other.stdout() + other.stderr()).contains("network mode container:abc is not supported for RUN");
        assertThat(WiringHostState.netns(execRoot)).isEmpty();
        assertThat(WiringHostState.leases(ipam)).isEmpty();
        assertThat(leftovers()).isEmpty();
    }

    /** After a build whose RUN printed {@code ip -o link show eth0} and its address: no namespace, lease, host veth or rule of it remains. */
    private static void assertNetworkGone(DockerCli.Result r, Path execRoot, Path ipam) throws Exception {
        Matcher peer = Pattern.compile("eth0@if(\\d+)").matcher(r.stdout());
        assertThat(peer.find()).as(r.stdout()).isTrue();
        Matcher ip = Pattern.compile("inet (\\d+\\.\\d+\\.\\d+\\.\\d+)/").matcher(r.stdout());
        assertThat(ip.find()).as(r.stdout()).isTrue();
        assertThat(WiringHostState.netns(execRoot)).as("network namespaces left").isEmpty();
        assertThat(WiringHostState.leases(ipam)).as("address leases left").isEmpty();
        assertThat(WiringHostState.run("ip", "-o", "link")).as("the host end of the veth").doesNotContainPattern("(?m)^" + peer.group(1) + ":");
        String address = ip.group(1);
        assertThat(WiringHostState.run("iptables-save").lines().filter(l -> l.contains(address + "/") || l.contains(address + " ")).toList())
                .as("iptables rules of %s", address).isEmpty();
    }

    @Test
    void unsupportedRequestsFailClearly() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), "FROM busybox\nADD http://127.0.0.1:1/file.txt /file.txt\n", Map.of());
        DockerCli.Result url = build(ctx);
        assertThat(url.exitCode()).isNotZero();
        assertThat(url.stderr() + url.stdout()).contains("ADD from a URL is not supported offline");

        Path simple = context(tmp.resolve("simple"), "FROM busybox\nRUN true\n", Map.of());
        DockerCli.Result platform = build(simple, "--platform", "linux/s390x");
        assertThat(platform.exitCode()).isNotZero();
        assertThat(platform.stderr()).contains("platform linux/s390x is not supported");

        DockerCli.Result target = build(simple, "--target", "nosuchstage");
        assertThat(target.stderr()).contains("failed to reach build target nosuchstage in Dockerfile");

        Path bad = context(tmp.resolve("bad"), "FROM busybox\nFROBNICATE now\n", Map.of());
        DockerCli.Result parse = build(bad);
        assertThat(parse.exitCode()).isNotZero();
        assertThat(parse.stderr()).containsIgnoringCase("unknown instruction");

        Path missing = context(tmp.resolve("missing"), "FROM busybox\nCOPY nothere.txt /\n", Map.of());
        DockerCli.Result notFound = build(missing);
        assertThat(notFound.exitCode()).isNotZero();
        assertThat(notFound.stderr() + notFound.stdout()).contains("nothere.txt");
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void aClientThatGoesAwayCancelsTheBuildAndItsRunningStep() throws Exception {
        Path ctx = context(tmp.resolve("ctx"), """
                FROM busybox
                RUN echo started-sleeping && sleep 60
                RUN echo never
                """, Map.of());
        Process p = docker.start("build", "-t", "cancelled", ctx.toString());
        p.getOutputStream().close();
        var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long t0 = System.nanoTime();
        for (String line; (line = reader.readLine()) != null; ) {
            if (line.equals("started-sleeping")) break;
        }
        p.destroy(); // SIGTERM: the CLI goes away mid-RUN
        p.waitFor();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> left = leftovers();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            left = leftovers();
        }
        assertThat(left).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(40));
        assertThat(docker.run("image", "inspect", "cancelled").exitCode()).isNotZero();
    }
}
