package io.berth.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Failures a real berthd must answer with a status line and a message, never an empty reply:
 * an engine IOException, a malformed chunked body, an oversized JSON body, an Error inside a
 * route. Needs root (the daemon's data root) and the docker CLI.
 */
class ApiFailuresTest {
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start() throws Exception {
        daemon = BerthdProcess.start();
        docker = daemon.docker();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
    }

    /** Sends {@code request} and reads until the daemon closes; fails if it holds the connection past the limit. */
    static String exchange(byte[] request, Duration limit) throws Exception {
        try (SocketChannel ch = daemon.connect()) {
            CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    InputStream in = Channels.newInputStream(ch);
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "IOException: " + e.getMessage();
                }
            });
            ByteBuffer b = ByteBuffer.wrap(request);
            try {
                while (b.hasRemaining()) ch.write(b);
            } catch (IOException refusedEarly) {
                // the daemon answered and closed before taking the whole body: read what it said
            }
            return answer.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    static String exchange(String request) throws Exception {
        return exchange(request.getBytes(StandardCharsets.ISO_8859_1), Duration.ofSeconds(10));
    }

    @Test
    void volumeCreateOnADataRootThatCannotBeWrittenIsA500WithTheCause() throws Exception {
        Path volumes = daemon.dataRoot().resolve("volumes");
        Path aside = daemon.dataRoot().resolve("volumes.aside");
        Files.move(volumes, aside);
        Files.writeString(volumes, "not a directory"); // every write under volumes/ now fails with ENOTDIR
        try {
            String body = "{\"Name\":\"cannot-write\"}";
            String answer = exchange("POST /v1.41/volumes/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
            assertThat(answer).startsWith("HTTP/1.1 500 ").contains("\"message\":").contains("cannot-write");
            DockerCli.Result cli = docker.run("volume", "create", "cannot-write-either");
            assertThat(cli.exitCode()).isNotZero();
            assertThat(cli.stderr()).contains("Error response from daemon").contains("cannot-write-either");
            assertThat(daemon.log()).contains("WARN").contains("POST /v1.41/volumes/create failed");
        } finally {
            Files.delete(volumes);
            Files.move(aside, volumes);
        }
        assertThat(docker.run("volume", "create", "fine-again").exitCode()).isZero();
        assertThat(docker.run("volume", "rm", "fine-again").exitCode()).isZero();
    }

    @Test
    void malformedChunkedBodyIsA400AndTheConnectionIsClosed() throws Exception {
        // Keep-alive, and the client never closes its side: the daemon must close.
        String answer = exchange("POST /v1.41/containers/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\nnot-hex\r\n");
        assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("Connection: close")
                .contains("malformed chunked encoding");
    }

    @Test
    void aJsonBodyOverTheCapIsRefusedBeforeItIsRead() throws Exception {
        long size = 100L << 20; // declared, never sent: the answer must not wait for it
        String answer = exchange("POST /v1.41/volumes/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + size + "\r\n\r\n{\"Name\":\"");
        assertThat(answer).startsWith("HTTP/1.1 413 ").contains("request body too large").contains("16 MiB");
    }

    @Test
    void aChunkedJsonBodyOverTheCapIsRefusedToo() throws Exception {
        StringBuilder request = new StringBuilder("POST /v1.41/networks/create HTTP/1.1\r\nHost: berth\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        String chunk = "a".repeat(1 << 20);
        for (int i = 0; i < 17; i++) request.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        request.append("0\r\n\r\n");
        String answer = exchange(request.toString().getBytes(StandardCharsets.ISO_8859_1), Duration.ofSeconds(20));
        assertThat(answer).startsWith("HTTP/1.1 413 ").contains("request body too large");
    }

    @Test
    void aBadJsonBodyUnderTheCapIsStillA400() throws Exception {
        String body = "{\"Name\": oops}";
        String answer = exchange("POST /v1.41/volumes/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
        assertThat(answer).startsWith("HTTP/1.1 400 ").contains("malformed JSON in request body");
    }

    @Test
    void aStackOverflowInsideARouteIsAnsweredNotAnEmptyReply() throws Exception {
        // 20,000 nested ${a:-...} in a Dockerfile: the expansion once overflowed the stack and the
        // client got an empty reply. Whatever the builder does with it, the request gets an answer.
        Path context = Files.createTempDirectory(daemon.dir(), "deep-build");
        String deep = "${a:-".repeat(20_000) + "x" + "}".repeat(20_000);
        Files.writeString(context.resolve("Dockerfile"), "FROM scratch\nENV b=" + deep + "\n");
        DockerCli.Result build = docker.withEnv(java.util.Map.of("DOCKER_BUILDKIT", "0"))
                .run(Duration.ofSeconds(60), "build", "-q", context.toString());
        assertThat(build.exitCode()).isNotZero();
        assertThat(build.stderr()).contains("Error response from daemon").doesNotContain("EOF").doesNotContain("connection reset").isNotBlank();
        assertThat(daemon.httpGet("/_ping")).startsWith("HTTP/1.1 200"); // the daemon lives on
    }
}
