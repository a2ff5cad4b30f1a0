package io.berth.engine;

import io.berth.runtime.OciRuntimes;
import java.nio.file.Path;
import java.util.List;

/** What the engine is told by the daemon that hosts it; replaced as a whole on reload. */
public record EngineSettings(
        String daemonId,
        Path dataRoot,
        List<String> labels,
        boolean debug,
        OciRuntimes runtimes,
        List<String> insecureRegistries,
        List<String> registryMirrors,
        int maxConcurrentDownloads,
        int maxConcurrentUploads) {
    public EngineSettings {
        labels = List.copyOf(labels);
        insecureRegistries = List.copyOf(insecureRegistries);
        registryMirrors = List.copyOf(registryMirrors);
    }
}
