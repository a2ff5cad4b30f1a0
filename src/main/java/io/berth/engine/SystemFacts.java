package io.berth.engine;

import io.berth.runtime.OciRuntimes;
import io.berth.sys.Cgroups;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What `docker info` reports, gathered from the engine's stores and the host. */
public record SystemFacts(
        String daemonId,
        String name,
        int containers,
        int containersRunning,
        int containersPaused,
        int containersStopped,
        int images,
        Path dataRoot,
        String backingFilesystem,
        Cgroups cgroups,
        Map<String, Boolean> cgroupFeatures,
        String kernelVersion,
        String operatingSystem,
        String osVersion,
        String architecture,
        int ncpu,
        long memTotal,
        OciRuntimes runtimes,
        List<String> securityOptions,
        boolean ipv4Forwarding,
        boolean bridgeNfIptables,
        boolean bridgeNfIp6tables,
        int fileDescriptors,
        int threads,
        int eventListeners,
        List<String> labels,
        boolean debug,
        List<String> insecureRegistries,
        List<String> registryMirrors,
        String initBinary,
        List<String> warnings) {}
