package io.berth.engine;

import io.berth.sys.Cgroups;
import io.berth.sys.HostInfo;
import io.berth.sys.MountTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The use cases the API serves. Each later box (images, containers, networks, volumes)
 * joins here; the API layer only translates HTTP to these calls and back.
 */
public final class Engine {
    private final EventBus events = new EventBus();
    private final Cgroups cgroups;
    private final VolumeService volumes;
    private final NetworkUseCases networks;
    private volatile EngineSettings settings;
    private final ImageService images;
    private final io.berth.build.Builds builds;
    private final BuildService buildService;
    private final io.berth.plugin.Plugins plugins;

    private final ContainerService containers;

    public Engine(EngineSettings settings, Cgroups cgroups) throws java.io.IOException {
        this.settings = settings;
        this.cgroups = cgroups;
        this.volumes = new VolumeService(new io.berth.volume.VolumeStore(settings.dataRoot()), events);
        // start-up order: images, networks, containers (wired to both), builds; then the containers' lifecycle comes up
        this.images = ImageService.open(settings.dataRoot(), this::settings, events, Containers.imageUsage(this::containers));
        this.networks = NetworkUseCases.open(settings, events, () -> containers() == null ? null : wiring());
        this.containers = Containers.open(settings.dataRoot(), this::settings, events, Containers.imageSource(images.store()),
                s -> new Wiring(s, networks, volumes)); // installs the network hooks (Containers.networkHooks is the bare form)
        containers.lifecycle().start(); // watches exits, reconciles with what the runtime kept
        this.builds = io.berth.build.Builds.open(settings.dataRoot(), settings.execRoot() != null ? settings.execRoot() : settings.dataRoot(),
                settings.runtimes(), images.store(), new BuildNetworking(networks));
        this.buildService = new BuildService(builds, images);
        this.plugins = new io.berth.plugin.Plugins(settings.dataRoot());
    }

    /** Managed plugins as `docker plugin create` keeps them (none runs). */
    public io.berth.plugin.Plugins plugins() {
        return plugins;
    }

    public ContainerService containers() {
        return containers;
    }

    /** The networks and mounts of containers (inspect's NetworkSettings and Mounts, docker cp). */
    public Wiring wiring() {
        return (Wiring) containers.wiring();
    }

    /** The classic builder (docker build with DOCKER_BUILDKIT=0). */
    public io.berth.build.Builds builds() {
        return builds;
    }

    /** docker build: checks, context, build, tags (the route only parses). */
    public BuildService buildService() {
        return buildService;
    }

    public NetworkUseCases networks() {
        return networks;
    }

    public VolumeService volumes() {
        return volumes;
    }

    public ImageService images() {
        return images;
    }

    public EventBus events() {
        return events;
    }

    public EngineSettings settings() {
        return settings;
    }

    /** Takes new settings (a SIGHUP reload) and tells event listeners, as dockerd does. */
    public void reload(EngineSettings next) {
        this.settings = next;
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put("debug", Boolean.toString(next.debug()));
        attributes.put("default-runtime", next.runtimes().defaultRuntime());
        attributes.put("insecure-registries", "[" + String.join(", ", next.insecureRegistries()) + "]");
        attributes.put("labels", "[" + String.join(", ", next.labels()) + "]");
        attributes.put("max-concurrent-downloads", Integer.toString(next.maxConcurrentDownloads()));
        attributes.put("max-concurrent-uploads", Integer.toString(next.maxConcurrentUploads()));
        attributes.put("name", HostInfo.hostname());
        attributes.put("registry-mirrors", "[" + String.join(", ", next.registryMirrors()) + "]");
        attributes.put("runtimes", String.join(", ", next.runtimes().available().keySet()));
        events.publish("daemon", "reload", next.daemonId(), attributes);
    }

    public SystemFacts systemFacts() {
        EngineSettings s = settings;
        Map<String, String> os = HostInfo.osRelease();
        Map<String, Boolean> features = new LinkedHashMap<>();
        features.put("MemoryLimit", cgroups.hasController("memory"));
        features.put("SwapLimit", cgroups.version() == 2 ? cgroups.hasFile("memory", "memory.swap.max") : cgroups.hasFile("memory", "memory.memsw.limit_in_bytes"));
        features.put("CpuCfsPeriod", cgroups.version() == 2 ? cgroups.hasController("cpu") : cgroups.hasFile("cpu", "cpu.cfs_period_us"));
        features.put("CpuCfsQuota", cgroups.version() == 2 ? cgroups.hasController("cpu") : cgroups.hasFile("cpu", "cpu.cfs_quota_us"));
        features.put("CPUShares", cgroups.version() == 2 ? cgroups.hasController("cpu") : cgroups.hasFile("cpu", "cpu.shares"));
        features.put("CPUSet", cgroups.hasController("cpuset"));
        features.put("PidsLimit", cgroups.hasController("pids"));
        features.put("OomKillDisable", cgroups.version() == 1 && cgroups.hasFile("memory", "memory.oom_control"));
        features.put("KernelMemory", false);
        features.put("KernelMemoryTCP", false);

        List<String> security = new ArrayList<>();
        if (HostInfo.readTrimmed(Path.of("/sys/module/apparmor/parameters/enabled"), "N").equals("Y")) {
            security.add("name=apparmor");
        }
        String seccomp = HostInfo.selfStatus("Seccomp");
        if (seccomp != null) security.add("name=seccomp,profile=default");
        if (cgroups.version() == 2) security.add("name=cgroupns");

        List<String> warnings = new ArrayList<>();
        if (!s.runtimes().defaultRuntime().equals("crun") || !s.runtimes().available().containsKey(s.runtimes().defaultRuntime())) {
            warnings.add("WARNING: default runtime is " + s.runtimes().defaultRuntime() + ": " + s.runtimes().defaultReason());
        }
        boolean nfIptables = readFlag("/proc/sys/net/bridge/bridge-nf-call-iptables");
        boolean nfIp6tables = readFlag("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
        if (!features.get("SwapLimit")) warnings.add("WARNING: No swap limit support");

        String threads = HostInfo.selfStatus("Threads");
        return new SystemFacts(
                s.daemonId(),
                HostInfo.hostname(),
                containers.counts()[0], containers.counts()[1], containers.counts()[2], containers.counts()[3],
                images.store().count(),
                s.dataRoot(),
                backingFilesystem(s.dataRoot()),
                cgroups,
                features,
                HostInfo.kernelVersion(),
                os.getOrDefault("PRETTY_NAME", "Linux"),
                os.getOrDefault("VERSION_ID", ""),
                HostInfo.machine(),
                HostInfo.cpuCount(),
                HostInfo.memTotalBytes(),
                s.runtimes(),
                security,
                readFlag("/proc/sys/net/ipv4/ip_forward"),
                nfIptables,
                nfIp6tables,
                HostInfo.openFileDescriptors(),
                threads == null ? Thread.activeCount() : Integer.parseInt(threads),
                events.listenerCount(),
                s.labels(),
                s.debug(),
                s.insecureRegistries(),
                s.registryMirrors(),
                initBinary().orElse(""),
                warnings);
    }

    /** Docker's names for the filesystem under overlay2: extfs, xfs, btrfs, ... */
    static String backingFilesystem(Path dataRoot) {
        String type = MountTable.fsTypeOf(dataRoot);
        return switch (type) {
            case "ext2", "ext3", "ext4" -> "extfs";
            case "overlay" -> "overlayfs";
            default -> type;
        };
    }

    private static Optional<String> initBinary() {
        return io.berth.runtime.InitBinary.find().map(Path::toString);
    }

    private static boolean readFlag(String file) {
        return HostInfo.readTrimmed(Path.of(file), "0").equals("1");
    }
}
