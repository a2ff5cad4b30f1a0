package io.berth.bench;

import io.berth.api.Json;
import io.berth.archive.TarEntry;
import io.berth.archive.TarWriter;
import io.berth.content.Digest;
import io.berth.snapshot.LayerUnpacker;
import io.berth.testing.BerthdProcess;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The engine's hot inner paths, run by `./berth bench --only jmh` (JMH, one fork). Each
 * benchmark handles a fixed amount of data, so MB/s = size / time per operation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class HotPathsBenchmark {
    /** 32 MiB of half-random data: compressible as real layers are, not trivially. */
    static final int DATA = 32 << 20;

    byte[] data;
    byte[] gzipped;
    byte[] layerTar;
    List<Map<String, Object>> containers;
    Path dir;
    int round;

    @Setup(Level.Trial)
    public void prepare() throws IOException {
        Random random = new Random(42);
        data = new byte[DATA];
        for (int i = 0; i < DATA; i += 8192) {
            if ((i / 8192) % 2 == 1) { // every other 8 KiB block random, the rest zeros
                for (int j = i; j < Math.min(DATA, i + 8192); j++) data[j] = (byte) random.nextInt();
            }
        }
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz, 1 << 16)) {
            out.write(data);
        }
        gzipped = gz.toByteArray();
        // A layer of 256 files of 128 KiB in 16 directories.
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(tar)) {
            for (int d = 0; d < 16; d++) {
                w.putEntry(TarEntry.dir("d" + d + "/"));
                for (int f = 0; f < 16; f++) {
                    byte[] content = java.util.Arrays.copyOfRange(data, (d * 16 + f) * 131072, (d * 16 + f + 1) * 131072);
                    w.writeEntry(TarEntry.file("d" + d + "/f" + f, content.length), content);
                }
            }
        }
        layerTar = tar.toByteArray();
        containers = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Map<String, Object> c = new LinkedHashMap<>();
            String id = String.format("%064x", i * 7919L + 1);
            c.put("Id", id);
            c.put("Names", List.of("/container_" + i));
            c.put("Image", "berth/busybox:latest");
            c.put("ImageID", "sha256:" + id);
            c.put("Command", "sleep 1000");
            c.put("Created", 1764100000L + i);
            c.put("Ports", List.of(Map.of("IP", "127.0.0.1", "PrivatePort", 80, "PublicPort", 8000 + i, "Type", "tcp")));
            c.put("Labels", Map.of("com.example.app", "bench", "index", Integer.toString(i)));
            c.put("State", "running");
            c.put("Status", "Up 5 minutes");
            c.put("HostConfig", Map.of("NetworkMode", "bridge"));
            c.put("NetworkSettings", Map.of("Networks", Map.of("bridge", Map.of("IPAddress", "10.89.0." + (i % 250 + 2)))));
            c.put("Mounts", List.of());
            containers.add(c);
        }
        dir = Files.createTempDirectory("berth-jmh");
    }

    @TearDown(Level.Trial)
    public void clean() throws IOException {
        BerthdProcess.deleteTree(dir);
    }

    /** sha256 of 32 MiB, as every blob is hashed on ingest. */
    @Benchmark
    public byte[] digest32MiB() {
        MessageDigest md = Digest.newSha256();
        md.update(data);
        return md.digest();
    }

    /** gunzip of 32 MiB, as every pulled layer is read. */
    @Benchmark
    public long gunzip32MiB() throws IOException {
        long n = 0;
        byte[] buf = new byte[1 << 16];
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped), 1 << 16)) {
            int r;
            while ((r = in.read(buf)) > 0) n += r;
        }
        return n;
    }

    /** Unpacking a 32 MiB layer of 256 files (with its DiffID) into a new snapshot directory. */
    @Benchmark
    public Object unpack32MiBLayer() throws IOException {
        Path target = dir.resolve("layer" + round++);
        Object result = LayerUnpacker.unpack(new ByteArrayInputStream(layerTar), target);
        BerthdProcess.deleteTree(target);
        return result;
    }

    /** The JSON of `docker ps` with 1,000 containers. */
    @Benchmark
    public byte[] json1000Containers() {
        return Json.bytes(containers);
    }
}
