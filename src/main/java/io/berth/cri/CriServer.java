package io.berth.cri;

import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The CRI's gRPC endpoint on a unix socket. Netty's epoll transport carries it (the JDK's
 * unix channels have no gRPC server); one event loop thread moves bytes, and every call runs
 * on a virtual thread, since CRI calls block on containers, mounts and pulls.
 */
public final class CriServer implements AutoCloseable {
    private volatile Path socket;
    private final Server server;
    private final EventLoopGroup loop;
    private final ExecutorService calls;
    private final AtomicLong served;

    private CriServer(Path socket, Server server, EventLoopGroup loop, ExecutorService calls, AtomicLong served) {
        this.socket = socket;
        this.server = server;
        this.loop = loop;
        this.calls = calls;
        this.served = served;
    }

    /** Binds the socket (root only, 0600) and starts answering the given services. */
    public static CriServer start(Path socket, List<BindableService> services) throws IOException {
        // gRPC asks every accepted connection for SO_KEEPALIVE, which a unix socket has not:
        // Netty would warn once per connection (kubelet connects often). Read by slf4j-simple
        // when the logger is made, so it is set before Netty's first class loads.
        System.setProperty("org.slf4j.simpleLogger.log.io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap", "error");
        // Netty would otherwise start JFR's and the management beans' classes (about 140 of them, 2-5 MB
        // of the CRI's footprint) to offer JFR events and to read -XX:MaxDirectMemorySize from the JVM's
        // arguments; berthd uses neither, and its buffers are few and small.
        setIfAbsent("io.grpc.netty.shaded.io.netty.jfr.enabled", "false");
        setIfAbsent("io.grpc.netty.shaded.io.netty.maxDirectMemory", "0");
        Files.createDirectories(socket.getParent());
        // A socket left by a daemon that died: the exec root's lock proves nobody serves it now.
        Files.deleteIfExists(socket);
        EventLoopGroup loop = new EpollEventLoopGroup(1, Thread.ofPlatform().name("cri-io").daemon().factory());
        ExecutorService calls = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("cri-call-", 0).factory());
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(loop)
                .workerEventLoopGroup(loop)
                .executor(calls)
                // Image lists and container lists of a busy node exceed gRPC's 4 MiB default, as containerd allows.
                .maxInboundMessageSize(16 << 20);
        // counted so that the daemon knows a burst of CRI calls from an idle spell and gives memory back after it
        AtomicLong served = new AtomicLong();
        ServerInterceptor count = new ServerInterceptor() {
            @Override
            public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call, io.grpc.Metadata headers,
                                                                     io.grpc.ServerCallHandler<Q, A> next) {
                served.incrementAndGet();
                return next.startCall(call, headers);
            }
        };
        for (BindableService s : services) builder.addService(ServerInterceptors.intercept(s, count));
        Server server = builder.build();
        try {
            server.start();
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            server.shutdownNow();
            loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            calls.shutdownNow();
            Files.deleteIfExists(socket);
            throw e instanceof IOException io ? io : new IOException("cannot serve the CRI on " + socket + ": " + e.getMessage(), e);
        }
        return new CriServer(socket, server, loop, calls, served);
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) System.setProperty(property, value);
    }

    public Path socket() {
        return socket;
    }

    /**
     * Moves the listening socket's file to {@code path} (rename is atomic: a client connecting
     * there meets either the old listener or this one, never nothing).
     */
    public void moveTo(Path path) throws IOException {
        Files.move(socket, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        socket = path;
    }

    /** How many calls have come in so far. */
    public long callsServed() {
        return served.get();
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(2, TimeUnit.SECONDS)) server.shutdownNow();
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        calls.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // the next start removes it
        }
    }
}
