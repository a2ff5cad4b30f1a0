package io.berth.grpc;

import io.grpc.ServerMethodDefinition;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gRPC server on a unix socket: HTTP/2 of our own ({@link Http2Connection}) under grpc-java's
 * call API, so the generated services and stubs run unchanged. grpc-java's own server (grpc-core
 * and Netty's epoll transport, about 1,000 classes) cost an idle daemon 20 MiB once loaded; this
 * one is a few dozen classes on the JDK's unix channels. Each connection is read by a virtual
 * thread and each call runs on one, since CRI calls block on containers, mounts and pulls.
 * Unary and server-streaming methods (all the CRI has): a call starts once its request is whole.
 *
 * <p>The services are made on the first connection: a node whose kubelet never comes pays for
 * neither them nor their message classes.
 */
public final class GrpcServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GrpcServer.class);
    private static final Duration DRAIN = Duration.ofSeconds(2);

    /** Makes the services to serve, once, when the first client connects. */
    public interface Services {
        List<GeneratedService> start() throws IOException;
    }

    private final Path socket;
    private final ServerSocketChannel listener;
    private final Services services;
    private final int maxMessageSize;
    private final Set<Http2Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong served = new AtomicLong();
    /** Calls whose handlers are running: a closing server gives them a moment to answer. */
    private final AtomicInteger running = new AtomicInteger();
    private volatile List<GeneratedService> started;
    /** Methods bound so far, by full name ({@link GeneratedService} binds each at its first call). */
    private final Map<String, ServerMethodDefinition<?, ?>> methods = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private GrpcServer(Path socket, ServerSocketChannel listener, Services services, int maxMessageSize) {
        this.socket = socket;
        this.listener = listener;
        this.services = services;
        this.maxMessageSize = maxMessageSize;
    }

    /** Binds {@code socket} (mode 0600: root only) and serves it; messages above {@code maxMessageSize} are refused. */
    public static GrpcServer listen(Path socket, int maxMessageSize, Services services) throws IOException {
        Files.createDirectories(socket.getParent());
        // A socket left by a daemon that died: the exec root's lock proves nobody serves it now.
        Files.deleteIfExists(socket);
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            listener.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            listener.close();
            Files.deleteIfExists(socket);
            throw e;
        }
        GrpcServer server = new GrpcServer(socket, listener, services, maxMessageSize);
        Thread.ofVirtual().name("grpc-accept").start(server::acceptLoop);
        return server;
    }

    public Path socket() {
        return socket;
    }

    /** How many calls have come in so far. */
    public long callsServed() {
        return served.get();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel client;
            try {
                client = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) LOG.warn("gRPC socket {}: accept failed: {}", socket, e.toString());
                continue;
            }
            Thread.ofVirtual().name("grpc-connection").start(() -> serve(client));
        }
    }

    private void serve(SocketChannel client) {
        List<GeneratedService> table;
        try {
            table = services();
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot start the gRPC services on {}: {}", socket, e.toString(), e);
            try {
                client.close();
            } catch (IOException ignored) {
                // closed either way
            }
            return;
        }
        Http2Connection connection = new Http2Connection(client, new GrpcCall.Opener(name -> method(table, name), maxMessageSize, served, running));
        connections.add(connection);
        try {
            if (closed) connection.shutdown();
            else connection.serve();
        } finally {
            connections.remove(connection);
        }
    }

    private List<GeneratedService> services() throws IOException {
        List<GeneratedService> made = started;
        if (made != null) return made;
        synchronized (this) {
            if (started == null) started = List.copyOf(services.start());
            return started;
        }
    }

    private ServerMethodDefinition<?, ?> method(List<GeneratedService> table, String fullName) {
        ServerMethodDefinition<?, ?> known = methods.get(fullName);
        if (known != null) return known;
        for (GeneratedService service : table) {
            ServerMethodDefinition<?, ?> bound = service.bind(fullName);
            if (bound != null) {
                ServerMethodDefinition<?, ?> raced = methods.putIfAbsent(fullName, bound);
                return raced != null ? raced : bound;
            }
        }
        return null;
    }

    /**
     * Stops listening, tells every client to open no more streams, gives the calls running up to
     * {@link #DRAIN} to answer, then ends the connections (calls still running find their streams gone).
     */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closed either way
        }
        for (Http2Connection c : List.copyOf(connections)) c.drain();
        long deadline = System.nanoTime() + DRAIN.toNanos();
        try {
            while (running.get() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Http2Connection c : List.copyOf(connections)) c.shutdown();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // the next start removes it
        }
    }
}
