package io.berth.cri;

import io.berth.cri.stream.StreamServer;
import io.berth.engine.Engine;
import io.grpc.BindableService;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/** Berth as a Kubernetes runtime: the CRI's two services on one socket, over the engine. */
public final class Cri implements AutoCloseable {
    private final LazyFront front;
    private volatile CriServer server;
    private volatile StreamServer streams;

    private Cri(LazyFront front) {
        this.front = front;
    }

    /**
     * Serves the CRI for {@code pods} (opened by the daemon before networking is reconciled,
     * so pods' namespaces count as live whether or not the CRI is on).
     */
    public static Cri serve(Path socket, Engine engine, Pods pods) throws IOException {
        Cri[] self = new Cri[1];
        // gRPC itself starts with the first connection (see LazyFront), on a socket only root can reach.
        LazyFront front = LazyFront.listen(socket, () -> {
            // gRPC listens beside the public socket, then takes its place (see CriServer.moveTo): the
            // connections LazyFront accepted are relayed to it, every later one reaches gRPC directly
            Path inner = socket.resolveSibling("." + socket.getFileName() + ".grpc");
            // exec, attach and port-forward URLs point here: loopback only, any free port, as kubelet's own
            StreamServer streams = StreamServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), new CriStreams(engine, pods));
            self[0].streams = streams;
            List<BindableService> services = List.of(new CriRuntime(engine, pods, new PodContainers(engine, pods), streams), new CriImages(engine.images()));
            CriServer started = CriServer.start(inner, services);
            self[0].server = started;
            started.moveTo(socket);
            self[0].front.handedOver();
            return started.socket();
        });
        self[0] = new Cri(front);
        return self[0];
    }

    public Path socket() {
        return front.socket();
    }

    /** How many CRI calls have come in (0 until the first connection starts gRPC). */
    public long callsServed() {
        CriServer s = server;
        return s == null ? 0 : s.callsServed();
    }

    @Override
    public void close() {
        front.close();
        CriServer s = server;
        if (s != null) s.close();
        StreamServer st = streams;
        if (st != null) st.close();
    }
}
