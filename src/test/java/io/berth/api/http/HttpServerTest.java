package io.berth.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP layer by itself: chunked bodies both ways, streaming, and the hijack hand-over. */
class HttpServerTest {
    Path dir;
    Path socket;
    HttpServer server;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("http-test");
        socket = dir.resolve("s.sock");
        server = new HttpServer((request, exchange) -> {
            switch (request.path()) {
                case "/echo" -> {
                    byte[] body = request.body().readAllBytes();
                    exchange.send(200, "application/octet-stream", body);
                }
                case "/stream" -> {
                    OutputStream out = exchange.startStream(200, "application/json");
                    for (int i = 0; i < 3; i++) {
                        out.write(("{\"n\":" + i + "}\n").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                }
                case "/attach" -> {
                    // An echo session over the raw connection: what comes in goes back upper-cased.
                    HttpExchange.Hijacked h = exchange.hijack("application/vnd.docker.raw-stream");
                    InputStream in = h.input();
                    OutputStream out = h.output();
                    int c;
                    while ((c = in.read()) >= 0) {
                        out.write(Character.toUpperCase(c));
                        out.flush();
                    }
                    out.write("\nbye".getBytes(StandardCharsets.US_ASCII));
                    h.closeOutput();
                }
                case "/query" -> exchange.send(200, "text/plain",
                        (request.query("all") + " " + request.queryAll("all")).getBytes(StandardCharsets.UTF_8));
                default -> exchange.send(404, "application/json", HttpServer.errorJson("page not found"));
            }
        });
        server.serve(Listener.unix(socket));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        BerthdProcess.deleteTree(dir);
    }

    private String exchange(String request, boolean halfClose) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            Channels.newOutputStream(ch).write(request.getBytes(StandardCharsets.ISO_8859_1));
            if (halfClose) ch.shutdownOutput();
            return new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void chunkedRequestBodyIsDecoded() throws Exception {
        String answer = exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n", false);
        assertThat(answer).startsWith("HTTP/1.1 200").contains("Content-Length: 12").endsWith("hello, world");
    }

    @Test
    void aRepeatedQueryParameterMeansItsFirstValueAsInDockerd() throws Exception {
        String answer = exchange("GET /query?all=1&all=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
        assertThat(answer).endsWith("1 [1, 0]");
    }

    @Test
    void streamsAreChunkedAndEnded() throws Exception {
        String answer = exchange("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
        assertThat(answer).contains("Transfer-Encoding: chunked").contains("8\r\n{\"n\":0}\n\r\n").endsWith("0\r\n\r\n");
    }

    @Test
    void hijackHandsOverTheRawConnectionWithHalfClose() throws Exception {
        String answer = exchange("POST /attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nstdin data", true);
        assertThat(answer).startsWith("HTTP/1.1 101 UPGRADED\r\n")
                .contains("Content-Type: application/vnd.docker.raw-stream")
                .contains("Upgrade: tcp")
                .endsWith("\r\n\r\nSTDIN DATA\nbye");
    }

    @Test
    void closingTheServerEndsOpenConnections() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            Channels.newOutputStream(ch).write("POST /attach HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = Channels.newInputStream(ch);
            byte[] head = new byte[12];
            assertThat(in.readNBytes(head, 0, 12)).isEqualTo(12);
            assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 101");
            server.close();
            in.readAllBytes(); // returns once the server has closed the connection
        }
        assertThat(Files.exists(socket)).isFalse();
    }
}
