package io.berth.cri;

import io.berth.engine.Engine;
import io.grpc.BindableService;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Berth as a Kubernetes runtime: the CRI's two services on one socket, over the engine. */
public final class Cri implements AutoCloseable {
    private final CriServer server;

    private Cri(CriServer server) {
        this.server = server;
    }

    /**
     * Serves the CRI for {@code pods} (opened by the daemon before networking is reconciled,
     * so pods' namespaces count as live whether or not the CRI is on).
     */
    public static Cri serve(Path socket, Engine engine, Pods pods) throws IOException {
        List<BindableService> services = List.of(new CriRuntime(engine, pods), new CriImages(engine.images()));
        return new Cri(CriServer.start(socket, services));
    }

    public Path socket() {
        return server.socket();
    }

    @Override
    public void close() {
        server.close();
    }
}
