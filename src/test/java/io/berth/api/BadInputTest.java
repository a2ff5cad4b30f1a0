package io.berth.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Hostile and broken requests get clear answers, and the daemon keeps serving after each. */
class BadInputTest {
    static BerthdProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = BerthdProcess.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
    }

    @AfterEach
    void daemonStillServes() throws Exception {
        assertThat(daemon.process().isAlive()).as(daemon.log()).isTrue();
        assertThat(daemon.httpGet("/_ping")).startsWith("HTTP/1.1 200").endsWith("OK");
    }

    @Test
    void unknownEndpointIsAJson404() throws Exception {
        String answer = daemon.httpGet("/v1.41/no/such/thing");
        assertThat(answer).startsWith("HTTP/1.1 404").contains("Content-Type: application/json").contains("{\"message\":\"page not found\"}");
    }

    @Test
    void tooNewAndTooOldVersionsAre400() throws Exception {
        assertThat(daemon.httpGet("/v1.99/version")).startsWith("HTTP/1.1 400")
                .contains("client version 1.99 is too new. Maximum supported API version is 1.41");
        assertThat(daemon.httpGet("/v1.12/version")).startsWith("HTTP/1.1 400")
                .contains("client version 1.12 is too old. Minimum supported API version is 1.24");
        assertThat(daemon.httpGet("/v1.24/version")).startsWith("HTTP/1.1 200");
    }

    @Test
    void malformedJsonNamesTheFault() throws Exception {
        String answer = daemon.httpGet("/events?until=1&filters=%7B%22type%22%3A%5B%22daemon%22");
        assertThat(answer).startsWith("HTTP/1.1 400").contains("invalid filters: malformed JSON").contains("line 1");
    }

    @Test
    void malformedRequestLineIs400() throws Exception {
        assertThat(daemon.raw("THIS IS NOT HTTP\r\n\r\n")).startsWith("HTTP/1.1 400").contains("malformed HTTP request line");
    }

    @Test
    void oversizedHeadersAre431() throws Exception {
        String huge = "X-Filler: " + "a".repeat(2 * 1024 * 1024) + "\r\n";
        try (SocketChannel ch = daemon.connect()) {
            OutputStream out = Channels.newOutputStream(ch);
            // The daemon may answer and close before the whole header is sent; that is fine.
            try {
                out.write(("GET /_ping HTTP/1.1\r\nHost: x\r\n" + huge + "\r\n").getBytes(StandardCharsets.US_ASCII));
            } catch (java.io.IOException closedEarly) {
                // answered already
            }
            InputStream in = Channels.newInputStream(ch);
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 431");
        }
    }

    @Test
    void clientThatDisconnectsMidRequestDoesNoHarm() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (SocketChannel ch = daemon.connect()) {
                OutputStream out = Channels.newOutputStream(ch);
                out.write("POST /v1.41/_ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"half".getBytes(StandardCharsets.US_ASCII));
            }
            try (SocketChannel ch = daemon.connect()) {
                Channels.newOutputStream(ch).write("GET /v1.41/inf".getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void badChunkedBodyIs400() throws Exception {
        String answer = daemon.raw("GET /_ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 400").contains("unsupported Transfer-Encoding");
        String badLength = daemon.raw("GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n");
        assertThat(badLength).startsWith("HTTP/1.1 400").contains("malformed Content-Length");
    }

    @Test
    void keepAliveServesManyRequestsOnOneConnection() throws Exception {
        String three = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2) + "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        String answer = daemon.raw(three);
        assertThat(answer.split("HTTP/1.1 200 OK", -1)).hasSize(4);
        assertThat(answer).contains("\"ApiVersion\":\"1.41\"");
    }
}
