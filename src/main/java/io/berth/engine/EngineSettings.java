package io.berth.engine;

import io.berth.network.NetworkService;
import io.berth.runtime.OciRuntimes;
import java.nio.file.Path;
import java.util.List;

/**
 * What the engine is told by the daemon that hosts it; replaced as a whole on reload.
 * {@code execRoot} holds runtime state (network namespaces); {@code addressPools} are
 * daemon.json's default-address-pools (empty: the network box's defaults), read at start only;
 * {@code logDefaults} its log-driver and log-opts (null: json-file without options).
 */
public record EngineSettings(
        String daemonId,
        Path dataRoot,
        List<String> labels,
        boolean debug,
        OciRuntimes runtimes,
        List<String> insecureRegistries,
        List<String> registryMirrors,
        java.util.Map<String, List<String>> registryHostMirrors,
        int maxConcurrentDownloads,
        int maxConcurrentUploads,
        Path execRoot,
        List<NetworkService.AddressPool> addressPools,
        io.berth.container.HostConfig.LogConfig logDefaults,
        io.berth.network.DefaultBridge defaultBridge) {
    public EngineSettings {
        labels = List.copyOf(labels);
        insecureRegistries = List.copyOf(insecureRegistries);
        registryMirrors = List.copyOf(registryMirrors);
        registryHostMirrors = registryHostMirrors == null ? java.util.Map.of() : java.util.Map.copyOf(registryHostMirrors);
        addressPools = addressPools == null ? List.of() : List.copyOf(addressPools);
        if (defaultBridge == null) defaultBridge = io.berth.network.DefaultBridge.defaults();
    }
}
