package io.berth.daemon;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything berthd is told at start, from flags and daemon.json together. The names in
 * daemon.json are dockerd's where dockerd has the option.
 */
public record DaemonConfig(
        Path dataRoot,
        Path execRoot,
        List<String> hosts,
        boolean tls,
        boolean tlsVerify,
        Path tlsCaCert,
        Path tlsCert,
        Path tlsKey,
        String logLevel,
        boolean debug,
        String defaultRuntime,
        Map<String, RuntimeEntry> runtimes,
        List<String> insecureRegistries,
        List<String> registryMirrors,
        Map<String, List<String>> registryHostMirrors,
        List<AddressPool> defaultAddressPools,
        List<String> labels,
        int maxConcurrentDownloads,
        int maxConcurrentUploads,
        Path configFile,
        String logDriver,
        Map<String, String> logOpts,
        io.berth.network.DefaultBridge defaultBridge,
        Path criSocket) {

    public static final Path DEFAULT_DATA_ROOT = Path.of("/var/lib/berth");
    public static final Path DEFAULT_EXEC_ROOT = Path.of("/run/berth");
    public static final String DEFAULT_HOST = "unix:///run/berth/berth.sock";
    public static final Path DEFAULT_CONFIG_FILE = Path.of("/etc/berth/daemon.json");

    public DaemonConfig {
        hosts = List.copyOf(hosts);
        runtimes = Map.copyOf(runtimes);
        insecureRegistries = List.copyOf(insecureRegistries);
        registryMirrors = List.copyOf(registryMirrors);
        registryHostMirrors = registryHostMirrors == null ? Map.of() : Map.copyOf(registryHostMirrors);
        defaultAddressPools = List.copyOf(defaultAddressPools);
        labels = List.copyOf(labels);
        logOpts = logOpts == null ? Map.of() : Map.copyOf(logOpts);
        if (defaultBridge == null) defaultBridge = io.berth.network.DefaultBridge.defaults();
    }

    /** The CRI's socket under an exec root: kubelet's default endpoint for berthd. */
    public static Path defaultCriSocket(Path execRoot) {
        return execRoot.resolve("cri.sock");
    }

    /** Whether the CRI is served (`--cri-socket ""` turns it off). */
    public boolean criEnabled() {
        return criSocket != null;
    }

    /** An extra OCI runtime: `"runtimes": {"name": {"path": "...", "runtimeArgs": [...]}}`. */
    public record RuntimeEntry(String path, List<String> runtimeArgs) {}

    /** A pool that network subnets are carved from: `{"base": "10.89.0.0/16", "size": 24}`. */
    public record AddressPool(String base, int size) {}

    /** The socket path of the first unix host, for tools that need one. */
    public String firstHost() {
        return hosts.isEmpty() ? DEFAULT_HOST : hosts.getFirst();
    }
}
