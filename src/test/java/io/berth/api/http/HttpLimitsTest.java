package io.berth.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP layer's answers to hostile or broken clients, over a real unix socket: framing
 * errors close the connection, a late head is cut off, connections are capped, and a
 * handler's failure (an Error, an IOException of its own) still gets a status line.
 */
class HttpLimitsTest {
    private static final Duration HEAD_TIMEOUT = Duration.ofMillis(600);

    Path dir;
    Path socket;
    HttpServer server;
    final List<SocketChannel> clients = new ArrayList<>();

    void start(HttpServer.Limits limits) throws Exception {
        dir = Files.createTempDirectory("http-limits");
        socket = dir.resolve("s.sock");
        server = new HttpServer((request, exchange) -> {
            switch (request.path()) {
                case "/echo" -> exchange.send(200, "application/octet-stream", request.body().readAllBytes());
                case "/overflow" -> throw new StackOverflowError();
                case "/disk" -> throw new IOException("writing /var/lib/berth/volumes/v: No space left on device");
                default -> exchange.send(404, "application/json", HttpServer.errorJson("page not found"));
            }
        }, limits);
        server.serve(Listener.unix(socket));
    }

    @AfterEach
    void stop() throws Exception {
        for (SocketChannel c : clients) c.close();
        if (server != null) server.close();
        if (dir != null) BerthdProcess.deleteTree(dir);
    }

    private SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        clients.add(ch);
        return ch;
    }

    private static void send(SocketChannel ch, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
        while (b.hasRemaining()) ch.write(b);
    }

    /** Everything the server sends until it closes; fails if it has not closed within {@code limit}. */
    private static String readUntilClosed(SocketChannel ch, Duration limit) throws Exception {
        CompletableFuture<String> all = CompletableFuture.supplyAsync(() -> {
            try {
                InputStream in = java.nio.channels.Channels.newInputStream(ch);
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "IOException: " + e.getMessage();
            }
        });
        return all.get(limit.toMillis(), TimeUnit.MILLISECONDS); // TimeoutException: the connection was held open
    }

    /** Reads one whole answer with a Content-Length body, leaving the connection open. */
    private static String readAnswer(SocketChannel ch) throws IOException {
        InputStream in = java.nio.channels.Channels.newInputStream(ch);
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) throw new IOException("closed after " + head);
            head.append((char) c);
        }
        int at = head.indexOf("Content-Length: ");
        int length = Integer.parseInt(head.substring(at + 16, head.indexOf("\r\n", at)));
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Test
    void malformedChunkedBodyIsA400AndTheConnectionCloses() throws Exception {
        start(HttpServer.Limits.DEFAULT);
        SocketChannel ch = connect();
        // A keep-alive request whose chunk size is not hex: the client does not close its side.
        send(ch, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n");
        String answer = readUntilClosed(ch, Duration.ofSeconds(5));
        assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("Connection: close")
                .contains("malformed chunked encoding: bad chunk size \\\"zz\\\"");
    }

    @Test
    void chunkNotEndedByCrlfIsA400Too() throws Exception {
        start(HttpServer.Limits.DEFAULT);
        SocketChannel ch = connect();
        send(ch, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n");
        assertThat(readUntilClosed(ch, Duration.ofSeconds(5))).startsWith("HTTP/1.1 400 ").contains("chunk not followed by CRLF");
    }

    @Test
    void aHeadNotCompleteInTimeIsCutOff() throws Exception {
        start(new HttpServer.Limits(HEAD_TIMEOUT, 100));
        SocketChannel ch = connect();
        long started = System.nanoTime();
        send(ch, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: "); // and then nothing
        String answer = readUntilClosed(ch, Duration.ofSeconds(5));
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertThat(answer).isEmpty();
        assertThat(tookMs).isGreaterThanOrEqualTo(HEAD_TIMEOUT.toMillis() - 50).isLessThan(4000);
    }

    @Test
    void aSilentNewConnectionIsCutOffToo() throws Exception {
        start(new HttpServer.Limits(HEAD_TIMEOUT, 100));
        SocketChannel ch = connect(); // connects and sends nothing at all
        assertThat(readUntilClosed(ch, Duration.ofSeconds(5))).isEmpty();
    }

    @Test
    void theHeadTimeoutBoundsNeitherSlowBodiesNorIdleKeepAlive() throws Exception {
        start(new HttpServer.Limits(HEAD_TIMEOUT, 100));
        SocketChannel ch = connect();
        send(ch, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab");
        Thread.sleep(HEAD_TIMEOUT.toMillis() * 2); // the body is slow: not the head's business
        send(ch, "cd");
        assertThat(readAnswer(ch)).startsWith("HTTP/1.1 200 ").endsWith("abcd");
        Thread.sleep(HEAD_TIMEOUT.toMillis() * 2); // idle between requests: the clock starts at the next byte
        send(ch, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        assertThat(readUntilClosed(ch, Duration.ofSeconds(5))).startsWith("HTTP/1.1 200 ").endsWith("ok");
    }

    @Test
    void connectionsPastTheCapAre503AndTheCountComesBack() throws Exception {
        start(new HttpServer.Limits(Duration.ofSeconds(30), 2));
        SocketChannel first = connect();
        connect();
        String refused = readUntilClosed(connect(), Duration.ofSeconds(5));
        assertThat(refused).startsWith("HTTP/1.1 503 Service Unavailable\r\n").contains("too many open connections")
                .contains("at most 2");
        first.close();
        // Once a slot is free a new client is served again.
        String answer = "";
        for (int i = 0; i < 100 && !answer.startsWith("HTTP/1.1 200"); i++) {
            SocketChannel again = connect();
            send(again, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
            answer = readUntilClosed(again, Duration.ofSeconds(5));
            if (!answer.startsWith("HTTP/1.1 200")) Thread.sleep(20);
        }
        assertThat(answer).startsWith("HTTP/1.1 200").endsWith("hi");
    }

    @Test
    void anErrorInAHandlerIsA500() throws Exception {
        start(HttpServer.Limits.DEFAULT);
        SocketChannel ch = connect();
        send(ch, "GET /overflow HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readUntilClosed(ch, Duration.ofSeconds(5))).startsWith("HTTP/1.1 500 ").contains("StackOverflowError");
    }

    @Test
    void anIOExceptionOfTheHandlerIsNotAClientGoneAndIsA500() throws Exception {
        start(HttpServer.Limits.DEFAULT);
        SocketChannel ch = connect();
        send(ch, "GET /disk HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readUntilClosed(ch, Duration.ofSeconds(5))).startsWith("HTTP/1.1 500 ").contains("No space left on device");
    }

    @Test
    void aClientLeavingMidBodyIsDroppedQuietlyAndTheServerGoesOn() throws Exception {
        start(HttpServer.Limits.DEFAULT);
        SocketChannel gone = connect();
        send(gone, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part");
        gone.close();
        SocketChannel next = connect();
        send(next, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        assertThat(readUntilClosed(next, Duration.ofSeconds(5))).startsWith("HTTP/1.1 200 ").endsWith("ok");
    }

}
