package io.berth.container;

import io.berth.container.ContainerSettings.Device;
import io.berth.container.ContainerSettings.DockerOnly;
import io.berth.container.ContainerSettings.LogSettings;
import io.berth.container.ContainerSettings.MountRequest;
import io.berth.container.ContainerSettings.NamespaceMode;
import io.berth.container.ContainerSettings.Namespaces;
import io.berth.container.ContainerSettings.Networking;
import io.berth.container.ContainerSettings.PortBinding;
import io.berth.container.ContainerSettings.Resources;
import io.berth.container.ContainerSettings.RestartMode;
import io.berth.container.ContainerSettings.Seccomp;
import io.berth.container.ContainerSettings.Security;
import io.berth.container.ContainerSettings.TmpfsOptions;
import io.berth.container.ContainerSettings.Ulimit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The one translation between Docker's HostConfig (the API's and today's on-disk shape) and
 * {@link ContainerSettings}. {@link #toSettings} takes a HostConfig with dockerd's defaults filled
 * in ({@link HostConfig#withDefaults}) and refuses what it cannot represent with dockerd's
 * messages; {@link #toDocker} gives back that same HostConfig for inspect, so that
 * {@code toDocker(toSettings(h))} equals {@code h} for everything the docker CLI sends.
 */
public final class DockerHostConfig {
    private DockerHostConfig() {}

    /** Docker's HostConfig (defaults applied) in Berth's terms; InvalidArgument with dockerd's messages. */
    public static ContainerSettings toSettings(HostConfig h) {
        RestartPolicies.validate(h.restartPolicy(), h.isAutoRemove());
        HostConfig.RestartPolicy rp = h.restart();
        Resources resources = new Resources(l(h.cpuShares()), l(h.nanoCpus()), l(h.cpuPeriod()), l(h.cpuQuota()),
                l(h.cpuRealtimePeriod()), l(h.cpuRealtimeRuntime()), s(h.cpusetCpus()), s(h.cpusetMems()), l(h.memory()),
                l(h.memoryReservation()), l(h.memorySwap()), h.memorySwappiness(), Boolean.TRUE.equals(h.oomKillDisable()),
                h.pidsLimit(), h.blkioWeight() == null ? 0 : h.blkioWeight(), s(h.cgroupParent()),
                map(h.ulimits(), u -> new Ulimit(u.name(), u.soft(), u.hard())));
        Namespaces namespaces = new Namespaces(mode("IPC", h.ipcMode()), mode("PID", h.pidMode()), mode("UTS", h.utsMode()),
                mode("USER", h.usernsMode()), mode("cgroup namespace", h.cgroupnsMode()));
        Map<String, List<PortBinding>> ports = new LinkedHashMap<>();
        if (h.portBindings() != null) {
            h.portBindings().forEach((port, list) -> ports.put(port, list == null ? List.of()
                    : map(list, b -> new PortBinding(b.hostIp(), b.hostPort()))));
        }
        Networking networking = new Networking(h.network(), ports, Boolean.TRUE.equals(h.publishAllPorts()), nz(h.dns()),
                nz(h.dnsOptions()), nz(h.dnsSearch()), nz(h.extraHosts()), nz(h.links()));
        ContainerSettings.Mounts mounts = new ContainerSettings.Mounts(nz(h.binds()), nz(h.volumesFrom()),
                h.tmpfs() == null ? Map.of() : h.tmpfs(), map(h.mounts(), m -> new MountRequest(m.type(), m.source(), m.target(),
                        m.readOnly(), m.bindOptions(), m.tmpfsOptions() == null ? null
                        : new TmpfsOptions(m.tmpfsOptions().sizeBytes(), m.tmpfsOptions().mode()))));
        HostConfig.LogConfig lc = h.logConfig() == null ? new HostConfig.LogConfig("json-file", Map.of()) : h.logConfig();
        List<Integer> console = h.consoleSize();
        boolean hasConsole = console != null && console.size() == 2;
        ContainerSettings.Process process = new ContainerSettings.Process(h.init(), l(h.shmSize()),
                h.oomScoreAdj() == null ? 0 : h.oomScoreAdj(), hasConsole ? console.get(0) : 0, hasConsole ? console.get(1) : 0,
                h.sysctls() == null ? Map.of() : h.sysctls());
        return new ContainerSettings(resources, security(h), namespaces, networking, mounts,
                new ContainerSettings.RestartPolicy(RestartMode.of(rp.nameOrNo()), rp.retries()), h.isAutoRemove(),
                new LogSettings(s(lc.type()), lc.config() == null ? Map.of() : lc.config()), process,
                map(h.devices(), d -> new Device(d.pathOnHost(), d.pathInContainer(), d.cgroupPermissions())),
                nz(h.deviceCgroupRules()), s(h.runtime()),
                new DockerOnly(s(h.containerIdFile()), s(h.volumeDriver()), s(h.isolation()), s(h.cgroup())), null);
    }

    /** --security-opt and --cap-add/--cap-drop, checked and parsed: the only place they are read. */
    static Security security(HostConfig h) {
        checkCaps("CapAdd", h.capAdd());
        checkCaps("CapDrop", h.capDrop());
        boolean nnp = false;
        Seccomp seccomp = new Seccomp.Default();
        String apparmor = null;
        List<String> labels = new ArrayList<>();
        for (String opt : nz(h.securityOpt())) {
            // dockerd takes "key:value" as well as "key=value"
            String o = opt.replaceFirst("^([a-z-]+):", "$1=");
            if (o.equals("no-new-privileges") || o.equals("no-new-privileges=true")) nnp = true;
            else if (o.equals("no-new-privileges=false")) nnp = false;
            else if (o.startsWith("seccomp=")) {
                String v = o.substring("seccomp=".length()).strip();
                seccomp = switch (v) {
                    case "unconfined" -> new Seccomp.Unconfined();
                    case "builtin" -> new Seccomp.Builtin();
                    default -> new Seccomp.Custom(v);
                };
            } else if (o.startsWith("apparmor=")) apparmor = o.substring("apparmor=".length());
            else if (o.startsWith("label=")) labels.add(o.substring("label=".length()));
            else throw ContainerException.invalid("invalid --security-opt 2: \"" + opt + "\"");
        }
        return new Security(h.isPrivileged(), nz(h.capAdd()), nz(h.capDrop()), nnp, seccomp, apparmor, labels,
                Boolean.TRUE.equals(h.readonlyRootfs()), h.maskedPaths(), h.readonlyPaths(), nz(h.groupAdd()),
                nz(h.securityOpt()));
    }

    private static void checkCaps(String field, List<String> caps) {
        for (String cap : nz(caps)) {
            try {
                io.berth.runtime.Capabilities.normalize(cap);
            } catch (IllegalArgumentException e) {
                throw ContainerException.invalid("invalid " + field + ": " + e.getMessage());
            }
        }
    }

    private static NamespaceMode mode(String what, String word) {
        try {
            return NamespaceMode.parse(word);
        } catch (IllegalArgumentException e) {
            throw ContainerException.invalid("invalid " + what + " mode: " + word);
        }
    }

    /** Docker's HostConfig for inspect: what {@link #toSettings} was given. */
    public static HostConfig toDocker(ContainerSettings c) {
        Resources r = c.resources();
        Security sec = c.security();
        Namespaces ns = c.namespaces();
        Networking net = c.networking();
        ContainerSettings.Mounts m = c.mounts();
        ContainerSettings.Process p = c.process();
        DockerOnly d = c.dockerOnly();
        Map<String, List<HostConfig.PortBinding>> ports = new LinkedHashMap<>();
        net.portBindings().forEach((port, list) -> ports.put(port,
                new ArrayList<>(map(list, b -> new HostConfig.PortBinding(b.hostIp(), b.hostPort())))));
        return new HostConfig(orNull(m.binds()), d.containerIdFile(),
                new HostConfig.LogConfig(c.log().driver(), new LinkedHashMap<>(c.log().options())), net.mode(), ports,
                new HostConfig.RestartPolicy(c.restart().mode().word(), c.restart().maxRetries()), c.autoRemove(), d.volumeDriver(),
                orNull(m.volumesFrom()), List.of(p.consoleHeight(), p.consoleWidth()), orNull(sec.capAdd()),
                orNull(sec.capDrop()), ns.cgroup().word(), new ArrayList<>(net.dns()), new ArrayList<>(net.dnsOptions()),
                new ArrayList<>(net.dnsSearch()), orNull(net.extraHosts()), orNull(sec.groupAdd()), ns.ipc().word(), d.cgroup(),
                orNull(net.links()), p.oomScoreAdj(), ns.pid().word(), sec.privileged(), net.publishAllPorts(),
                sec.readonlyRootfs(), orNull(sec.optionsAsGiven()), m.tmpfs().isEmpty() ? null : new LinkedHashMap<>(m.tmpfs()),
                ns.uts().word(), ns.user().word(), p.shmSize(), p.sysctls().isEmpty() ? null : new LinkedHashMap<>(p.sysctls()),
                c.runtime(), d.isolation(), r.cpuShares(), r.memory(), r.nanoCpus(), r.cgroupParent(), r.blkioWeight(),
                r.cpuPeriod(), r.cpuQuota(), r.cpuRealtimePeriod(), r.cpuRealtimeRuntime(), r.cpusetCpus(), r.cpusetMems(),
                new ArrayList<>(map(c.devices(), x -> new HostConfig.DeviceMapping(x.pathOnHost(), x.pathInContainer(),
                        x.cgroupPermissions()))),
                orNull(c.deviceCgroupRules()), r.memoryReservation(), r.memorySwap(), r.memorySwappiness(), r.oomKillDisable(),
                r.pidsLimit(), map(r.ulimits(), u -> new HostConfig.Ulimit(u.name(), u.soft(), u.hard())),
                p.init(), m.mounts().isEmpty() ? null : map(m.mounts(), x -> new HostConfig.MountSpec(x.type(), x.source(),
                        x.target(), x.readOnly(), x.bindOptions(), x.tmpfsOptions() == null ? null
                        : new HostConfig.TmpfsOptions(x.tmpfsOptions().sizeBytes(), x.tmpfsOptions().mode()))),
                sec.maskedPaths(), sec.readonlyPaths());
    }

    private static long l(Number n) {
        return n == null ? 0 : n.longValue();
    }

    private static String s(String v) {
        return v == null ? "" : v;
    }

    private static <T> List<T> nz(List<T> v) {
        return v == null ? List.of() : v;
    }

    /** Docker shows null, not [], for these lists when nothing was asked. */
    private static <T> List<T> orNull(List<T> v) {
        return v.isEmpty() ? null : v;
    }

    private static <A, B> List<B> map(List<A> in, Function<A, B> f) {
        List<B> out = new ArrayList<>();
        if (in != null) for (A a : in) out.add(f.apply(a));
        return out;
    }
}
