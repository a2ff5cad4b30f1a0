package io.berth.engine.spec;

import io.berth.container.Commands;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerSettings;
import io.berth.container.ContainerSettings.NamespaceMode;
import io.berth.runtime.Capabilities;
import io.berth.runtime.ContainerSpec;
import io.berth.runtime.ContainerSpec.Namespace;
import io.berth.runtime.OciSpec;
import io.berth.runtime.SeccompProfile;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The steps that turn a container's settings into its OCI spec, and {@link #build} that runs them in order. */
public final class SpecSteps {
    private SpecSteps() {}

    /** Every concern, in the order the spec is drafted; none depends on another's output. */
    public static final List<SpecStep> ALL = List.of(SpecSteps::process, SpecSteps::hostIdentity, SpecSteps::namespaces,
            SpecSteps::mounts, SpecSteps::resources, SpecSteps::security, SpecSteps::devices);

    public static ContainerSpec build(SpecInput in) throws IOException {
        ContainerSpec.Builder draft = ContainerSpec.builder(in.rootfs(), argv(in));
        for (SpecStep step : ALL) step.apply(in, draft);
        return draft.build();
    }

    /** The command: path and args, behind the init when --init asked for one. */
    static List<String> argv(SpecInput in) {
        ContainerRecord r = in.record();
        List<String> argv = new ArrayList<>();
        if (in.initBinary() != null) argv.addAll(List.of("/sbin/docker-init", "--"));
        argv.add(r.path());
        argv.addAll(r.args());
        return argv;
    }

    /** Environment, working directory, user, terminal and stdin, OOM score, rlimits. */
    static void process(SpecInput in, ContainerSpec.Builder b) {
        ContainerRecord r = in.record();
        ContainerSettings.Process p = in.settings().process();
        List<String> env = new ArrayList<>(Commands.processEnv(r.config().env() == null ? List.of() : r.config().env(),
                r.config().hostname(), r.tty()));
        if (env.stream().noneMatch(e -> e.startsWith("HOME="))) env.add("HOME=" + in.user().home());
        for (String link : in.linkEnv()) { // the container's own variables win, as in dockerd
            String key = link.substring(0, link.indexOf('=') + 1);
            if (env.stream().noneMatch(e -> e.startsWith(key))) env.add(link);
        }
        b.env(env)
                .cwd(workingDir(r))
                .user(in.user().uid(), in.user().gid())
                .additionalGids(in.user().additionalGids())
                .tty(r.tty())
                .openStdin(Boolean.TRUE.equals(r.config().openStdin()))
                .stdinOnce(Boolean.TRUE.equals(r.config().stdinOnce()))
                .oomScoreAdj(p.oomScoreAdj() == 0 ? null : p.oomScoreAdj());
        if (p.consoleHeight() > 0) b.consoleSize(p.consoleHeight(), p.consoleWidth());
        b.rlimits(in.settings().resources().ulimits().stream()
                .map(u -> new ContainerSpec.Rlimit(u.name(), u.soft(), u.hard())).toList());
    }

    public static String workingDir(ContainerRecord r) {
        String cwd = r.config().workingDir();
        return cwd == null || cwd.isEmpty() ? "/" : cwd;
    }

    /** Hostname, domain name and the namespaced sysctls. */
    static void hostIdentity(SpecInput in, ContainerSpec.Builder b) {
        b.hostname(in.record().config().hostname())
                .domainname(in.record().config().domainname())
                .sysctls(in.settings().process().sysctls());
    }

    /**
     * Which namespaces are the host's, another container's or one kept in a file (a pod's); the
     * rest are the container's own. The network's is the one the network box made, unless host,
     * container: or a pod's.
     */
    static void namespaces(SpecInput in, ContainerSpec.Builder b) {
        ContainerSettings.Namespaces ns = in.settings().namespaces();
        NamespaceMode net = in.settings().networking().namespace();
        if (net instanceof NamespaceMode.Private && in.netnsPath() != null) {
            b.namespace(Namespace.NETWORK, ContainerSpec.NamespaceMode.join(Path.of(in.netnsPath())));
        } else {
            shareOrJoin(in, b, Namespace.NETWORK, net);
        }
        shareOrJoin(in, b, Namespace.PID, ns.pid());
        // ipc container: joins the IPC namespace only: the peer's /dev/shm tmpfs lives in its own mount
        // namespace and cannot be bound from there (dockerd mounts a shareable one on the host); not done yet
        shareOrJoin(in, b, Namespace.IPC, ns.ipc());
        if (ns.uts() instanceof NamespaceMode.Host || ns.uts() instanceof NamespaceMode.Path) shareOrJoin(in, b, Namespace.UTS, ns.uts());
    }

    private static void shareOrJoin(SpecInput in, ContainerSpec.Builder b, Namespace which, NamespaceMode mode) {
        switch (mode) {
            case NamespaceMode.Host h -> b.namespace(which, ContainerSpec.NamespaceMode.HOST);
            case NamespaceMode.Container c -> b.namespace(which, in.peers().namespaceOf(c.ref(), which));
            case NamespaceMode.Path p -> b.namespace(which, ContainerSpec.NamespaceMode.join(Path.of(p.path())));
            default -> { } // its own, as the runtime makes by default
        }
    }

    /** The etc files, the init, then volumes, binds and tmpfs; /dev/shm's size. */
    static void mounts(SpecInput in, ContainerSpec.Builder b) {
        List<ContainerSpec.Mount> mounts = new ArrayList<>();
        mounts.add(ContainerSpec.Mount.bind(in.etc().resolvConf(), "/etc/resolv.conf", false));
        mounts.add(ContainerSpec.Mount.bind(in.etc().hostname(), "/etc/hostname", false));
        mounts.add(ContainerSpec.Mount.bind(in.etc().hosts(), "/etc/hosts", false));
        if (in.initBinary() != null) mounts.add(ContainerSpec.Mount.bind(in.initBinary(), "/sbin/docker-init", true));
        mounts.addAll(in.wiredMounts());
        b.mounts(mounts).shmSize(in.settings().process().shmSize());
    }

    /** Cgroup limits and parent. */
    static void resources(SpecInput in, ContainerSpec.Builder b) {
        ContainerSettings.Resources r = in.settings().resources();
        b.resources(cgroupLimits(r));
        if (!r.cgroupParent().isEmpty()) b.cgroupParent(r.cgroupParent());
    }

    /** The settings' limits as the runtime takes them: --cpus as a quota over 100 ms, no zeros. */
    public static ContainerSpec.Resources cgroupLimits(ContainerSettings.Resources r) {
        Long quota = pos(r.cpuQuota());
        Long period = pos(r.cpuPeriod());
        if (r.nanoCpus() > 0) {
            period = 100_000L;
            quota = r.nanoCpus() * period / 1_000_000_000L;
        }
        return new ContainerSpec.Resources(pos(r.cpuShares()), quota, period, blank(r.cpusetCpus()), blank(r.cpusetMems()),
                pos(r.memory()), pos(r.memoryReservation()), r.memorySwap() == 0 ? null : r.memorySwap(),
                r.memorySwappiness() == null || r.memorySwappiness() < 0 ? null : r.memorySwappiness(),
                r.oomKillDisable() ? Boolean.TRUE : null,
                r.pidsLimit() == null || r.pidsLimit() == 0 ? null : r.pidsLimit(),
                r.blkioWeight() == 0 ? null : r.blkioWeight());
    }

    /** Privileges, capabilities, read-only root and paths, no-new-privileges and the seccomp filter. */
    static void security(SpecInput in, ContainerSpec.Builder b) {
        ContainerSettings.Security s = in.settings().security();
        b.readonlyRootfs(s.readonlyRootfs())
                .privileged(s.privileged())
                .capAdd(s.capAdd())
                .capDrop(s.capDrop())
                .noNewPrivileges(s.noNewPrivileges());
        if (s.maskedPaths() != null) b.maskedPaths(s.maskedPaths());
        if (s.readonlyPaths() != null) b.readonlyPaths(s.readonlyPaths());
        String arch = SeccompProfile.hostGoArch();
        b.seccomp(switch (s.seccomp()) {
            case ContainerSettings.Seccomp.Default d -> s.privileged() ? null : SeccompProfile.dockerDefault(effectiveCaps(in), arch);
            case ContainerSettings.Seccomp.Builtin d -> SeccompProfile.dockerDefault(effectiveCaps(in), arch);
            case ContainerSettings.Seccomp.Unconfined u -> SeccompProfile.unconfined();
            case ContainerSettings.Seccomp.Custom c -> SeccompProfile.fromJson(c.json(), effectiveCaps(in), arch);
        });
    }

    /** The capabilities the process will hold: what the seccomp profile's conditional rules look at. */
    static Set<String> effectiveCaps(SpecInput in) {
        ContainerSettings.Security s = in.settings().security();
        return new LinkedHashSet<>(Capabilities.resolve(s.capAdd(), s.capDrop(), s.privileged(), in.hostCapabilities()));
    }

    /** Host devices (checked to be device nodes) and device cgroup rules. */
    static void devices(SpecInput in, ContainerSpec.Builder b) throws IOException {
        List<ContainerSpec.Device> devices = new ArrayList<>();
        for (ContainerSettings.Device d : in.settings().devices()) {
            String inCtr = d.pathInContainer() == null || d.pathInContainer().isEmpty() ? d.pathOnHost() : d.pathInContainer();
            ContainerSpec.Device dev;
            try {
                dev = OciSpec.hostDevice(Path.of(d.pathOnHost()), inCtr, d.cgroupPermissions());
            } catch (NoSuchFileException e) {
                throw new IOException("error gathering device information while adding custom device \"" + d.pathOnHost()
                        + "\": no such file or directory", e);
            }
            if (dev == null) {
                throw ContainerException.invalid("error gathering device information while adding custom device \""
                        + d.pathOnHost() + "\": not a device node");
            }
            devices.add(dev);
        }
        b.devices(devices).deviceCgroupRules(in.settings().deviceCgroupRules());
    }

    private static Long pos(long v) {
        return v <= 0 ? null : v;
    }

    private static String blank(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
