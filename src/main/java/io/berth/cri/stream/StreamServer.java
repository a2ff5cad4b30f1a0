package io.berth.cri.stream;

import io.berth.api.http.HttpExchange;
import io.berth.api.http.HttpRequest;
import io.berth.api.http.HttpServer;
import io.berth.api.http.Listener;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CRI's streaming server. Exec, Attach and PortForward are not answered over gRPC: the
 * runtime answers a URL with a one-time token, and the client (kubelet's proxy, kubectl
 * through it, crictl) upgrades an HTTP request to that URL to SPDY/3.1 and speaks
 * Kubernetes' remote-command or port-forward protocol on its streams. The URL names a
 * loopback port: only this node reaches it, as kubelet does.
 */
public final class StreamServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(StreamServer.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** How long a URL can be used, as kubelet's streaming server allows. */
    static final Duration TOKEN_TTL = Duration.ofMinutes(1);
    /** How long the client has to open the streams it announced. */
    static final Duration STREAMS_TIMEOUT = Duration.ofSeconds(30);
    static final String SPDY = "SPDY/3.1";
    static final String PORT_FORWARD_PROTOCOL = "portforward.k8s.io";
    /** The remote-command versions we speak, newest first; v5 differs from v4 only over WebSockets. */
    static final List<String> REMOTE_COMMAND_PROTOCOLS = List.of("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io",
            "v2.channel.k8s.io");

    /** A request the URL stands for. */
    public sealed interface Request {
        record Exec(String containerId, List<String> command, boolean tty, boolean stdin, boolean stdout, boolean stderr) implements Request {}

        record Attach(String containerId, boolean tty, boolean stdin, boolean stdout, boolean stderr) implements Request {}

        record PortForward(String podId) implements Request {}
    }

    private record Pending(Request request, long expiresAt) {}

    private final HttpServer http;
    private final Listener listener;
    private final String base;
    private final StreamBackend backend;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();

    private StreamServer(Listener listener, StreamBackend backend) {
        this.listener = listener;
        this.backend = backend;
        this.base = listener.address().replaceFirst("^tcp://", "http://");
        this.http = new HttpServer(this::handle);
        http.serve(listener);
    }

    /** Listens on {@code address} (port 0: any free one). */
    public static StreamServer start(InetSocketAddress address, StreamBackend backend) throws IOException {
        return new StreamServer(Listener.tcp(address), backend);
    }

    /** The one-time URL the client upgrades to run {@code request}. */
    public String url(Request request) {
        byte[] b = new byte[24];
        random.nextBytes(b);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        long now = System.nanoTime();
        pending.values().removeIf(p -> p.expiresAt() - now < 0);
        pending.put(token, new Pending(request, now + TOKEN_TTL.toNanos()));
        String kind = switch (request) {
            case Request.Exec e -> "exec";
            case Request.Attach a -> "attach";
            case Request.PortForward p -> "portforward";
        };
        return base + "/" + kind + "/" + token;
    }

    private void handle(HttpRequest req, HttpExchange ex) throws Exception {
        String[] parts = req.path().split("/");
        Pending p = parts.length == 3 ? pending.remove(parts[2]) : null;
        if (p == null || p.expiresAt() - System.nanoTime() < 0) {
            ex.send(404, "text/plain", "unknown or expired streaming URL\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String upgrade = req.header("Upgrade");
        if (upgrade == null || !upgrade.equalsIgnoreCase(SPDY)) {
            ex.send(400, "text/plain", ("this URL is upgraded to " + SPDY + "\n").getBytes(StandardCharsets.UTF_8));
            return;
        }
        List<String> offered = new ArrayList<>();
        String versions = req.header("X-Stream-Protocol-Version");
        if (versions != null) for (String v : versions.split(",")) if (!v.isBlank()) offered.add(v.trim());
        List<String> ours = p.request() instanceof Request.PortForward ? List.of(PORT_FORWARD_PROTOCOL) : REMOTE_COMMAND_PROTOCOLS;
        String chosen = offered.stream().filter(ours::contains).findFirst().orElse(null);
        if (chosen == null) {
            ex.setHeader("X-Accepted-Stream-Protocol-Versions", String.join(",", ours));
            ex.send(403, "text/plain", ("unable to upgrade: unable to negotiate protocol: client supports " + offered
                    + ", server accepts " + ours + "\n").getBytes(StandardCharsets.UTF_8));
            return;
        }
        ex.setHeader("X-Stream-Protocol-Version", chosen);
        HttpExchange.Hijacked conn = ex.upgrade(SPDY);
        try {
            switch (p.request()) {
                case Request.PortForward pf -> portForward(pf, conn);
                case Request request -> remoteCommand(request, versionOf(chosen), conn);
            }
        } finally {
            conn.finish();
        }
    }

    private static int versionOf(String protocol) {
        return Integer.parseInt(protocol.substring(1, protocol.indexOf('.')));
    }

    // ------------------------------------------------------------------ exec and attach

    private void remoteCommand(Request request, int version, HttpExchange.Hijacked conn) throws IOException, InterruptedException {
        boolean tty;
        boolean stdin;
        boolean stdout;
        boolean stderr;
        switch (request) {
            case Request.Exec e -> { tty = e.tty(); stdin = e.stdin(); stdout = e.stdout(); stderr = e.stderr(); }
            case Request.Attach a -> { tty = a.tty(); stdin = a.stdin(); stdout = a.stdout(); stderr = a.stderr(); }
            default -> throw new IllegalStateException();
        }
        // The streams the client opens: error always, the others as asked; with a terminal
        // stderr goes to stdout, and from v3 the size comes on a stream of its own.
        List<String> expected = new ArrayList<>(List.of("error"));
        if (stdin) expected.add("stdin");
        if (stdout) expected.add("stdout");
        if (stderr && !tty) expected.add("stderr");
        if (tty && version >= 3) expected.add("resize");
        Map<String, SpdySession.Stream> streams = new ConcurrentHashMap<>();
        CountDownLatch all = new CountDownLatch(1);
        SpdySession session = new SpdySession(conn.input(), conn.output(), s -> {
            streams.putIfAbsent(s.header("streamType"), s);
            if (streams.keySet().containsAll(expected)) all.countDown();
        });
        Thread reader = Thread.ofVirtual().name("spdy").start(session::serve);
        try {
            if (!all.await(STREAMS_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                log.debug("streaming client opened {} of {}", streams.keySet(), expected);
                return;
            }
            SpdySession.Stream error = streams.get("error");
            SpdySession.Stream resize = streams.get("resize");
            StreamBackend.Streams io = new StreamBackend.Streams(
                    stdin ? streams.get("stdin").input() : null,
                    stdout ? streams.get("stdout").output() : null,
                    stderr && !tty ? streams.get("stderr").output() : null,
                    resize == null ? sizes -> {} : sizes -> readSizes(resize.input(), sizes));
            String failure = null;
            Integer exitCode = null;
            try {
                switch (request) {
                    case Request.Exec e -> exitCode = backend.exec(e.containerId(), e.command(), tty, io);
                    case Request.Attach a -> backend.attach(a.containerId(), tty, io);
                    default -> throw new IllegalStateException();
                }
            } catch (IOException | RuntimeException e) {
                failure = e.getMessage() == null ? e.toString() : e.getMessage();
            }
            for (String name : List.of("stdout", "stderr", "stdin")) {
                SpdySession.Stream s = streams.get(name);
                if (s != null) s.finish();
            }
            byte[] status = status(version, request, exitCode, failure);
            try (OutputStream out = error.output()) {
                if (status.length > 0) out.write(status);
            }
        } finally {
            session.close();
            reader.join(Duration.ofSeconds(5).toMillis());
        }
    }

    /** The error stream's last word: v4 and later a Kubernetes Status object, before that plain text on failure only. */
    static byte[] status(int version, Request request, Integer exitCode, String failure) {
        boolean ok = failure == null && (exitCode == null || exitCode == 0);
        if (version < 4) {
            if (ok) return new byte[0];
            String m = failure != null ? failure : "command terminated with non-zero exit code: exit status " + exitCode;
            return m.getBytes(StandardCharsets.UTF_8);
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("metadata", Map.of());
        if (ok) {
            s.put("status", "Success");
        } else if (failure != null) {
            s.put("status", "Failure");
            s.put("message", failure);
            s.put("reason", "InternalError");
        } else {
            String command = request instanceof Request.Exec e ? String.join(" ", e.command()) : "";
            s.put("status", "Failure");
            s.put("message", "command terminated with non-zero exit code: error executing command [" + command + "], exit code " + exitCode);
            s.put("reason", "NonZeroExitCode");
            s.put("details", Map.of("causes", List.of(Map.of("reason", "ExitCode", "message", Integer.toString(exitCode)))));
        }
        return JSON.writeValueAsBytes(s);
    }

    /** The resize stream: one JSON object {"Width":..,"Height":..} after another. */
    private static void readSizes(InputStream in, Consumer<StreamBackend.TerminalSize> sizes) {
        try (JsonParser p = JSON.createParser(in)) {
            while (p.nextToken() == JsonToken.START_OBJECT) {
                Map<?, ?> m = JSON.readValue(p, Map.class);
                if (m.get("Width") instanceof Number w && m.get("Height") instanceof Number h) {
                    sizes.accept(new StreamBackend.TerminalSize(w.intValue(), h.intValue()));
                }
            }
        } catch (RuntimeException e) {
            log.debug("resize stream ended: {}", e.toString());
        }
    }

    // ------------------------------------------------------------------ port forwarding

    /**
     * Port forwarding: the client opens a pair of streams per connection it forwards (error
     * and data, with the same requestID and the port); each pair is a new TCP connection to
     * that port inside the pod, until the client closes the session.
     */
    private void portForward(Request.PortForward pf, HttpExchange.Hijacked conn) throws InterruptedException {
        Map<String, Map<String, SpdySession.Stream>> pairs = new HashMap<>();
        SpdySession session = new SpdySession(conn.input(), conn.output(), s -> {
            String id = s.header("requestID");
            Map<String, SpdySession.Stream> pair;
            synchronized (pairs) {
                pair = pairs.computeIfAbsent(id, k -> new HashMap<>());
                pair.put(s.header("streamType"), s);
                if (!(pair.containsKey("data") && pair.containsKey("error"))) return;
                pairs.remove(id);
            }
            Thread.ofVirtual().name("port-forward").start(() -> forward(pf.podId(), pair.get("data"), pair.get("error")));
        });
        session.serve(); // until the client closes the connection
    }

    private void forward(String podId, SpdySession.Stream data, SpdySession.Stream error) {
        String portText = data.header("port");
        try (OutputStream errors = error.output()) {
            int port;
            try {
                port = Integer.parseInt(portText);
                if (port <= 0 || port > 65535) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                errors.write(("invalid port \"" + portText + "\"").getBytes(StandardCharsets.UTF_8));
                data.finish();
                return;
            }
            try (SocketChannel target = backend.connect(podId, port)) {
                Thread up = Thread.ofVirtual().name("port-forward-in").start(() -> {
                    // not closed when done: closing a channel's stream closes the channel, cutting off
                    // the answer still on its way back; half-closing tells the target the request ended
                    OutputStream toTarget = Channels.newOutputStream(target);
                    try {
                        data.input().transferTo(toTarget);
                        target.shutdownOutput();
                    } catch (IOException ignored) {
                        // the target went away: the copy the other way notices too
                    }
                });
                try (InputStream fromTarget = Channels.newInputStream(target); OutputStream toClient = data.output()) {
                    fromTarget.transferTo(toClient);
                }
                up.join(Duration.ofSeconds(5).toMillis());
            } catch (IOException e) {
                errors.write(("error forwarding port " + port + " to pod " + podId + ": " + e.getMessage()).getBytes(StandardCharsets.UTF_8));
                data.finish();
            }
        } catch (IOException e) {
            log.debug("port forward to {} ended: {}", podId, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        http.close();
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
