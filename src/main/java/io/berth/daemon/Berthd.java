package io.berth.daemon;

import io.berth.api.ApiHandler;
import io.berth.api.http.HttpServer;
import io.berth.api.http.Listener;
import io.berth.api.http.PemTls;
import io.berth.engine.Engine;
import io.berth.engine.EngineSettings;
import io.berth.engine.NetworkUseCases;
import io.berth.network.NetworkService;
import io.berth.runtime.OciRuntimes;
import io.berth.sys.AtomicFiles;
import io.berth.sys.Cgroups;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** berthd: takes the data root, builds the engine, serves the API on every host, stops cleanly. */
public final class Berthd implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Berthd.class);

    private final DaemonConfig config;
    private final DataRootLock lock;
    private final DataRootLock execLock;
    private final Engine engine;
    private final ApiHandler api;
    private final HttpServer server;
    private final Path pidFile;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final DaemonConfigLoader.Flags flags;
    /** How long without a request before the daemon gives back what a burst of work took. */
    private static final java.time.Duration IDLE_QUIET = java.time.Duration.ofSeconds(10);
    private final IdleMemory idleMemory;
    /** The CRI endpoint, started off the critical path: gRPC's classes must not delay the first /_ping. */
    private volatile io.berth.cri.Cri cri;
    private final io.berth.cri.Pods pods;
    private Thread criStarter;

    private Berthd(DaemonConfig config, DaemonConfigLoader.Flags flags, DataRootLock lock, DataRootLock execLock, Engine engine,
                   io.berth.cri.Pods pods) {
        this.config = config;
        this.pods = pods;
        this.flags = flags;
        this.lock = lock;
        this.execLock = execLock;
        this.engine = engine;
        this.api = new ApiHandler(engine);
        this.server = new HttpServer(api);
        // the CRI's calls count as work too: kubelet's bursts (pods starting) are followed by memory given back
        this.idleMemory = new IdleMemory(() -> server.requestsRead() + criCalls(), IDLE_QUIET);
        this.pidFile = config.execRoot().resolve("berthd.pid");
    }

    /** Starts the daemon: everything it needs is checked before any socket is opened. */
    public static Berthd start(DaemonConfig config, DaemonConfigLoader.Flags flags) throws IOException {
        long t0 = System.nanoTime();
        List<HostAddress> hosts = new ArrayList<>();
        for (String h : config.hosts()) hosts.add(HostAddress.parse(h));
        SSLContext tls = tlsContext(config, hosts);

        DataRootLock lock = DataRootLock.acquire(config.dataRoot());
        DataRootLock execLock = null;
        try {
            // Two daemons on one exec root would share pid file, namespaces and sockets.
            execLock = DataRootLock.acquire(config.execRoot(), "berthd.lock", "exec root", "--exec-root");
            Engine engine = new Engine(engineSettings(config), Cgroups.detect());
            // After the engine made its folders, before anyone can ask for anything.
            PrivateRoots.tightenDataRoot(config.dataRoot());
            PrivateRoots.tightenExecRoot(config.execRoot(), hosts.stream()
                    .filter(h -> h instanceof HostAddress.Unix).map(h -> ((HostAddress.Unix) h).path()).toList());
            // Pods are read before networking is reconciled: their pinned namespaces are live.
            io.berth.cri.PodStore podStore = io.berth.cri.PodStore.open(config.dataRoot());
            engine.networks().addLiveOwners(podStore::ids);
            engine.networks().start();
            Berthd daemon = new Berthd(config, flags, lock, execLock, engine, new io.berth.cri.Pods(podStore, engine.networks(), config.execRoot().resolve("cri").resolve("pods")));
            try {
                // The pid file is there before the first answer: whoever pings us can read it.
                AtomicFiles.write(daemon.pidFile, (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
                for (HostAddress host : hosts) daemon.server.serve(listen(host, tls, config.tlsVerify()));
            } catch (IOException | RuntimeException e) {
                daemon.server.close();
                throw e;
            }
            for (Listener l : daemon.server.listeners()) log.info("API listen on {}", l.address());
            // Warm the JSON mapper off the critical path so the first /info or /version is quick.
            engine.settings().runtimes().prefetchVersions();
            Thread.ofVirtual().name("warm-json").start(() -> io.berth.api.Json.bytes(java.util.Map.of("warm", true)));
            if (config.criEnabled()) daemon.startCri();
            log.info("berthd started in {} ms: data root {}, default runtime {} ({})",
                    (System.nanoTime() - t0) / 1_000_000, config.dataRoot(),
                    engine.settings().runtimes().defaultRuntime(), engine.settings().runtimes().defaultReason());
            return daemon;
        } catch (IOException | RuntimeException e) {
            if (execLock != null) execLock.close();
            lock.close();
            throw e;
        }
    }

    /** Serves the CRI once gRPC is loaded; a failure is logged and the Docker API keeps serving. */
    private long criCalls() {
        io.berth.cri.Cri c = cri;
        return c == null ? 0 : c.callsServed();
    }

    private void startCri() {
        criStarter = Thread.ofPlatform().name("cri-start").daemon().start(() -> {
            long t0 = System.nanoTime();
            try {
                cri = io.berth.cri.Cri.serve(config.criSocket(), engine, pods);
                log.info("CRI listen on unix://{} (ready in {} ms)", config.criSocket(), (System.nanoTime() - t0) / 1_000_000);
            } catch (IOException | RuntimeException e) {
                log.error("cannot serve the CRI on {}: {}", config.criSocket(), e.getMessage());
            }
        });
    }

    static EngineSettings engineSettings(DaemonConfig config) throws IOException {
        Map<String, String> runtimePaths = new HashMap<>();
        config.runtimes().forEach((name, entry) -> runtimePaths.put(name, entry.path()));
        OciRuntimes runtimes;
        try {
            runtimes = OciRuntimes.discover(runtimePaths, config.defaultRuntime(), Cgroups.detect());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        List<NetworkService.AddressPool> pools = new ArrayList<>();
        for (DaemonConfig.AddressPool p : config.defaultAddressPools()) pools.add(new NetworkService.AddressPool(p.base(), p.size()));
        try {
            NetworkUseCases.checkPools(pools);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        return new EngineSettings(daemonId(config.dataRoot()), config.dataRoot(), config.labels(), config.debug(), runtimes,
                config.insecureRegistries(), config.registryMirrors(), config.registryHostMirrors(), config.maxConcurrentDownloads(), config.maxConcurrentUploads(),
                config.execRoot(), pools, new io.berth.container.HostConfig.LogConfig(config.logDriver(), config.logOpts()),
                config.defaultBridge());
    }

    /** The daemon's lasting identity, made once per data root. */
    private static String daemonId(Path dataRoot) throws IOException {
        Path file = dataRoot.resolve("engine-id");
        if (Files.exists(file)) {
            String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (!id.isEmpty()) return id;
        }
        String id = UUID.randomUUID().toString();
        AtomicFiles.write(file, (id + "\n").getBytes(StandardCharsets.US_ASCII));
        return id;
    }

    private static SSLContext tlsContext(DaemonConfig config, List<HostAddress> hosts) throws IOException {
        boolean anyTcp = hosts.stream().anyMatch(h -> h instanceof HostAddress.Tcp);
        if (!config.tls()) {
            for (HostAddress h : hosts) {
                if (h instanceof HostAddress.Tcp tcp && !tcp.isLoopback()) {
                    throw new IOException("refusing to serve the API on tcp://" + tcp.host() + ":" + tcp.port()
                            + " without TLS: whoever reaches that port would be root on this machine. "
                            + "Use --tlsverify with --tlscacert, --tlscert and --tlskey, or listen on 127.0.0.1");
                }
            }
            return null;
        }
        if (!anyTcp) return null;
        if (config.tlsCert() == null || config.tlsKey() == null) {
            throw new IOException("TLS needs --tlscert and --tlskey");
        }
        if (config.tlsVerify() && config.tlsCaCert() == null) {
            throw new IOException("--tlsverify needs --tlscacert: the CA that signs client certificates");
        }
        return PemTls.serverContext(config.tlsCert(), config.tlsKey(), config.tlsVerify() ? config.tlsCaCert() : null);
    }

    private static Listener listen(HostAddress host, SSLContext tls, boolean verifyClients) throws IOException {
        return switch (host) {
            case HostAddress.Unix unix -> Listener.unix(unix.path());
            case HostAddress.Tcp tcp -> tls != null
                    ? Listener.tls(tcp.socketAddress(), tls, verifyClients)
                    : Listener.tcp(tcp.socketAddress());
        };
    }

    /** SIGHUP: re-reads daemon.json and applies what can change while running. */
    public void reload() {
        try {
            DaemonConfig next = DaemonConfigLoader.load(flags);
            engine.reload(engineSettings(next));
            log.info("configuration reloaded from {}", next.configFile() == null ? "flags" : next.configFile());
        } catch (DaemonConfigLoader.ConfigException | IOException e) {
            log.error("reload refused, keeping the running configuration: {}", e.getMessage());
        }
    }

    public Engine engine() {
        return engine;
    }

    public List<Listener> listeners() {
        return server.listeners();
    }

    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    @Override
    public void close() {
        if (stopped.getCount() == 0) return;
        log.info("berthd shutting down");
        api.shutdown();
        if (criStarter != null) {
            try {
                criStarter.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (cri != null) cri.close();
        idleMemory.close();
        server.close();
        engine.networks().close();
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException ignored) {
            // a stale pid file is harmless: the locks on the data and exec roots are the real guards
        }
        try {
            execLock.close();
            lock.close();
        } catch (IOException ignored) {
            // the kernel releases it with the process anyway
        }
        stopped.countDown();
    }

    public DaemonConfig config() {
        return config;
    }
}
