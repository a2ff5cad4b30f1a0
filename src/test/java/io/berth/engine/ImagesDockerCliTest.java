package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.archive.TarEntry;
import io.berth.content.Digest;
import io.berth.image.MediaTypes;
import io.berth.image.Platform;
import io.berth.registry.BlobSource;
import io.berth.registry.RegistryClient;
import io.berth.registry.RegistryConfig;
import io.berth.registry.RepositoryRef;
import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.RegistryProcess;
import io.berth.testing.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** docker load/images/inspect/tag/history/push/rmi/pull/save/import/login against a real berthd and a real registry. */
class ImagesDockerCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static BerthdProcess daemon;
    static DockerCli docker;
    static RegistryProcess registry;
    static RegistryClient client = new RegistryClient(RegistryConfig.defaults());

    @TempDir Path tmp;

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryProcess.start();
        daemon = BerthdProcess.start();
        docker = daemon.docker();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
        if (registry != null) registry.close();
    }

    static DockerCli.Result ok(String... args) throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(120), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, tail(daemon.log())).isZero();
        return r;
    }

    static String tail(String s) {
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    static JsonNode inspect(String name) throws Exception {
        return JSON.readTree(ok("image", "inspect", name).stdout()).get(0);
    }

    @Test
    void loadThenImagesInspectTagHistory() throws Exception {
        TestImages.Built b = TestImages.busybox().tag("bb-inspect:1.0").label("org.test", "yes").files(Map.of("hello.txt", "hi\n"))
                .writeTo(tmp.resolve("bb.tar"));
        DockerCli.Result load = ok("load", "-i", b.archive().toString());
        assertThat(load.stdout()).contains("Loaded image: bb-inspect:1.0");

        // the image ID is the sha256 of the config bytes, as dockerd computes it
        assertThat(b.imageId()).isEqualTo(Digest.sha256(b.configBytes()));
        String images = ok("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout();
        assertThat(images).contains("bb-inspect:1.0 " + b.imageId());

        JsonNode i = inspect("bb-inspect:1.0");
        assertThat(i.get("Id").asString()).isEqualTo(b.imageId().toString());
        assertThat(i.get("RepoTags").toString()).isEqualTo("[\"bb-inspect:1.0\"]");
        assertThat(i.get("Os").asString()).isEqualTo("linux");
        assertThat(i.get("Architecture").asString()).isEqualTo(Platform.host().architecture());
        assertThat(i.get("Config").get("Cmd").toString()).isEqualTo("[\"sh\"]");
        assertThat(i.get("Config").get("Env").get(0).asString()).startsWith("PATH=");
        assertThat(i.get("Config").get("Labels").get("org.test").asString()).isEqualTo("yes");
        assertThat(i.get("RootFS").get("Type").asString()).isEqualTo("layers");
        List<String> layers = new ArrayList<>();
        i.get("RootFS").get("Layers").forEach(n -> layers.add(n.asString()));
        assertThat(layers).containsExactly(b.diffIds().get(0).toString(), b.diffIds().get(1).toString());
        assertThat(i.get("GraphDriver").get("Name").asString()).isEqualTo("overlay2");
        Path upper = Path.of(i.get("GraphDriver").get("Data").get("UpperDir").asString());
        assertThat(upper.resolve("hello.txt")).hasContent("hi");
        Path lower = Path.of(i.get("GraphDriver").get("Data").get("LowerDir").asString());
        assertThat(Files.isSymbolicLink(lower.resolve("bin/sh"))).isTrue();
        assertThat(i.get("Size").asLong()).isGreaterThan(1_000_000);
        assertThat(i.get("Created").asString()).isEqualTo("2024-01-01T00:00:00Z");

        ok("tag", "bb-inspect:1.0", "example.org/team/bb:2");
        assertThat(inspect("example.org/team/bb:2").get("Id").asString()).isEqualTo(b.imageId().toString());
        assertThat(inspect(b.imageId().hex().substring(0, 10)).get("RepoTags")).hasSize(2);
        assertThat(inspect("bb-inspect:1.0").get("Metadata").get("LastTagTime").asString()).isNotEqualTo("0001-01-01T00:00:00Z");

        String history = ok("history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}", "bb-inspect:1.0").stdout();
        List<String> lines = history.lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).startsWith(b.imageId() + "|CMD [\"sh\"]|0B");
        assertThat(lines.get(2)).startsWith("<missing>|ADD rootfs.tar");

        assertThat(daemon.httpGet("/info")).containsPattern("\"Images\":[1-9]");
        String notFound = docker.run("image", "inspect", "nope-not-here").stderr();
        assertThat(notFound).contains("No such image");
        assertThat(daemon.httpGet("/images/Bad/json")).startsWith("HTTP/1.1 400").contains("invalid reference format");
        assertThat(daemon.httpGet("/images/nope-not-here/json")).startsWith("HTTP/1.1 404").contains("No such image: nope-not-here:latest");

        // `docker images REPO` lists that repository's tags only, not the image's other names
        assertThat(ok("images", "--format", "{{.Repository}}:{{.Tag}}", "example.org/team/bb").stdout()).isEqualTo("example.org/team/bb:2\n");
        ok("rmi", "example.org/team/bb:2");
        ok("rmi", "bb-inspect:1.0");
        assertThat(ok("images", "-q", "--no-trunc").stdout()).doesNotContain(b.imageId().toString());
    }

    @Test
    void pushRmiPullBackKeepsIdAndDigest() throws Exception {
        TestImages.Built b = TestImages.busybox().tag("bb-push:latest").label("push", "1").writeTo(tmp.resolve("bb.tar"));
        ok("load", "-i", b.archive().toString());
        String name = registry.host() + "/berth/bb-push";
        ok("tag", "bb-push:latest", name + ":v1");
        DockerCli.Result push = ok("push", name + ":v1");
        assertThat(push.stdout()).contains("The push refers to repository [" + name + "]", "Pushed", "v1: digest: sha256:");
        Digest registryDigest = client.headManifest(new RepositoryRef(registry.host(), "berth/bb-push"), "v1").orElseThrow().digest();
        assertThat(push.stdout()).contains("v1: digest: " + registryDigest);

        // GET /distribution/NAME/json (docker-py's get_registry_data): the registry's descriptor and the image's platform
        String dist = daemon.httpGet("/v1.41/distribution/" + name + ":v1/json");
        assertThat(dist).startsWith("HTTP/1.1 200");
        JsonNode d = JSON.readTree(dist.substring(dist.indexOf("\r\n\r\n") + 4));
        assertThat(d.get("Descriptor").get("digest").asString()).isEqualTo(registryDigest.toString());
        assertThat(d.get("Platforms").get(0).get("os").asString()).isEqualTo("linux");
        assertThat(daemon.httpGet("/v1.41/distribution/" + name + ":nosuchtag/json")).startsWith("HTTP/1.1 404");

        // a second repository on the same registry mounts the layers instead of uploading them
        ok("tag", "bb-push:latest", registry.host() + "/berth/other:v1");
        assertThat(ok("push", registry.host() + "/berth/other:v1").stdout()).contains("Mounted from berth/bb-push");
        assertThat(ok("push", name + ":v1").stdout()).contains("Layer already exists");

        ok("rmi", "-f", b.imageId().toString());
        assertThat(ok("images", "-q", "--no-trunc").stdout()).doesNotContain(b.imageId().toString());

        DockerCli.Result pull = ok("pull", name + ":v1");
        assertThat(pull.stdout()).contains("v1: Pulling from berth/bb-push", "Pull complete", "Digest: " + registryDigest,
                "Status: Downloaded newer image for " + name + ":v1");
        JsonNode i = inspect(name + ":v1");
        assertThat(i.get("Id").asString()).isEqualTo(b.imageId().toString());
        assertThat(i.get("RepoDigests").toString()).isEqualTo("[\"" + name + "@" + registryDigest + "\"]");
        assertThat(ok("pull", name + ":v1").stdout()).contains("Already exists", "Status: Image is up to date for " + name + ":v1");
        // by digest too
        assertThat(ok("pull", name + "@" + registryDigest).stdout()).contains("Digest: " + registryDigest);

        String events = daemon.httpGet("/events?since=0&until=" + (System.currentTimeMillis() / 1000 + 1));
        assertThat(events).contains("\"Action\":\"push\"", "\"Action\":\"pull\"", "\"Action\":\"tag\"", "\"Action\":\"delete\"",
                "\"Action\":\"untag\"", "\"Action\":\"load\"");
        ok("rmi", "-f", b.imageId().toString());
    }

    @Test
    void pullOfMissingTagFailsWithTheRegistrysMessage() throws Exception {
        DockerCli.Result r = docker.run("pull", registry.host() + "/berth/missing:nope");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("manifest unknown");
    }

    @Test
    void saveRmiLoadKeepsTheId() throws Exception {
        TestImages.Built b = TestImages.busybox().tag("bb-save:1").files(Map.of("etc/motd", "saved\n")).writeTo(tmp.resolve("bb.tar"));
        ok("load", "-i", b.archive().toString());
        Path saved = tmp.resolve("saved.tar");
        ok("save", "-o", saved.toString(), "bb-save:1");
        ok("rmi", "bb-save:1");
        assertThat(ok("images", "-q", "--no-trunc").stdout()).doesNotContain(b.imageId().toString());
        assertThat(ok("load", "-i", saved.toString()).stdout()).contains("Loaded image: bb-save:1");
        JsonNode i = inspect("bb-save:1");
        assertThat(i.get("Id").asString()).isEqualTo(b.imageId().toString());
        // GNU tar reads what we wrote, and the layer tars hash to their DiffIDs
        Process p = new ProcessBuilder("tar", "-tf", saved.toString()).redirectErrorStream(true).start();
        String list = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(list).contains("manifest.json", "index.json", "oci-layout", "repositories", "blobs/sha256/" + b.diffIds().get(1).hex());
        ok("rmi", "bb-save:1");
    }

    @Test
    void importWithChanges() throws Exception {
        Path tar = tmp.resolve("rootfs.tar");
        Files.copy(TestImages.busyboxLayer().tar(), tar);
        DockerCli.Result r = ok("import", "--change", "CMD [\"/bin/sh\"]", "--change", "ENV FOO=bar", "--change", "EXPOSE 8080",
                "--change", "WORKDIR /srv", "--change", "LABEL a=b", "--change", "USER app", "-m", "imported here", tar.toString(), "bb-import:1");
        String id = r.stdout().strip();
        assertThat(id).startsWith("sha256:");
        JsonNode i = inspect("bb-import:1");
        assertThat(i.get("Id").asString()).isEqualTo(id);
        assertThat(i.get("Config").get("Cmd").toString()).isEqualTo("[\"/bin/sh\"]");
        assertThat(i.get("Config").get("Env").toString()).isEqualTo("[\"FOO=bar\"]");
        assertThat(i.get("Config").get("ExposedPorts").has("8080/tcp")).isTrue();
        assertThat(i.get("Config").get("WorkingDir").asString()).isEqualTo("/srv");
        assertThat(i.get("Config").get("User").asString()).isEqualTo("app");
        assertThat(i.get("Config").get("Labels").get("a").asString()).isEqualTo("b");
        assertThat(i.get("Comment").asString()).isEqualTo("imported here");
        assertThat(i.get("RootFS").get("Layers").get(0).asString()).isEqualTo(TestImages.busyboxLayer().diffId().toString());
        ok("rmi", "bb-import:1");
    }

    @Test
    void hostileLayerInLoadIsRefusedAndStoresNothing() throws Exception {
        Path layer = tmp.resolve("evil-layer.tar");
        TestImages.Layer evil = TestImages.writeLayer(layer, w -> {
            w.writeEntry(TarEntry.dir("ok").withMtime(TestImages.EPOCH), new byte[0]);
            byte[] x = "pwned\n".getBytes(StandardCharsets.UTF_8);
            w.writeEntry(TarEntry.file("ok/../../../../tmp/berth-evil-" + ProcessHandle.current().pid(), x.length), x);
        });
        TestImages.Built b = TestImages.busybox().tag("evil:1").layer(evil).writeTo(tmp.resolve("evil.tar"));
        long blobsBefore = count(daemon.dataRoot().resolve("content/blobs/sha256"));
        long snapshotsBefore = count(daemon.dataRoot().resolve("snapshots"));
        DockerCli.Result r = docker.run("load", "-i", b.archive().toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr() + r.stdout()).contains("escapes the layer root");
        assertThat(Path.of("/tmp/berth-evil-" + ProcessHandle.current().pid())).doesNotExist();
        assertThat(ok("images", "-q", "--no-trunc").stdout()).doesNotContain(b.imageId().toString());
        assertThat(count(daemon.dataRoot().resolve("content/blobs/sha256"))).isEqualTo(blobsBefore);
        assertThat(count(daemon.dataRoot().resolve("snapshots"))).isEqualTo(snapshotsBefore);
    }

    /** dockerd answers 200 and puts the error in the progress stream; the CLI prints it and fails. */
    @Test
    void loadOfAGarbageArchiveFailsInTheStream() throws Exception {
        Path garbage = tmp.resolve("garbage.tar");
        byte[] noise = new byte[4096];
        new java.util.Random(7).nextBytes(noise);
        Files.write(garbage, noise);
        DockerCli.Result r = docker.run("load", "-i", garbage.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).isNotBlank();
        String raw = daemon.raw("POST /v1.41/images/load HTTP/1.1\r\nHost: berth\r\nContent-Type: application/x-tar\r\nContent-Length: 5\r\n"
                + "Connection: close\r\n\r\nnoise");
        assertThat(raw).startsWith("HTTP/1.1 200").contains("\"error\"");
    }

    static long count(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void multiPlatformIndexPullsTheHostsImage() throws Exception {
        RepositoryRef repo = new RepositoryRef(registry.host(), "berth/multi");
        TestImages.Builder amd = TestImages.empty().files(Map.of("arch", "amd64\n")).architecture("amd64", null);
        TestImages.Builder arm = TestImages.empty().files(Map.of("arch", "arm64\n")).architecture("arm64", null);
        Descriptorish a = pushRaw(repo, null, amd.configBytes(), amd.layers());
        Descriptorish m = pushRaw(repo, null, arm.configBytes(), arm.layers());
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        index.put("manifests", List.of(
                Map.of("mediaType", MediaTypes.OCI_MANIFEST, "digest", a.digest().toString(), "size", a.size(),
                        "platform", Map.of("os", "linux", "architecture", "amd64")),
                Map.of("mediaType", MediaTypes.OCI_MANIFEST, "digest", m.digest().toString(), "size", m.size(),
                        "platform", Map.of("os", "linux", "architecture", "arm64"))));
        byte[] indexBytes = JSON.writeValueAsBytes(index);
        Digest indexDigest = client.putManifest(repo, "v1", indexBytes, MediaTypes.OCI_INDEX);

        String name = registry.host() + "/berth/multi:v1";
        ok("pull", name);
        JsonNode i = inspect(name);
        String host = Platform.host().architecture();
        assertThat(i.get("Architecture").asString()).isEqualTo(host);
        assertThat(i.get("Id").asString()).isEqualTo(Digest.sha256(host.equals("arm64") ? arm.configBytes() : amd.configBytes()).toString());
        assertThat(i.get("RepoDigests").toString()).contains(indexDigest.toString());

        String other = host.equals("arm64") ? "amd64" : "arm64";
        ok("pull", "--platform", "linux/" + other, name);
        assertThat(inspect(name).get("Architecture").asString()).isEqualTo(other);
        ok("rmi", "-f", Digest.sha256(amd.configBytes()).toString());
        ok("rmi", "-f", Digest.sha256(arm.configBytes()).toString());
    }

    record Descriptorish(Digest digest, long size) {}

    /** Pushes an image with uncompressed OCI layers straight through the registry client; a null tag pushes by digest. */
    static Descriptorish pushRaw(RepositoryRef repo, String tag, byte[] config, List<TestImages.Layer> layers) throws IOException {
        List<Map<String, Object>> ls = new ArrayList<>();
        for (TestImages.Layer l : layers) {
            if (!client.blobExists(repo, l.diffId())) client.uploadBlob(repo, l.diffId(), l.size(), BlobSource.ofFile(l.tar()), null);
            ls.add(Map.of("mediaType", MediaTypes.OCI_LAYER, "digest", l.diffId().toString(), "size", l.size()));
        }
        Digest configDigest = Digest.sha256(config);
        client.uploadBlob(repo, configDigest, config.length, BlobSource.ofBytes(config), null);
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.put("config", Map.of("mediaType", MediaTypes.OCI_CONFIG, "digest", configDigest.toString(), "size", config.length));
        manifest.put("layers", ls);
        byte[] bytes = JSON.writeValueAsBytes(manifest);
        Digest d = Digest.sha256(bytes);
        client.putManifest(repo, tag == null ? d.toString() : tag, bytes, MediaTypes.OCI_MANIFEST);
        return new Descriptorish(d, bytes.length);
    }

    @Test
    void twoConcurrentPullsDownloadASharedLayerOnce() throws Exception {
        TestImages.Layer base = TestImages.randomLayer(tmp.resolve("base.tar"), "data/base", 24_000_000, 7);
        TestImages.Layer one = TestImages.randomLayer(tmp.resolve("one.tar"), "data/one", 1_000, 8);
        TestImages.Layer two = TestImages.randomLayer(tmp.resolve("two.tar"), "data/two", 1_000, 9);
        TestImages.Builder a = TestImages.empty().layer(base).layer(one);
        TestImages.Builder b = TestImages.empty().layer(base).layer(two);
        pushRaw(new RepositoryRef(registry.host(), "berth/shared-a"), "v1", a.configBytes(), a.layers());
        pushRaw(new RepositoryRef(registry.host(), "berth/shared-b"), "v1", b.configBytes(), b.layers());
        int before = registry.blobGets(base.diffId().toString());

        Process p1 = docker.start("pull", registry.host() + "/berth/shared-a:v1");
        Process p2 = docker.start("pull", registry.host() + "/berth/shared-b:v1");
        p1.getOutputStream().close();
        p2.getOutputStream().close();
        String out1 = new String(p1.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String out2 = new String(p2.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p1.waitFor()).as(out1 + new String(p1.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        assertThat(p2.waitFor()).as(out2 + new String(p2.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        assertThat(registry.blobGets(base.diffId().toString()) - before).isEqualTo(1);
        assertThat(inspect(registry.host() + "/berth/shared-a:v1").get("Id").asString()).isEqualTo(Digest.sha256(a.configBytes()).toString());
        assertThat(inspect(registry.host() + "/berth/shared-b:v1").get("Id").asString()).isEqualTo(Digest.sha256(b.configBytes()).toString());
        // the shared layer is unpacked once: both images stand on the same lower directory
        String lowerA = inspect(registry.host() + "/berth/shared-a:v1").get("GraphDriver").get("Data").get("LowerDir").asString();
        String lowerB = inspect(registry.host() + "/berth/shared-b:v1").get("GraphDriver").get("Data").get("LowerDir").asString();
        assertThat(lowerA).isEqualTo(lowerB);
        ok("rmi", registry.host() + "/berth/shared-a:v1");
        // the shared layer stays while the other image uses it
        assertThat(Path.of(lowerB).resolve("data/base")).exists();
        ok("rmi", registry.host() + "/berth/shared-b:v1");
        assertThat(Path.of(lowerB)).doesNotExist();
    }

    @Test
    void loginToAnAuthenticatingRegistry() throws Exception {
        try (RegistryProcess secure = RegistryProcess.start("alice", "s3cret")) {
            DockerCli.Result wrong = docker.run("login", "-u", "alice", "-p", "wrong", secure.host());
            assertThat(wrong.exitCode()).isEqualTo(1);
            assertThat(wrong.stderr()).contains("unauthorized");
            assertThat(ok("login", "-u", "alice", "-p", "s3cret", secure.host()).stdout()).contains("Login Succeeded");

            TestImages.Built b = TestImages.busybox().tag(secure.host() + "/private/bb:v1").label("private", "1").writeTo(tmp.resolve("p.tar"));
            ok("load", "-i", b.archive().toString());
            assertThat(ok("push", secure.host() + "/private/bb:v1").stdout()).contains("v1: digest: sha256:");
            ok("rmi", secure.host() + "/private/bb:v1");
            ok("pull", secure.host() + "/private/bb:v1");
            assertThat(inspect(secure.host() + "/private/bb:v1").get("Id").asString()).isEqualTo(b.imageId().toString());

            ok("logout", secure.host());
            ok("rmi", secure.host() + "/private/bb:v1");
            DockerCli.Result anonymous = docker.run("pull", secure.host() + "/private/bb:v1");
            assertThat(anonymous.exitCode()).isEqualTo(1);
            assertThat(anonymous.stderr()).contains("unauthorized");
        }
    }

    @Test
    void pruneRemovesDanglingImages() throws Exception {
        TestImages.Built old = TestImages.busybox().tag("bb-prune:1").label("v", "old").writeTo(tmp.resolve("old.tar"));
        TestImages.Built now = TestImages.busybox().tag("bb-prune:1").label("v", "new").writeTo(tmp.resolve("new.tar"));
        ok("load", "-i", old.archive().toString());
        ok("load", "-i", now.archive().toString());
        assertThat(ok("images", "-q", "--no-trunc", "--filter", "dangling=true").stdout()).contains(old.imageId().toString());
        assertThat(ok("images", "--format", "{{.ID}}", "--filter", "reference=bb-prune").stdout().strip())
                .isEqualTo(now.imageId().hex().substring(0, 12));
        assertThat(ok("images", "--format", "{{.ID}}", "--filter", "label=v=new").stdout()).contains(now.imageId().hex().substring(0, 12));
        DockerCli.Result prune = ok("image", "prune", "-f");
        assertThat(prune.stdout()).contains("deleted: " + old.imageId());
        assertThat(ok("images", "-q", "--no-trunc").stdout()).doesNotContain(old.imageId().toString()).contains(now.imageId().toString());
        ok("rmi", "bb-prune:1");
    }
}
