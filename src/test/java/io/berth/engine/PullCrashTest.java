package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.content.Digest;
import io.berth.registry.RepositoryRef;
import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.RegistryProcess;
import io.berth.testing.TestImages;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** kill -9 of the daemon in the middle of a pull; after a restart the same pull succeeds with the right content. */
class PullCrashTest {
    @TempDir Path tmp;

    @Test
    void pullKilledMidwayThenPulledAgain() throws Exception {
        long perLayer = 60_000_000;
        List<TestImages.Layer> layers = List.of(
                TestImages.randomLayer(tmp.resolve("l0.tar"), "data/blob0", perLayer, 100),
                TestImages.randomLayer(tmp.resolve("l1.tar"), "data/blob1", perLayer, 101),
                TestImages.randomLayer(tmp.resolve("l2.tar"), "data/blob2", perLayer, 102));
        TestImages.Builder image = TestImages.empty();
        layers.forEach(image::layer);
        Path dir = Files.createTempDirectory("berthd-crash");
        BerthdProcess first = null;
        BerthdProcess second = null;
        try (RegistryProcess registry = RegistryProcess.start()) {
            ImagesDockerCliTest.pushRaw(new RepositoryRef(registry.host(), "berth/big"), "v1", image.configBytes(), image.layers());
            String name = registry.host() + "/berth/big:v1";

            first = BerthdProcess.start(dir);
            DockerCli docker = first.docker();
            Process pull = docker.start("pull", name);
            pull.getOutputStream().close();
            Path ingest = first.dataRoot().resolve("content/ingest");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (largestIngest(ingest) < 5_000_000 && System.nanoTime() < deadline && pull.isAlive()) Thread.sleep(5);
            assertThat(pull.isAlive()).as("the pull ended before it could be interrupted").isTrue();
            first.signal("KILL");
            first.process().waitFor();
            pull.waitFor();
            assertThat(pull.exitValue()).isNotZero();

            second = BerthdProcess.start(dir);
            DockerCli.Result again = second.docker().run(Duration.ofSeconds(180), "pull", name);
            assertThat(again.exitCode()).as(again + second.log()).isZero();
            JsonNode i = ImagesDockerCliTest.JSON.readTree(second.docker().run("image", "inspect", name).stdout()).get(0);
            assertThat(i.get("Id").asString()).isEqualTo(Digest.sha256(image.configBytes()).toString());

            // every file unpacked is byte for byte what was pushed
            for (int n = 0; n < layers.size(); n++) {
                Path file = findFile(second.dataRoot().resolve("snapshots"), "blob" + n).orElseThrow();
                assertThat(Files.size(file)).isEqualTo(perLayer);
                assertThat(sha256(file)).isEqualTo(expected(perLayer, 100 + n));
            }
            assertThat(ImagesDockerCliTest.count(second.dataRoot().resolve("content/ingest"))).isZero();
            // the interrupted download resumed where it stopped (a ranged GET answered 206)
            assertThat(registry.log()).containsPattern("\"GET /v2/berth/big/blobs/sha256:[a-f0-9]{64} HTTP/1\\.1\" 206");
        } finally {
            if (first != null && first.process().isAlive()) first.stop();
            if (second != null) second.close();
            else BerthdProcess.deleteTree(dir);
        }
    }

    private static long largestIngest(Path ingest) {
        long max = 0;
        try (var dirs = Files.newDirectoryStream(ingest)) {
            for (Path d : dirs) {
                try {
                    max = Math.max(max, Files.size(d.resolve("data")));
                } catch (java.io.IOException gone) {
                    // not written yet, or committed meanwhile
                }
            }
        } catch (java.io.IOException | java.nio.file.DirectoryIteratorException notYet) {
            return 0;
        }
        return max;
    }

    private static Optional<Path> findFile(Path root, String name) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().equals(name) && p.toString().contains("/diff/")).findFirst();
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = Digest.newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return Digest.ofSha256(md).toString();
    }

    private static String expected(long bytes, long seed) throws Exception {
        MessageDigest md = Digest.newSha256();
        try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), md)) {
            TestImages.writeRandom(out, bytes, seed);
        }
        return Digest.ofSha256(md).toString();
    }

    static String text(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
