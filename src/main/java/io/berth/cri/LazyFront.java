package io.berth.cri;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CRI socket as the world sees it, served by the JDK until someone connects. gRPC and
 * Netty cost a daemon about 15 MB of idle memory once loaded, which a Docker-only node never
 * needs; so the public socket is a plain unix listener, and the first connection starts the
 * gRPC server on a private socket beside it, which is then renamed over the public one. The
 * connections accepted before are relayed byte for byte (HTTP/2 passes through untouched);
 * every later one reaches gRPC directly (a relayed call cost crictl 10-15 ms more).
 */
final class LazyFront implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LazyFront.class);

    /** Starts the real server on first need; returns its socket. */
    interface Backend {
        Path start() throws IOException;
    }

    private final Path socket;
    private final ServerSocketChannel listener;
    private final Backend backend;
    private Path backendSocket;
    private volatile boolean closed;
    /** The socket's path is gRPC's own now (its listener was moved over it); this one is only for connections accepted before. */
    private volatile boolean handedOver;

    private LazyFront(Path socket, ServerSocketChannel listener, Backend backend) {
        this.socket = socket;
        this.listener = listener;
        this.backend = backend;
    }

    static LazyFront listen(Path socket, Backend backend) throws IOException {
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
        LazyFront front = new LazyFront(socket, listener, backend);
        Thread.ofVirtual().name("cri-accept").start(front::acceptLoop);
        return front;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel client;
            try {
                client = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) LOG.warn("CRI socket {}: accept failed: {}", socket, e.toString());
                continue;
            }
            Thread.ofVirtual().name("cri-relay").start(() -> relay(client));
        }
    }

    private synchronized Path backend() throws IOException {
        if (backendSocket == null) backendSocket = backend.start();
        return backendSocket;
    }

    private void relay(SocketChannel client) {
        try (client; SocketChannel server = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.connect(UnixDomainSocketAddress.of(backend()));
            Thread up = Thread.ofVirtual().name("cri-relay-up").start(() -> copy(client, server));
            copy(server, client);
            up.join();
        } catch (IOException e) {
            if (!closed) LOG.warn("CRI connection: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Copies until the source ends, then half-closes the destination so the end reaches the other side. */
    private static void copy(SocketChannel from, SocketChannel to) {
        try {
            InputStream in = Channels.newInputStream(from);
            OutputStream out = Channels.newOutputStream(to);
            in.transferTo(out);
            to.shutdownOutput();
        } catch (IOException e) {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // both gone
            }
        }
    }

    Path socket() {
        return socket;
    }

    /** gRPC's listener now sits at the socket's path: it is no longer this front's to delete. */
    void handedOver() {
        handedOver = true;
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
            if (!handedOver) Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // the next start removes it
        }
    }
}
