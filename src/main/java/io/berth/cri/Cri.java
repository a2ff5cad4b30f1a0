package io.berth.cri;

import io.berth.cri.stream.StreamServer;
import io.berth.cri.v1.ImageServiceGrpc;
import io.berth.cri.v1.RuntimeServiceGrpc;
import io.berth.engine.Engine;
import io.berth.grpc.GeneratedService;
import io.berth.grpc.GrpcServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/** Berth as a Kubernetes runtime: the CRI's two services on one socket, over the engine. */
public final class Cri implements AutoCloseable {
    /** Image lists and container lists of a busy node exceed gRPC's usual 4 MiB, as containerd allows. */
    private static final int MAX_MESSAGE = 16 << 20;

    private final GrpcServer server;
    private volatile StreamServer streams;

    private Cri(GrpcServer server) {
        this.server = server;
    }

    /**
     * Serves the CRI for {@code pods} (opened by the daemon before networking is reconciled,
     * so pods' namespaces count as live whether or not the CRI is on).
     */
    public static Cri serve(Path socket, Engine engine, Pods pods) throws IOException {
        Cri[] self = new Cri[1];
        // the services, and the streaming server, start with the first connection, on a socket only root can reach
        GrpcServer server = GrpcServer.listen(socket, MAX_MESSAGE, () -> {
            // exec, attach and port-forward URLs point here: loopback only, any free port, as kubelet's own
            StreamServer streams = StreamServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), new CriStreams(engine, pods));
            self[0].streams = streams;
            return List.of(GeneratedService.of(RuntimeServiceGrpc.class, new CriRuntime(engine, pods, new PodContainers(engine, pods), streams)),
                    GeneratedService.of(ImageServiceGrpc.class, new CriImages(engine.images())));
        });
        self[0] = new Cri(server);
        return self[0];
    }

    public Path socket() {
        return server.socket();
    }

    /** How many CRI calls have come in. */
    public long callsServed() {
        return server.callsServed();
    }

    @Override
    public void close() {
        server.close();
        StreamServer st = streams;
        if (st != null) st.close();
    }
}
