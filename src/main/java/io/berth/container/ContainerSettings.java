package io.berth.container;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Map;

/**
 * How a container is hosted, in Berth's own terms: what the engine reads to start it and what its
 * record keeps on disk. The Docker API's HostConfig is turned into this once, at create, by
 * {@link DockerHostConfig#toSettings}, which also gives the 400s; inspect turns it back with
 * {@link DockerHostConfig#toDocker}. Lists are never null (empty: nothing asked); a null
 * boxed value means "not asked, the runtime's default" where that differs from zero.
 */
public record ContainerSettings(
        Resources resources,
        Security security,
        Namespaces namespaces,
        Networking networking,
        Mounts mounts,
        RestartPolicy restart,
        boolean autoRemove,
        LogSettings log,
        Process process,
        List<Device> devices,
        List<String> deviceCgroupRules,
        String runtime,
        DockerOnly dockerOnly,
        PodMember pod) {

    public ContainerSettings {
        devices = List.copyOf(devices);
        deviceCgroupRules = List.copyOf(deviceCgroupRules);
    }

    /** The same settings for a container that belongs to a pod. */
    public ContainerSettings inPod(PodMember member) {
        return new ContainerSettings(resources, security, namespaces, networking, mounts, restart, autoRemove, log, process, devices,
                deviceCgroupRules, runtime, dockerOnly, member);
    }

    /** The same settings with other resources (docker update, the CRI's UpdateContainerResources). */
    public ContainerSettings withResources(Resources r) {
        return new ContainerSettings(r, security, namespaces, networking, mounts, restart, autoRemove, log, process, devices,
                deviceCgroupRules, runtime, dockerOnly, pod);
    }

    /** Whether the container belongs to a Kubernetes pod (made through the CRI, kept out of the Docker API's lists). */
    public boolean inPod() {
        return pod != null;
    }

    // ---------------------------------------------------------------- pod membership

    /**
     * What a container made through the CRI keeps of kubelet's view: its pod, its name and attempt
     * there, kubelet's annotations, the CRI log file ("" for none) and the folder holding the pod's
     * resolv.conf, hostname and hosts, which the container sees in place of its own.
     */
    public record PodMember(String podId, String name, int attempt, Map<String, String> annotations, String logPath, String filesDir) {
        public PodMember {
            annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
            if (logPath == null) logPath = "";
        }
    }

    // ---------------------------------------------------------------- resources (cgroups, rlimits)

    /**
     * Cgroup limits; 0 means no limit. {@code nanoCpus} is --cpus (turned into a quota over a
     * 100 ms period when the spec is built); {@code memorySwap} -1 is unlimited swap.
     */
    public record Resources(long cpuShares, long nanoCpus, long cpuPeriod, long cpuQuota, long cpuRealtimePeriod,
                            long cpuRealtimeRuntime, String cpusetCpus, String cpusetMems, long memory, long memoryReservation,
                            long memorySwap, Long memorySwappiness, boolean oomKillDisable, Long pidsLimit, int blkioWeight,
                            String cgroupParent, List<Ulimit> ulimits) {
        public Resources {
            ulimits = List.copyOf(ulimits);
        }
    }

    /** A process limit (setrlimit): --ulimit name=soft:hard. */
    public record Ulimit(String name, Long soft, Long hard) {}

    // ---------------------------------------------------------------- security

    /**
     * What confines the process. {@code capAdd}/{@code capDrop} are as asked (resolved against the
     * host's set when the spec is built); {@code maskedPaths}/{@code readonlyPaths} null means the
     * runtime's defaults, empty means none. {@code optionsAsGiven} is --security-opt as the client
     * sent it, kept only to show it back in inspect: the engine reads the parsed fields.
     * {@code strictGroups}: the process gets only its primary group and {@code groupAdd}, not the
     * groups the image's /etc/group gives its user (the CRI's SupplementalGroupsPolicy Strict).
     */
    public record Security(boolean privileged, List<String> capAdd, List<String> capDrop, boolean noNewPrivileges,
                           Seccomp seccomp, String apparmorProfile, List<String> labels, boolean readonlyRootfs,
                           List<String> maskedPaths, List<String> readonlyPaths, List<String> groupAdd,
                           List<String> optionsAsGiven, boolean strictGroups) {
        public Security(boolean privileged, List<String> capAdd, List<String> capDrop, boolean noNewPrivileges, Seccomp seccomp,
                        String apparmorProfile, List<String> labels, boolean readonlyRootfs, List<String> maskedPaths,
                        List<String> readonlyPaths, List<String> groupAdd, List<String> optionsAsGiven) {
            this(privileged, capAdd, capDrop, noNewPrivileges, seccomp, apparmorProfile, labels, readonlyRootfs, maskedPaths,
                    readonlyPaths, groupAdd, optionsAsGiven, false);
        }

        public Security {
            capAdd = List.copyOf(capAdd);
            capDrop = List.copyOf(capDrop);
            labels = List.copyOf(labels);
            maskedPaths = maskedPaths == null ? null : List.copyOf(maskedPaths);
            readonlyPaths = readonlyPaths == null ? null : List.copyOf(readonlyPaths);
            groupAdd = List.copyOf(groupAdd);
            optionsAsGiven = List.copyOf(optionsAsGiven);
        }
    }

    /** The seccomp filter: Docker's default (none when privileged), asked builtin, none, or a profile's JSON. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
    @JsonSubTypes({@JsonSubTypes.Type(value = Seccomp.Default.class, name = "default"),
            @JsonSubTypes.Type(value = Seccomp.Builtin.class, name = "builtin"),
            @JsonSubTypes.Type(value = Seccomp.Unconfined.class, name = "unconfined"),
            @JsonSubTypes.Type(value = Seccomp.Custom.class, name = "custom")})
    public sealed interface Seccomp {
        /** Nothing asked: Docker's default profile, or none for a privileged container. */
        record Default() implements Seccomp {}

        /** seccomp=builtin: Docker's default profile, even when privileged. */
        record Builtin() implements Seccomp {}

        /** seccomp=unconfined: no filter. */
        record Unconfined() implements Seccomp {}

        /** A profile in Docker's JSON format, as the CLI read it from the user's file. */
        record Custom(String json) implements Seccomp {}
    }

    // ---------------------------------------------------------------- namespaces

    /** The namespaces shared with the host or another container; the network's is in {@link Networking}. */
    public record Namespaces(NamespaceMode ipc, NamespaceMode pid, NamespaceMode uts, NamespaceMode user, NamespaceMode cgroup) {}

    /**
     * A namespace's mode. On disk and in Docker's API it is a word ("host", "container:ID", ...):
     * {@link #parse} and {@link #word}.
     */
    public sealed interface NamespaceMode {
        /** Nothing asked: the daemon's choice (Docker shows ""). */
        record Default() implements NamespaceMode {}

        /** A namespace of its own. */
        record Private() implements NamespaceMode {}

        /** Its own, and others may join it (ipc shareable). */
        record Shareable() implements NamespaceMode {}

        /** The host's. */
        record Host() implements NamespaceMode {}

        /** No namespace set up (ipc none: no /dev/shm). */
        record None() implements NamespaceMode {}

        /** Another container's, by name or ID as asked. */
        record Container(String ref) implements NamespaceMode {}

        /** A namespace kept in a file (a pod's pinned namespace): the container joins it. */
        record Path(String path) implements NamespaceMode {}

        NamespaceMode DEFAULT = new Default();
        NamespaceMode PRIVATE = new Private();
        NamespaceMode HOST = new Host();

        @JsonCreator
        static NamespaceMode parse(String word) {
            if (word == null || word.isEmpty()) return DEFAULT;
            if (word.startsWith("container:")) return new Container(word.substring("container:".length()));
            if (word.startsWith("ns:")) return new Path(word.substring("ns:".length()));
            return switch (word) {
                case "private" -> PRIVATE;
                case "shareable" -> new Shareable();
                case "host" -> HOST;
                case "none" -> new None();
                default -> throw new IllegalArgumentException(word);
            };
        }

        /** Docker's word for this mode. */
        @JsonValue
        default String word() {
            return switch (this) {
                case Default d -> "";
                case Private p -> "private";
                case Shareable s -> "shareable";
                case Host h -> "host";
                case None n -> "none";
                case Container c -> "container:" + c.ref();
                case Path p -> "ns:" + p.path();
            };
        }
    }

    // ---------------------------------------------------------------- network

    /**
     * The network it joins and how it is reached. {@code mode} is "bridge", "host", "none",
     * "container:REF" or a network's name; the network box reads the rest.
     */
    public record Networking(String mode, Map<String, List<PortBinding>> portBindings, boolean publishAllPorts,
                             List<String> dns, List<String> dnsOptions, List<String> dnsSearch, List<String> extraHosts,
                             List<String> links) {
        public Networking {
            portBindings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(portBindings));
            dns = List.copyOf(dns);
            dnsOptions = List.copyOf(dnsOptions);
            dnsSearch = List.copyOf(dnsSearch);
            extraHosts = List.copyOf(extraHosts);
            links = List.copyOf(links);
        }

        /** The network namespace's mode: the host's, another container's, or one of its own. */
        public NamespaceMode namespace() {
            if (mode.equals("host")) return NamespaceMode.HOST;
            if (mode.startsWith("container:")) return new NamespaceMode.Container(mode.substring("container:".length()));
            if (mode.startsWith("ns:")) return new NamespaceMode.Path(mode.substring("ns:".length()));
            return NamespaceMode.PRIVATE;
        }
    }

    public record PortBinding(String hostIp, String hostPort) {}

    // ---------------------------------------------------------------- mounts

    /**
     * What is mounted besides the image: {@code binds} in -v's "source:target[:options]" form and
     * the --mount entries, both turned into mount points by ContainerMounts at create;
     * {@code tmpfs} maps a target to its mount options.
     */
    public record Mounts(List<String> binds, List<String> volumesFrom, Map<String, String> tmpfs, List<MountRequest> mounts) {
        public Mounts {
            binds = List.copyOf(binds);
            volumesFrom = List.copyOf(volumesFrom);
            tmpfs = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tmpfs));
            mounts = List.copyOf(mounts);
        }
    }

    /** One --mount: type bind, volume or tmpfs; {@code tmpfsSizeBytes}/{@code tmpfsMode} only for tmpfs. */
    public record MountRequest(String type, String source, String target, Boolean readOnly, Map<String, Object> bindOptions,
                               TmpfsOptions tmpfsOptions) {}

    public record TmpfsOptions(Long sizeBytes, Integer mode) {}

    // ---------------------------------------------------------------- restart, logs

    public enum RestartMode {
        NO("no"), ALWAYS("always"), ON_FAILURE("on-failure"), UNLESS_STOPPED("unless-stopped");

        private final String word;

        RestartMode(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }

        static RestartMode of(String word) {
            for (RestartMode m : values()) if (m.word.equals(word)) return m;
            throw new IllegalArgumentException(word);
        }
    }

    /** When the container is brought back after it exits; {@code maxRetries} only for on-failure. */
    public record RestartPolicy(RestartMode mode, int maxRetries) {
        public static final RestartPolicy NO = new RestartPolicy(RestartMode.NO, 0);
    }

    /** The log driver (json-file) and its options, already checked. */
    public record LogSettings(String driver, Map<String, String> options) {
        public LogSettings {
            options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
        }
    }

    // ---------------------------------------------------------------- process, devices

    /**
     * The process's surroundings: an init as PID 1 (null: not asked), /dev/shm's size, the OOM
     * score, the console size asked (0,0: none), namespaced sysctls.
     */
    public record Process(Boolean init, long shmSize, int oomScoreAdj, int consoleHeight, int consoleWidth,
                          Map<String, String> sysctls) {
        public Process {
            sysctls = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(sysctls));
        }
    }

    /** A host device made visible: --device host[:container[:permissions]]. */
    public record Device(String pathOnHost, String pathInContainer, String cgroupPermissions) {}

    /**
     * Fields of Docker's HostConfig that mean nothing here (no Windows isolation, no volume
     * plugins, the CLI's own --cidfile), kept only to show them back in inspect.
     */
    public record DockerOnly(String containerIdFile, String volumeDriver, String isolation, String cgroup) {}
}
