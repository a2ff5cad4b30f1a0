package io.berth.api;

import io.berth.api.http.HttpExchange;
import io.berth.engine.Progress;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Docker's JSON progress stream ({@code application/json}, one message a line), started
 * lazily: an operation that fails before its first message is answered as a plain API error,
 * as dockerd does; after that, errors go into the stream as {@code errorDetail}.
 */
final class JsonProgress implements Progress.Sink {
    private static final int BAR = 50;
    private final JsonStream stream;

    JsonProgress(HttpExchange exchange) {
        this.stream = new JsonStream(exchange);
    }

    boolean started() {
        return stream.started();
    }

    /** Commits the stream if nothing was written yet (an operation that ends without a message). */
    void start() throws IOException {
        stream.start();
    }

    @Override
    public void emit(Progress p) {
        stream.write(message(p));
    }

    /** The error line the CLI prints before it exits 1. */
    void error(String message) {
        stream.error(message, 0);
    }

    static Map<String, Object> message(Progress p) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (p) {
            case Progress.Status s -> {
                m.put("status", s.status());
                if (s.id() != null) {
                    m.put("progressDetail", Map.of());
                    m.put("id", s.id());
                }
            }
            case Progress.Bytes b -> {
                m.put("status", b.status());
                Map<String, Object> detail = new LinkedHashMap<>();
                detail.put("current", b.current());
                if (b.total() > 0) detail.put("total", b.total());
                m.put("progressDetail", detail);
                m.put("progress", bar(b.current(), b.total()));
                m.put("id", b.id());
            }
            case Progress.Text t -> m.put("stream", t.text());
            case Progress.Pushed x -> {
                m.put("progressDetail", Map.of());
                Map<String, Object> aux = new LinkedHashMap<>();
                aux.put("Tag", x.tag());
                aux.put("Digest", x.digest().toString());
                aux.put("Size", x.size());
                m.put("aux", aux);
            }
        }
        return m;
    }

    /** {@code [=====>          ]  1.05MB/2.1MB}, as Docker's daemon renders it. */
    static String bar(long current, long total) {
        if (total <= 0) return String.format("%8s", humanSize(current));
        int n = (int) Math.min(BAR, BAR * current / total);
        String box = "[" + "=".repeat(n) + (n < BAR ? ">" + " ".repeat(BAR - n - 1) : "") + "] ";
        return box + String.format("%8s/%s", humanSize(current), humanSize(total));
    }

    /** Decimal units with three significant digits, as Docker's go-units HumanSize: 1.05MB, 525kB. */
    static String humanSize(double size) {
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB"};
        int i = 0;
        while (size >= 1000 && i < units.length - 1) {
            size /= 1000;
            i++;
        }
        BigDecimal d = new BigDecimal(size).round(new MathContext(3)).stripTrailingZeros();
        return d.toPlainString() + units[i];
    }
}
