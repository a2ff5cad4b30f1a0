package io.berth.api;

import io.berth.api.http.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Docker's JSON message stream ({@code application/json}, one message a line, CRLF ended),
 * started lazily at its first message: an operation that fails before it is answered as a
 * plain API error, as dockerd does; after that, errors go into the stream as
 * {@code errorDetail}. A client that left is noticed once and the rest is dropped (the
 * operation goes on to its end). Pull, push, load and build progress all use it.
 */
final class JsonStream {
    private final HttpExchange exchange;
    private OutputStream out;
    private boolean gone;

    JsonStream(HttpExchange exchange) {
        this.exchange = exchange;
    }

    synchronized boolean started() {
        return out != null;
    }

    /** Commits the stream if nothing was written yet (an operation that ends without a message). */
    synchronized void start() throws IOException {
        if (out == null) out = exchange.startStream(200, "application/json");
    }

    /** Writes one message (a map or record Jackson can write) and flushes it. */
    synchronized void write(Object message) {
        if (gone) return;
        try {
            if (out == null) out = exchange.startStream(200, "application/json");
            byte[] json = Json.bytes(message);
            byte[] line = new byte[json.length + 2];
            System.arraycopy(json, 0, line, 0, json.length);
            line[json.length] = '\r';
            line[json.length + 1] = '\n';
            out.write(line);
            out.flush();
        } catch (IOException e) {
            gone = true;
        }
    }

    /** The error line the CLI prints before it exits 1; {@code code} (a RUN's exit status) goes in errorDetail unless 0. */
    synchronized void error(String message, int code) {
        Map<String, Object> detail = new LinkedHashMap<>();
        if (code != 0) detail.put("code", code);
        detail.put("message", message);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("errorDetail", detail);
        m.put("error", message);
        write(m);
    }

    /** Starts the stream if need be and ends it (the last chunk goes out now, before the handler returns). */
    synchronized void end() throws IOException {
        start();
        if (gone) return;
        try {
            out.close();
        } catch (IOException e) {
            gone = true;
        }
    }
}
