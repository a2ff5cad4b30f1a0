package io.berth.runtime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a container runs and how it is confined, in the terms of the layers above (Docker's
 * HostConfig and Config, already resolved: the image's defaults merged, volumes turned into
 * mounts, the rootfs mounted). {@link OciSpec} turns it into the OCI runtime's config.json.
 *
 * <p>Build one with {@link #builder(Path, List)}; every field not set keeps Docker's default.
 *
 * @param args the process's argv (entrypoint + cmd), at least one word
 * @param env "KEY=value" strings, as the process sees them
 * @param cwd the working directory, absolute ("/" if unset)
 * @param uid the user the process runs as
 * @param gid its primary group
 * @param additionalGids its supplementary groups
 * @param umask the file mode creation mask, or null for the runtime's default (0022)
 * @param hostname the UTS hostname (used only with a private UTS namespace)
 * @param domainname the UTS domain name
 * @param tty give the process a pseudo-terminal (conmon holds its master side)
 * @param openStdin keep a stdin pipe to the process (docker run -i)
 * @param stdinOnce close the process's stdin when the first attached client detaches
 * @param consoleHeight the terminal's initial rows, or 0 for the runtime's default
 * @param consoleWidth the terminal's initial columns, or 0
 * @param rootfs the container's root filesystem, already mounted (overlay merged dir)
 * @param readonlyRootfs mount the root read-only
 * @param mounts the user's mounts (binds, volumes, tmpfs, /etc/hosts ...), after the defaults;
 *     one on the same destination as a default mount replaces it
 * @param namespaces a mode for each namespace that should not get Docker's default; the
 *     cgroup namespace defaults to private on cgroup v2 and host on v1, as Docker's
 * @param capAdd capabilities to add (with or without CAP_, any case, or ALL)
 * @param capDrop capabilities to drop (or ALL)
 * @param privileged all capabilities, all host devices, no masked or read-only paths,
 *     writable /sys
 * @param devices host devices to make in the container (docker run --device)
 * @param deviceCgroupRules extra device cgroup rules as Docker writes them ("c 1:3 rwm")
 * @param sysctls kernel parameters to set in the container's namespaces
 * @param rlimits resource limits; only these are set, the rest are inherited
 * @param noNewPrivileges set no_new_privs (docker --security-opt no-new-privileges)
 * @param oomScoreAdj the process's oom_score_adj, or null to inherit
 * @param resources cgroup limits
 * @param cgroupParent the cgroup under which the container's cgroup is made ("/berth")
 * @param shmSize the size of /dev/shm in bytes (Docker's default is 64 MiB)
 * @param seccomp the seccomp profile as OCI JSON (linux.seccomp), or null for unconfined
 * @param annotations OCI annotations
 * @param maskedPaths paths to mask, or null for Docker's list (ignored when privileged)
 * @param readonlyPaths paths to make read-only, or null for Docker's list (ignored when privileged)
 */
public record ContainerSpec(
        List<String> args,
        List<String> env,
        String cwd,
        int uid,
        int gid,
        List<Integer> additionalGids,
        Integer umask,
        String hostname,
        String domainname,
        boolean tty,
        boolean openStdin,
        boolean stdinOnce,
        int consoleHeight,
        int consoleWidth,
        Path rootfs,
        boolean readonlyRootfs,
        List<Mount> mounts,
        Map<Namespace, NamespaceMode> namespaces,
        List<String> capAdd,
        List<String> capDrop,
        boolean privileged,
        List<Device> devices,
        List<String> deviceCgroupRules,
        Map<String, String> sysctls,
        List<Rlimit> rlimits,
        boolean noNewPrivileges,
        Integer oomScoreAdj,
        Resources resources,
        String cgroupParent,
        long shmSize,
        Map<String, Object> seccomp,
        Map<String, String> annotations,
        List<String> maskedPaths,
        List<String> readonlyPaths) {

    /** Docker's default size of /dev/shm: 64 MiB. */
    public static final long DEFAULT_SHM_SIZE = 64L * 1024 * 1024;

    public ContainerSpec {
        Objects.requireNonNull(rootfs, "rootfs");
        if (args == null || args.isEmpty()) throw new IllegalArgumentException("no command given: args is empty");
        args = List.copyOf(args);
        env = env == null ? List.of() : List.copyOf(env);
        cwd = cwd == null || cwd.isEmpty() ? "/" : cwd;
        if (!cwd.startsWith("/")) throw new IllegalArgumentException("the working directory \"" + cwd + "\" is not absolute");
        additionalGids = additionalGids == null ? List.of() : List.copyOf(additionalGids);
        mounts = mounts == null ? List.of() : List.copyOf(mounts);
        namespaces = namespaces == null ? Map.of() : Map.copyOf(namespaces);
        if (namespaces.get(Namespace.MOUNT) instanceof NamespaceMode.Host) {
            throw new IllegalArgumentException("a container cannot share the host's mount namespace");
        }
        capAdd = capAdd == null ? List.of() : List.copyOf(capAdd);
        capDrop = capDrop == null ? List.of() : List.copyOf(capDrop);
        devices = devices == null ? List.of() : List.copyOf(devices);
        deviceCgroupRules = deviceCgroupRules == null ? List.of() : List.copyOf(deviceCgroupRules);
        sysctls = sysctls == null ? Map.of() : Map.copyOf(sysctls);
        rlimits = rlimits == null ? List.of() : List.copyOf(rlimits);
        resources = resources == null ? Resources.NONE : resources;
        cgroupParent = cgroupParent == null || cgroupParent.isEmpty() ? "/berth" : cgroupParent;
        shmSize = shmSize <= 0 ? DEFAULT_SHM_SIZE : shmSize;
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        maskedPaths = maskedPaths == null ? null : List.copyOf(maskedPaths);
        readonlyPaths = readonlyPaths == null ? null : List.copyOf(readonlyPaths);
    }

    public static Builder builder(Path rootfs, List<String> args) {
        return new Builder(rootfs, args);
    }

    /** A builder that starts from Docker's defaults. */
    public Builder toBuilder() {
        Builder b = new Builder(rootfs, args);
        b.env = new ArrayList<>(env);
        b.cwd = cwd;
        b.uid = uid;
        b.gid = gid;
        b.additionalGids = new ArrayList<>(additionalGids);
        b.umask = umask;
        b.hostname = hostname;
        b.domainname = domainname;
        b.tty = tty;
        b.openStdin = openStdin;
        b.stdinOnce = stdinOnce;
        b.consoleHeight = consoleHeight;
        b.consoleWidth = consoleWidth;
        b.readonlyRootfs = readonlyRootfs;
        b.mounts = new ArrayList<>(mounts);
        b.namespaces = new LinkedHashMap<>(namespaces);
        b.capAdd = new ArrayList<>(capAdd);
        b.capDrop = new ArrayList<>(capDrop);
        b.privileged = privileged;
        b.devices = new ArrayList<>(devices);
        b.deviceCgroupRules = new ArrayList<>(deviceCgroupRules);
        b.sysctls = new LinkedHashMap<>(sysctls);
        b.rlimits = new ArrayList<>(rlimits);
        b.noNewPrivileges = noNewPrivileges;
        b.oomScoreAdj = oomScoreAdj;
        b.resources = resources;
        b.cgroupParent = cgroupParent;
        b.shmSize = shmSize;
        b.seccomp = seccomp;
        b.annotations = new LinkedHashMap<>(annotations);
        b.maskedPaths = maskedPaths;
        b.readonlyPaths = readonlyPaths;
        return b;
    }

    /** The namespaces OCI knows, by their names in config.json. */
    public enum Namespace {
        PID("pid"), IPC("ipc"), UTS("uts"), NETWORK("network"), MOUNT("mount"), CGROUP("cgroup");

        private final String ociName;

        Namespace(String ociName) {
            this.ociName = ociName;
        }

        public String ociName() {
            return ociName;
        }

        /** The file under /proc/PID/ns/ for this namespace. */
        public String procName() {
            return switch (this) {
                case NETWORK -> "net";
                case MOUNT -> "mnt";
                default -> ociName;
            };
        }
    }

    /** How a container gets a namespace: a new one, the host's, or an existing one by path. */
    public sealed interface NamespaceMode {
        record Private() implements NamespaceMode {}

        record Host() implements NamespaceMode {}

        /** Joins the namespace at {@code path}, e.g. /proc/PID/ns/net or a bind-mounted netns file. */
        record Join(Path path) implements NamespaceMode {
            public Join {
                Objects.requireNonNull(path, "path");
            }
        }

        NamespaceMode PRIVATE = new Private();
        NamespaceMode HOST = new Host();

        static NamespaceMode join(Path path) {
            return new Join(path);
        }

        /** Docker's container:NAME mode: the namespace of another container's process. */
        static NamespaceMode ofProcess(long pid, Namespace ns) {
            return new Join(Path.of("/proc", Long.toString(pid), "ns", ns.procName()));
        }
    }

    /** A mount as OCI writes it: bind mounts have type "bind" and options such as "rbind", "ro". */
    public record Mount(String destination, String type, String source, List<String> options) {
        public Mount {
            Objects.requireNonNull(destination, "destination");
            if (!destination.startsWith("/")) throw new IllegalArgumentException("mount destination \"" + destination + "\" is not absolute");
            options = options == null ? List.of() : List.copyOf(options);
        }

        /** The same mount with one more option. */
        public Mount withOption(String option) {
            List<String> more = new ArrayList<>(options);
            more.add(option);
            return new Mount(destination, type, source, more);
        }

        public static Mount bind(Path source, String destination, boolean readOnly) {
            List<String> opts = new ArrayList<>(List.of("rbind", "rprivate"));
            if (readOnly) opts.add("ro");
            return new Mount(destination, "bind", source.toString(), opts);
        }

        public static Mount tmpfs(String destination, List<String> options) {
            return new Mount(destination, "tmpfs", "tmpfs", options);
        }
    }

    /**
     * A device node to make in the container, and the cgroup rule that lets the container use it.
     *
     * @param path where it appears in the container
     * @param type 'c' (character) or 'b' (block)
     * @param permissions the cgroup access, some of "rwm"
     */
    public record Device(String path, char type, long major, long minor, int fileMode, int uid, int gid, String permissions) {
        public Device {
            if (type != 'c' && type != 'b') throw new IllegalArgumentException("device " + path + ": type must be 'c' or 'b', not '" + type + "'");
            permissions = permissions == null || permissions.isEmpty() ? "rwm" : permissions;
            if (!permissions.matches("[rwm]{1,3}")) {
                throw new IllegalArgumentException("device " + path + ": invalid permissions \"" + permissions + "\" (use some of r, w, m)");
            }
        }
    }

    /**
     * A resource limit; {@code type} is "RLIMIT_NOFILE" or Docker's short name "nofile".
     * Ask for no more than the daemon's own hard limit: the runtime cannot raise it.
     */
    public record Rlimit(String type, long soft, long hard) {
        public Rlimit {
            Objects.requireNonNull(type, "type");
            String t = type.toUpperCase(java.util.Locale.ROOT);
            type = t.startsWith("RLIMIT_") ? t : "RLIMIT_" + t;
            if (soft > hard) throw new IllegalArgumentException("ulimit " + type + ": soft limit " + soft + " is above the hard limit " + hard);
        }
    }

    /**
     * Cgroup limits; null means not set. Memory figures are bytes; {@code memorySwap} is memory
     * plus swap as Docker counts it (-1 unlimited; unset with a memory limit: twice the memory).
     */
    public record Resources(
            Long cpuShares,
            Long cpuQuota,
            Long cpuPeriod,
            String cpusetCpus,
            String cpusetMems,
            Long memory,
            Long memoryReservation,
            Long memorySwap,
            Long memorySwappiness,
            Boolean oomKillDisable,
            Long pidsLimit,
            Integer blkioWeight) {
        public static final Resources NONE = new Resources(null, null, null, null, null, null, null, null, null, null, null, null);

        public Resources withMemory(Long memory) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }

        public Resources withMemorySwap(Long memorySwap) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }

        public Resources withCpuShares(Long cpuShares) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }

        public Resources withCpuQuota(Long cpuQuota, Long cpuPeriod) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }

        public Resources withCpuset(String cpus, String mems) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpus, mems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }

        public Resources withMemoryReservation(Long memoryReservation) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }

        public Resources withPidsLimit(Long pidsLimit) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }

        public Resources withBlkioWeight(Integer blkioWeight) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }

        public Resources withOomKillDisable(Boolean oomKillDisable) {
            return new Resources(cpuShares, cpuQuota, cpuPeriod, cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap,
                    memorySwappiness, oomKillDisable, pidsLimit, blkioWeight);
        }
    }

    public static final class Builder {
        private final Path rootfs;
        private final List<String> args;
        private List<String> env = new ArrayList<>();
        private String cwd = "/";
        private int uid;
        private int gid;
        private List<Integer> additionalGids = new ArrayList<>();
        private Integer umask;
        private String hostname;
        private String domainname;
        private boolean tty;
        private boolean openStdin;
        private boolean stdinOnce;
        private int consoleHeight;
        private int consoleWidth;
        private boolean readonlyRootfs;
        private List<Mount> mounts = new ArrayList<>();
        private Map<Namespace, NamespaceMode> namespaces = new LinkedHashMap<>();
        private List<String> capAdd = new ArrayList<>();
        private List<String> capDrop = new ArrayList<>();
        private boolean privileged;
        private List<Device> devices = new ArrayList<>();
        private List<String> deviceCgroupRules = new ArrayList<>();
        private Map<String, String> sysctls = new LinkedHashMap<>();
        private List<Rlimit> rlimits = new ArrayList<>();
        private boolean noNewPrivileges;
        private Integer oomScoreAdj;
        private Resources resources = Resources.NONE;
        private String cgroupParent = "/berth";
        private long shmSize = DEFAULT_SHM_SIZE;
        private Map<String, Object> seccomp;
        private Map<String, String> annotations = new LinkedHashMap<>();
        private List<String> maskedPaths;
        private List<String> readonlyPaths;

        private Builder(Path rootfs, List<String> args) {
            this.rootfs = rootfs;
            this.args = List.copyOf(args);
        }

        public Builder env(List<String> env) { this.env = new ArrayList<>(env); return this; }
        public Builder addEnv(String keyValue) { this.env.add(keyValue); return this; }
        public Builder cwd(String cwd) { this.cwd = cwd; return this; }
        public Builder user(int uid, int gid) { this.uid = uid; this.gid = gid; return this; }
        public Builder additionalGids(List<Integer> gids) { this.additionalGids = new ArrayList<>(gids); return this; }
        public Builder umask(Integer umask) { this.umask = umask; return this; }
        public Builder hostname(String hostname) { this.hostname = hostname; return this; }
        public Builder domainname(String domainname) { this.domainname = domainname; return this; }
        public Builder tty(boolean tty) { this.tty = tty; return this; }
        public Builder openStdin(boolean openStdin) { this.openStdin = openStdin; return this; }
        public Builder stdinOnce(boolean stdinOnce) { this.stdinOnce = stdinOnce; return this; }
        public Builder consoleSize(int height, int width) { this.consoleHeight = height; this.consoleWidth = width; return this; }
        public Builder readonlyRootfs(boolean readonly) { this.readonlyRootfs = readonly; return this; }
        public Builder mounts(List<Mount> mounts) { this.mounts = new ArrayList<>(mounts); return this; }
        public Builder addMount(Mount mount) { this.mounts.add(mount); return this; }
        public Builder namespace(Namespace ns, NamespaceMode mode) { this.namespaces.put(ns, mode); return this; }
        public Builder capAdd(List<String> caps) { this.capAdd = new ArrayList<>(caps); return this; }
        public Builder capDrop(List<String> caps) { this.capDrop = new ArrayList<>(caps); return this; }
        public Builder privileged(boolean privileged) { this.privileged = privileged; return this; }
        public Builder devices(List<Device> devices) { this.devices = new ArrayList<>(devices); return this; }
        public Builder deviceCgroupRules(List<String> rules) { this.deviceCgroupRules = new ArrayList<>(rules); return this; }
        public Builder sysctls(Map<String, String> sysctls) { this.sysctls = new LinkedHashMap<>(sysctls); return this; }
        public Builder rlimits(List<Rlimit> rlimits) { this.rlimits = new ArrayList<>(rlimits); return this; }
        public Builder noNewPrivileges(boolean nnp) { this.noNewPrivileges = nnp; return this; }
        public Builder oomScoreAdj(Integer adj) { this.oomScoreAdj = adj; return this; }
        public Builder resources(Resources resources) { this.resources = resources; return this; }
        public Builder cgroupParent(String parent) { this.cgroupParent = parent; return this; }
        public Builder shmSize(long bytes) { this.shmSize = bytes; return this; }
        public Builder seccomp(Map<String, Object> profile) { this.seccomp = profile; return this; }
        public Builder annotations(Map<String, String> annotations) { this.annotations = new LinkedHashMap<>(annotations); return this; }
        public Builder maskedPaths(List<String> paths) { this.maskedPaths = paths; return this; }
        public Builder readonlyPaths(List<String> paths) { this.readonlyPaths = paths; return this; }

        public ContainerSpec build() {
            return new ContainerSpec(args, env, cwd, uid, gid, additionalGids, umask, hostname, domainname, tty, openStdin, stdinOnce,
                    consoleHeight, consoleWidth, rootfs, readonlyRootfs, mounts, namespaces, capAdd, capDrop, privileged, devices,
                    deviceCgroupRules, sysctls, rlimits, noNewPrivileges, oomScoreAdj, resources, cgroupParent, shmSize, seccomp,
                    annotations, maskedPaths, readonlyPaths);
        }
    }
}
