package io.berth.runtime;

import io.berth.runtime.ContainerSpec.Namespace;
import io.berth.runtime.ContainerSpec.NamespaceMode;
import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Builds a container's OCI config.json from a {@link ContainerSpec} the way Docker does: its
 * default mounts, masked and read-only paths, device allow-list and capabilities, then the
 * user's mounts, namespaces and cgroup limits (cgroupfs path {@code <cgroupParent>/<id>}).
 */
public final class OciSpec {
    private OciSpec() {}

    static final JsonMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /** Docker's masked paths (empty tmpfs over directories, /dev/null over files). */
    public static final List<String> DOCKER_MASKED_PATHS = List.of(
            "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
            "/sys/devices/virtual/powercap");

    /** Docker's read-only paths. */
    public static final List<String> DOCKER_READONLY_PATHS = List.of(
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]*");
    private static final Pattern CGROUP_RULE = Pattern.compile("^([acb]) ([0-9]+|\\*):([0-9]+|\\*) ([rwm]{1,3})$");
    private static final BigInteger UNLIMITED = new BigInteger("18446744073709551615");

    /**
     * The propagation of the container's root mount: a mount asked shared (kubelet's
     * Bidirectional) makes it rshared and one asked slave (HostToContainer) rslave, or the
     * mounts made under it would not cross to the host or come from it (dockerd and containerd
     * do the same); otherwise the runtime's default.
     */
    static String rootfsPropagation(List<ContainerSpec.Mount> mounts) {
        boolean slave = false;
        for (ContainerSpec.Mount m : mounts) {
            for (String o : m.options()) {
                if (o.equals("rshared") || o.equals("shared")) return "rshared";
                if (o.equals("rslave") || o.equals("slave")) slave = true;
            }
        }
        return slave ? "rslave" : null;
    }

    /** The config for container {@code id}; throws IllegalArgumentException naming a bad field. */
    public static OciConfig build(String id, ContainerSpec s, HostFacts host) {
        if (!ID.matcher(id).matches()) throw new IllegalArgumentException("invalid container id \"" + id + "\"");
        Map<Namespace, NamespaceMode> ns = namespaces(s, host);
        boolean privateUts = ns.get(Namespace.UTS) instanceof NamespaceMode.Private;
        String hostname = s.hostname() != null && !s.hostname().isEmpty() && privateUts ? s.hostname() : null;
        String domainname = s.domainname() != null && !s.domainname().isEmpty() && privateUts ? s.domainname() : null;

        OciConfig.Linux linux = new OciConfig.Linux(
                devices(s),
                sysctls(s, ns, domainname),
                resources(s, host),
                cgroupsPath(s.cgroupParent(), id),
                namespaceList(ns),
                s.privileged() ? List.of() : (s.maskedPaths() == null ? DOCKER_MASKED_PATHS : s.maskedPaths()),
                s.privileged() ? List.of() : (s.readonlyPaths() == null ? DOCKER_READONLY_PATHS : s.readonlyPaths()),
                s.privileged() ? null : s.seccomp(),
                rootfsPropagation(s.mounts()));
        return new OciConfig(
                OciConfig.VERSION,
                process(s, host),
                new OciConfig.Root(s.rootfs().toAbsolutePath().toString(), s.readonlyRootfs() ? Boolean.TRUE : null),
                hostname,
                domainname,
                mounts(s, ns),
                s.annotations().isEmpty() ? null : new LinkedHashMap<>(s.annotations()),
                linux);
    }

    /**
     * The user's sysctls over dockerd's defaults: in a network namespace of its own a container
     * may ping and bind ports below 1024 without capabilities; and the domain name is set through
     * kernel.domainname, as runc before 1.2 ignores config.json's domainname.
     */
    static Map<String, String> sysctls(ContainerSpec s, Map<Namespace, NamespaceMode> ns, String domainname) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!(ns.get(Namespace.NETWORK) instanceof NamespaceMode.Host)) {
            out.put("net.ipv4.ip_unprivileged_port_start", "0");
            out.put("net.ipv4.ping_group_range", "0 2147483647");
        }
        if (domainname != null) out.put("kernel.domainname", domainname);
        out.putAll(s.sysctls());
        return out.isEmpty() ? null : out;
    }

    /** The cgroupfs path of container {@code id} under {@code parent}: "/berth/ID". */
    public static String cgroupsPath(String parent, String id) {
        String p = parent.startsWith("/") ? parent : "/" + parent;
        return (p.endsWith("/") ? p : p + "/") + id;
    }

    /** Writes config.json into {@code bundle} atomically. */
    public static void write(Path bundle, OciConfig config) throws IOException {
        Files.createDirectories(bundle);
        AtomicFiles.writeForThisBoot(bundle.resolve("config.json"), JSON.writeValueAsBytes(config)); // made again at each start
    }

    public static OciConfig read(Path bundle) throws IOException {
        return JSON.readValue(Files.readAllBytes(bundle.resolve("config.json")), OciConfig.class);
    }

    static OciConfig.Process process(ContainerSpec s, HostFacts host) {
        List<String> caps = Capabilities.resolve(s.capAdd(), s.capDrop(), s.privileged(), host.capabilities());
        OciConfig.ConsoleSize size = s.tty() && s.consoleHeight() > 0 && s.consoleWidth() > 0
                ? new OciConfig.ConsoleSize(s.consoleHeight(), s.consoleWidth()) : null;
        return new OciConfig.Process(
                s.tty(),
                size,
                user(s.uid(), s.gid(), s.umask(), s.additionalGids()),
                s.args(),
                s.env(),
                s.cwd(),
                capabilitySets(caps, s.uid()),
                rlimits(s.rlimits(), host),
                s.noNewPrivileges() ? Boolean.TRUE : null,
                s.oomScoreAdj(),
                null);
    }

    static OciConfig.User user(int uid, int gid, Integer umask, List<Integer> additionalGids) {
        List<Long> gids = additionalGids.isEmpty() ? null : additionalGids.stream().map(Integer::longValue).toList();
        return new OciConfig.User(uid, gid, umask, gids);
    }

    /**
     * As Docker: root gets the set as bounding, effective and permitted; another user only the
     * bounding set (execve would clear the others anyway). No inheritable or ambient ones.
     */
    static OciConfig.Capabilities capabilitySets(List<String> caps, int uid) {
        if (uid == 0) return new OciConfig.Capabilities(caps, caps, null, caps, null);
        return new OciConfig.Capabilities(caps, null, null, null, null);
    }

    static List<OciConfig.Rlimit> rlimits(List<ContainerSpec.Rlimit> requested, HostFacts host) {
        if (requested.isEmpty()) return null;
        List<OciConfig.Rlimit> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (ContainerSpec.Rlimit r : requested) {
            if (!seen.add(r.type())) throw new IllegalArgumentException("ulimit " + r.type() + " is given twice");
            Long daemonHard = host.hardLimits().get(r.type());
            if (!host.canRaiseLimits() && daemonHard != null && daemonHard >= 0 && (r.hard() < 0 || r.hard() > daemonHard)) {
                throw new IllegalArgumentException("ulimit " + r.type() + ": hard limit " + (r.hard() < 0 ? "unlimited" : r.hard())
                        + " is above this daemon's own hard limit " + daemonHard
                        + ", which it cannot raise without CAP_SYS_RESOURCE; ask for at most " + daemonHard);
            }
            out.add(new OciConfig.Rlimit(r.type(), unsigned(r.hard()), unsigned(r.soft())));
        }
        return out;
    }

    /** The limit as the runtime reads it: an unsigned 64-bit number, -1 meaning unlimited. */
    static BigInteger unsigned(long v) {
        return v < 0 ? UNLIMITED : BigInteger.valueOf(v);
    }

    private static Map<Namespace, NamespaceMode> namespaces(ContainerSpec s, HostFacts host) {
        Map<Namespace, NamespaceMode> ns = new LinkedHashMap<>();
        for (Namespace n : Namespace.values()) {
            NamespaceMode mode = s.namespaces().get(n);
            if (mode == null) {
                mode = n == Namespace.CGROUP && host.cgroupVersion() == 1 ? NamespaceMode.HOST : NamespaceMode.PRIVATE;
            }
            ns.put(n, mode);
        }
        return ns;
    }

    private static List<OciConfig.Namespace> namespaceList(Map<Namespace, NamespaceMode> ns) {
        List<OciConfig.Namespace> out = new ArrayList<>();
        for (Namespace n : List.of(Namespace.MOUNT, Namespace.NETWORK, Namespace.UTS, Namespace.PID, Namespace.IPC, Namespace.CGROUP)) {
            switch (ns.get(n)) {
                case NamespaceMode.Private p -> out.add(new OciConfig.Namespace(n.ociName(), null));
                case NamespaceMode.Join j -> out.add(new OciConfig.Namespace(n.ociName(), j.path().toString()));
                case NamespaceMode.Host h -> { }
            }
        }
        return out;
    }

    /** Docker's default mounts, less those the user replaces, then the user's. */
    static List<OciConfig.Mount> mounts(ContainerSpec s, Map<Namespace, NamespaceMode> ns) {
        boolean priv = s.privileged();
        String sysOpt = priv ? "rw" : "ro";
        List<OciConfig.Mount> defaults = new ArrayList<>(List.of(
                new OciConfig.Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
                new OciConfig.Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
                new OciConfig.Mount("/dev/pts", "devpts", "devpts",
                        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
                new OciConfig.Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", sysOpt)),
                new OciConfig.Mount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", sysOpt)),
                new OciConfig.Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev"))));
        if (ns.get(Namespace.IPC) instanceof NamespaceMode.Host) {
            defaults.add(new OciConfig.Mount("/dev/shm", "bind", "/dev/shm", List.of("rbind", "nosuid", "noexec", "nodev")));
        } else {
            defaults.add(new OciConfig.Mount("/dev/shm", "tmpfs", "shm",
                    List.of("nosuid", "noexec", "nodev", "mode=1777", "size=" + s.shmSize())));
        }
        Set<String> userDest = new HashSet<>();
        for (ContainerSpec.Mount m : s.mounts()) userDest.add(clean(m.destination()));
        boolean userDev = userDest.contains("/dev");
        List<OciConfig.Mount> out = new ArrayList<>();
        for (OciConfig.Mount m : defaults) {
            if (userDest.contains(m.destination())) continue;
            if (userDev && m.destination().startsWith("/dev/")) continue;
            out.add(m);
        }
        for (ContainerSpec.Mount m : s.mounts()) {
            out.add(new OciConfig.Mount(clean(m.destination()), m.type(), m.source(), m.options()));
        }
        return out;
    }

    private static String clean(String path) {
        String p = Path.of(path).normalize().toString();
        return p.isEmpty() ? "/" : p;
    }

    static List<OciConfig.Device> devices(ContainerSpec s) {
        List<OciConfig.Device> out = new ArrayList<>();
        Set<String> paths = new HashSet<>();
        if (s.privileged()) {
            for (ContainerSpec.Device d : hostDevices()) {
                if (paths.add(d.path())) out.add(device(d));
            }
        }
        for (ContainerSpec.Device d : s.devices()) {
            if (paths.add(d.path())) {
                out.add(device(d));
            } else {
                out.replaceAll(o -> o.path().equals(d.path()) ? device(d) : o);
            }
        }
        return out.isEmpty() ? null : out;
    }

    private static OciConfig.Device device(ContainerSpec.Device d) {
        return new OciConfig.Device(d.path(), String.valueOf(d.type()), d.major(), d.minor(), d.fileMode() & 07777,
                (long) d.uid(), (long) d.gid());
    }

    /**
     * The character and block devices under the host's /dev, as a privileged container gets
     * them (not pts, shm, mqueue or the console).
     */
    public static List<ContainerSpec.Device> hostDevices() {
        List<ContainerSpec.Device> out = new ArrayList<>();
        Path dev = Path.of("/dev");
        Set<String> skipDirs = Set.of("/dev/pts", "/dev/shm", "/dev/fd", "/dev/mqueue", "/dev/.lxc", "/dev/.lxd-mounts", "/dev/.udev");
        try (Stream<Path> walk = Files.walk(dev)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                String name = p.toString();
                if (skipDirs.stream().anyMatch(d -> name.equals(d) || name.startsWith(d + "/"))) continue;
                if (name.equals("/dev/console")) continue;
                try {
                    ContainerSpec.Device d = hostDevice(p, name, "rwm");
                    if (d != null) out.add(d);
                } catch (IOException ignored) {
                    // vanished or unreadable
                }
            }
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // keep what was found
        }
        return out;
    }

    /** The device node at {@code hostPath} as a device at {@code containerPath}, or null if it is none. */
    public static ContainerSpec.Device hostDevice(Path hostPath, String containerPath, String permissions) throws IOException {
        Map<String, Object> a = Files.readAttributes(hostPath, "unix:mode,rdev,uid,gid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        int type = mode & 0170000;
        char t;
        if (type == 0020000) t = 'c';
        else if (type == 0060000) t = 'b';
        else return null;
        long rdev = (Long) a.get("rdev");
        return new ContainerSpec.Device(containerPath, t, io.berth.sys.Syscalls.major(rdev), io.berth.sys.Syscalls.minor(rdev),
                mode & 07777, (Integer) a.get("uid"), (Integer) a.get("gid"), permissions);
    }

    static OciConfig.Resources resources(ContainerSpec s, HostFacts host) {
        List<OciConfig.DeviceRule> rules = new ArrayList<>();
        if (s.privileged()) {
            rules.add(new OciConfig.DeviceRule(true, null, null, null, "rwm"));
        } else {
            rules.add(new OciConfig.DeviceRule(false, null, null, null, "rwm"));
            rules.add(new OciConfig.DeviceRule(true, "c", 1L, 5L, "rwm"));
            rules.add(new OciConfig.DeviceRule(true, "c", 1L, 3L, "rwm"));
            rules.add(new OciConfig.DeviceRule(true, "c", 1L, 9L, "rwm"));
            rules.add(new OciConfig.DeviceRule(true, "c", 1L, 8L, "rwm"));
            rules.add(new OciConfig.DeviceRule(true, "c", 5L, 0L, "rwm"));
            rules.add(new OciConfig.DeviceRule(true, "c", 5L, 1L, "rwm"));
            rules.add(new OciConfig.DeviceRule(false, "c", 10L, 229L, "rwm"));
            for (ContainerSpec.Device d : s.devices()) {
                rules.add(new OciConfig.DeviceRule(true, String.valueOf(d.type()), d.major(), d.minor(), d.permissions()));
            }
            for (String rule : s.deviceCgroupRules()) rules.add(cgroupRule(rule));
        }
        ContainerSpec.Resources r = s.resources();

        OciConfig.Memory memory = null;
        Long swap = null;
        if (host.swapLimit()) {
            if (r.memorySwap() != null && r.memorySwap() != 0) {
                swap = r.memorySwap();
            } else if (r.memory() != null && r.memory() > 0) {
                swap = r.memory() * 2;
            }
        }
        if (r.memorySwap() != null && r.memorySwap() > 0 && r.memory() != null && r.memory() > 0 && r.memorySwap() < r.memory()) {
            throw new IllegalArgumentException("the memory+swap limit " + r.memorySwap() + " is below the memory limit " + r.memory()
                    + ": it must be at least the memory limit (or -1 for unlimited swap)");
        }
        Long limit = r.memory() != null && r.memory() > 0 ? r.memory() : null;
        if (limit == null && swap != null && swap > 0) swap = null;
        Long reservation = r.memoryReservation() != null && r.memoryReservation() > 0 ? r.memoryReservation() : null;
        Long swappiness = r.memorySwappiness() != null && r.memorySwappiness() >= 0 && host.cgroupVersion() == 1 ? r.memorySwappiness() : null;
        Boolean disableOom = Boolean.TRUE.equals(r.oomKillDisable()) ? Boolean.TRUE : null;
        if (limit != null || swap != null || reservation != null || swappiness != null || disableOom != null) {
            memory = new OciConfig.Memory(limit, reservation, swap, swappiness, disableOom);
        }

        OciConfig.Cpu cpu = null;
        Long shares = r.cpuShares() != null && r.cpuShares() > 0 ? r.cpuShares() : null;
        Long quota = r.cpuQuota() != null && r.cpuQuota() != 0 ? r.cpuQuota() : null;
        Long period = r.cpuPeriod() != null && r.cpuPeriod() > 0 ? r.cpuPeriod() : null;
        String cpus = r.cpusetCpus() != null && !r.cpusetCpus().isEmpty() ? r.cpusetCpus() : null;
        String mems = r.cpusetMems() != null && !r.cpusetMems().isEmpty() ? r.cpusetMems() : null;
        if (shares != null || quota != null || period != null || cpus != null || mems != null) {
            cpu = new OciConfig.Cpu(shares, quota, period, cpus, mems);
        }

        OciConfig.Pids pids = null;
        if (r.pidsLimit() != null && (r.pidsLimit() > 0 || r.pidsLimit() == -1)) pids = new OciConfig.Pids(r.pidsLimit());

        OciConfig.BlockIO blkio = null;
        if (r.blkioWeight() != null && r.blkioWeight() > 0) {
            if (r.blkioWeight() < 10 || r.blkioWeight() > 1000) {
                throw new IllegalArgumentException("blkio weight " + r.blkioWeight() + " is out of range: use 10 to 1000");
            }
            if (host.blkioWeight()) blkio = new OciConfig.BlockIO(r.blkioWeight());
        }
        return new OciConfig.Resources(rules, memory, cpu, pids, blkio);
    }

    /** A rule as Docker's --device-cgroup-rule writes it: "c 1:3 rwm", "b *:* m", "a *:* rwm". */
    static OciConfig.DeviceRule cgroupRule(String rule) {
        Matcher m = CGROUP_RULE.matcher(rule.trim());
        if (!m.matches()) throw new IllegalArgumentException("invalid device cgroup rule \"" + rule + "\": use e.g. \"c 1:3 rwm\"");
        String type = m.group(1).equals("a") ? null : m.group(1);
        Long major = m.group(2).equals("*") ? null : Long.parseLong(m.group(2));
        Long minor = m.group(3).equals("*") ? null : Long.parseLong(m.group(3));
        return new OciConfig.DeviceRule(true, type, major, minor, m.group(4));
    }
}
