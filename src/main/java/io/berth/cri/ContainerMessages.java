package io.berth.cri;

import io.berth.container.ContainerRecord;
import io.berth.container.ContainerSettings;
import io.berth.cri.v1.Container;
import io.berth.cri.v1.ContainerConfig;
import io.berth.cri.v1.ContainerFilter;
import io.berth.cri.v1.ContainerMetadata;
import io.berth.cri.v1.ContainerResources;
import io.berth.cri.v1.ContainerState;
import io.berth.cri.v1.ContainerStatus;
import io.berth.cri.v1.ImageSpec;
import io.berth.cri.v1.MountPropagation;
import io.berth.cri.v1.KeyValue;
import io.berth.cri.v1.LinuxContainerResources;
import io.berth.cri.v1.LinuxContainerSecurityContext;
import io.berth.cri.v1.Mount;
import io.berth.cri.v1.SecurityProfile;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Maps the CRI's container messages into Berth's {@link PodContainerSpec}, in one place. */
final class ContainerMessages {
    private ContainerMessages() {}

    static PodContainerSpec spec(Pod pod, ContainerConfig c) {
        if (!c.hasMetadata() || c.getMetadata().getName().isEmpty()) throw invalid("CreateContainer needs metadata with a name");
        if (c.getImage().getImage().isEmpty()) throw invalid("CreateContainer needs an image");
        List<String> env = new ArrayList<>();
        for (KeyValue kv : c.getEnvsList()) {
            if (kv.getKey().isEmpty() || kv.getKey().contains("=")) throw invalid("invalid environment variable name \"" + kv.getKey() + "\"");
            env.add(kv.getKey() + "=" + kv.getValue());
        }
        List<PodContainerSpec.MountSpec> mounts = new ArrayList<>();
        for (Mount m : c.getMountsList()) {
            if (m.hasImage() && !m.getImage().getImage().isEmpty()) throw new KindedException(ErrorKind.NOT_IMPLEMENTED, "image volumes are not supported");
            if (!m.getContainerPath().startsWith("/")) throw invalid("mount destination \"" + m.getContainerPath() + "\" is not absolute");
            if (!m.getHostPath().startsWith("/")) throw invalid("mount source \"" + m.getHostPath() + "\" is not absolute");
            if (m.getRecursiveReadOnly() && !m.getReadonly()) throw invalid("a recursive read-only mount must be read-only: " + m.getContainerPath());
            if (m.getRecursiveReadOnly() && m.getPropagation() != MountPropagation.PROPAGATION_PRIVATE) {
                throw invalid("a recursive read-only mount must have private propagation: " + m.getContainerPath());
            }
            mounts.add(new PodContainerSpec.MountSpec(m.getContainerPath(), m.getHostPath(), m.getReadonly(), switch (m.getPropagation()) {
                case PROPAGATION_HOST_TO_CONTAINER -> PodContainerSpec.Propagation.HOST_TO_CONTAINER;
                case PROPAGATION_BIDIRECTIONAL -> PodContainerSpec.Propagation.BIDIRECTIONAL;
                default -> PodContainerSpec.Propagation.PRIVATE;
            }, m.getRecursiveReadOnly()));
        }
        List<PodContainerSpec.DeviceSpec> devices = c.getDevicesList().stream()
                .map(d -> new PodContainerSpec.DeviceSpec(d.getContainerPath(), d.getHostPath(),
                        d.getPermissions().isEmpty() ? "rwm" : d.getPermissions()))
                .toList();
        String logPath = "";
        if (!c.getLogPath().isEmpty()) {
            if (pod.logDirectory().isEmpty()) throw invalid("a log path needs the pod's log directory");
            Path p = Path.of(pod.logDirectory()).resolve(c.getLogPath()).normalize();
            if (!p.startsWith(Path.of(pod.logDirectory()).normalize())) throw invalid("log path \"" + c.getLogPath() + "\" leaves the pod's log directory");
            logPath = p.toString();
        }
        LinuxContainerResources r = c.getLinux().getResources();
        PodContainerSpec.Resources resources = new PodContainerSpec.Resources(r.getCpuPeriod(), r.getCpuQuota(), r.getCpuShares(),
                r.getMemoryLimitInBytes(), r.getMemorySwapLimitInBytes(), r.getOomScoreAdj(), r.getCpusetCpus(), r.getCpusetMems());
        return new PodContainerSpec(pod.id(), c.getMetadata().getName(), c.getMetadata().getAttempt(), c.getImage().getImage(),
                c.getCommandList(), c.getArgsList(), c.getWorkingDir(), env, mounts, devices, c.getLabelsMap(), c.getAnnotationsMap(),
                logPath, c.getStdin(), c.getStdinOnce(), c.getTty(), resources, security(c.getLinux().getSecurityContext()));
    }

    static PodContainerSpec.Security security(LinuxContainerSecurityContext s) {
        PodContainerSpec.Seccomp seccomp;
        if (s.hasSeccomp()) {
            seccomp = switch (s.getSeccomp().getProfileType()) {
                case Unconfined -> new PodContainerSpec.Seccomp.Unconfined();
                case Localhost -> new PodContainerSpec.Seccomp.Localhost(localhost(s.getSeccomp()));
                default -> new PodContainerSpec.Seccomp.RuntimeDefault();
            };
        } else {
            // the deprecated path form: "unconfined", "runtime/default", "docker/default", "localhost/FILE"
            // and none at all, which the CRI defines as unconfined (kubelet asks RuntimeDefault by name)
            String p = s.getSeccompProfilePath();
            if (p.isEmpty() || p.equals("unconfined")) seccomp = new PodContainerSpec.Seccomp.Unconfined();
            else if (p.startsWith("localhost/")) seccomp = new PodContainerSpec.Seccomp.Localhost(p.substring("localhost/".length()));
            else if (p.equals("runtime/default") || p.equals("docker/default")) seccomp = new PodContainerSpec.Seccomp.RuntimeDefault();
            else throw invalid("unknown seccomp profile \"" + p + "\"");
        }
        if (s.hasRunAsGroup() && !s.hasRunAsUser() && s.getRunAsUsername().isEmpty()) {
            // a group alone would run as the image's user with another group, which kubelet never means
            throw invalid("run_as_group needs run_as_user or run_as_username");
        }
        if (s.hasApparmor() && s.getApparmor().getProfileType() == SecurityProfile.ProfileType.Localhost) {
            throw new KindedException(ErrorKind.INVALID_ARGUMENT, "apparmor is not supported by berthd on this node");
        }
        return new PodContainerSpec.Security(
                s.getPrivileged(),
                s.getCapabilities().getAddCapabilitiesList(),
                s.getCapabilities().getDropCapabilitiesList(),
                s.hasRunAsUser() ? s.getRunAsUser().getValue() : null,
                s.hasRunAsGroup() ? s.getRunAsGroup().getValue() : null,
                s.getRunAsUsername(),
                s.getSupplementalGroupsList(),
                s.getSupplementalGroupsPolicy() == io.berth.cri.v1.SupplementalGroupsPolicy.Strict,
                s.getReadonlyRootfs(),
                s.getNoNewPrivs(),
                s.getMaskedPathsList(),
                s.getReadonlyPathsList(),
                seccomp,
                PodMessages.mode(s.getNamespaceOptions().getPid()),
                s.getNamespaceOptions().getTargetId());
    }

    private static String localhost(SecurityProfile p) {
        if (p.getLocalhostRef().isEmpty() || !p.getLocalhostRef().startsWith("/")) {
            throw invalid("a Localhost seccomp profile needs an absolute file path, not \"" + p.getLocalhostRef() + "\"");
        }
        return p.getLocalhostRef();
    }

    // ---------------------------------------------------------------- Berth's records back into messages

    static ContainerState state(ContainerRecord r) {
        return switch (r.state().status()) {
            case CREATED -> ContainerState.CONTAINER_CREATED;
            case RUNNING, PAUSED, RESTARTING -> ContainerState.CONTAINER_RUNNING;
            case EXITED, DEAD, REMOVING -> ContainerState.CONTAINER_EXITED;
        };
    }

    static ContainerMetadata metadata(ContainerRecord r) {
        ContainerSettings.PodMember m = r.settings().pod();
        return ContainerMetadata.newBuilder().setName(m.name()).setAttempt(m.attempt()).build();
    }

    static Container summary(ContainerRecord r) {
        ContainerSettings.PodMember m = r.settings().pod();
        return Container.newBuilder()
                .setId(r.id())
                .setPodSandboxId(m.podId())
                .setMetadata(metadata(r))
                .setImage(ImageSpec.newBuilder().setImage(r.imageName()))
                .setImageRef(r.image())
                .setImageId(r.image())
                .setState(state(r))
                .setCreatedAt(nanos(r.created()))
                .putAllLabels(labels(r))
                .putAllAnnotations(m.annotations())
                .build();
    }

    /** The status kubelet reads: state, times, exit code and its reason, mounts and log path. */
    static ContainerStatus status(ContainerRecord r) {
        ContainerSettings.PodMember m = r.settings().pod();
        io.berth.container.ContainerState st = r.state();
        ContainerStatus.Builder b = ContainerStatus.newBuilder()
                .setId(r.id())
                .setMetadata(metadata(r))
                .setState(state(r))
                .setCreatedAt(nanos(r.created()))
                .setImage(ImageSpec.newBuilder().setImage(r.imageName()))
                .setImageRef(r.image())
                .setImageId(r.image())
                .putAllLabels(labels(r))
                .putAllAnnotations(m.annotations())
                .setLogPath(m.logPath());
        if (st.startedAt() != null) b.setStartedAt(nanos(st.startedAt()));
        if (state(r) == ContainerState.CONTAINER_EXITED) {
            if (st.finishedAt() != null) b.setFinishedAt(nanos(st.finishedAt()));
            b.setExitCode(st.exitCode());
            b.setReason(st.oomKilled() ? "OOMKilled" : st.exitCode() == 0 ? "Completed" : "Error");
            if (!st.error().isEmpty()) b.setMessage(st.error());
        } else if (!st.error().isEmpty()) {
            b.setReason("StartError").setMessage(st.error()); // created, its start failed
        }
        for (String bind : r.settings().mounts().binds()) {
            String[] p = bind.split(":", 3);
            if (p.length < 2) continue;
            String opts = p.length > 2 ? p[2] : "";
            b.addMounts(Mount.newBuilder().setHostPath(p[0]).setContainerPath(p[1])
                    .setReadonly(java.util.Arrays.asList(opts.split(",")).contains("ro"))
                    .setPropagation(opts.contains("rshared") ? MountPropagation.PROPAGATION_BIDIRECTIONAL
                            : opts.contains("rslave") ? MountPropagation.PROPAGATION_HOST_TO_CONTAINER : MountPropagation.PROPAGATION_PRIVATE));
        }
        for (ContainerSettings.MountRequest mr : r.settings().mounts().mounts()) {
            if (!"bind".equals(mr.type())) continue;
            b.addMounts(Mount.newBuilder().setHostPath(mr.source()).setContainerPath(mr.target()).setReadonly(Boolean.TRUE.equals(mr.readOnly()))
                    .setRecursiveReadOnly(mr.bindOptions() != null && Boolean.TRUE.equals(mr.bindOptions().get("ReadOnlyForceRecursive"))));
        }
        if (st.status().hasProcess() && st.pid() > 0) processUser(st.pid()).ifPresent(b::setUser);
        ContainerSettings.Resources res = r.settings().resources();
        b.setResources(ContainerResources.newBuilder().setLinux(LinuxContainerResources.newBuilder()
                .setCpuShares(res.cpuShares()).setCpuQuota(res.cpuQuota()).setCpuPeriod(res.cpuPeriod())
                .setMemoryLimitInBytes(res.memory()).setCpusetCpus(res.cpusetCpus()).setCpusetMems(res.cpusetMems())
                .setOomScoreAdj(r.settings().process().oomScoreAdj())));
        return b.build();
    }

    static boolean matches(ContainerRecord r, ContainerFilter f) {
        if (!f.getId().isEmpty() && !r.id().startsWith(f.getId())) return false;
        if (!f.getPodSandboxId().isEmpty() && !r.settings().pod().podId().startsWith(f.getPodSandboxId())) return false;
        if (f.hasState() && state(r) != f.getState().getState()) return false;
        return PodMessages.labelsMatch(labels(r), f.getLabelSelectorMap());
    }

    /** The container's labels: kubelet's, with the image's merged under them as Docker merges them. */
    static Map<String, String> labels(ContainerRecord r) {
        return r.config().labels() == null ? Map.of() : r.config().labels();
    }

    static long nanos(java.time.Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    /** Who the container's first process runs as, read from the kernel: uid, gid and supplementary groups. */
    static java.util.Optional<io.berth.cri.v1.ContainerUser> processUser(long pid) {
        try {
            long uid = -1;
            long gid = -1;
            List<Long> groups = new ArrayList<>();
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                String[] f = line.split("\\s+");
                if (f[0].equals("Uid:") && f.length > 1) uid = Long.parseLong(f[1]);
                else if (f[0].equals("Gid:") && f.length > 1) gid = Long.parseLong(f[1]);
                else if (f[0].equals("Groups:")) for (int i = 1; i < f.length; i++) groups.add(Long.parseLong(f[i]));
            }
            if (uid < 0 || gid < 0) return java.util.Optional.empty();
            return java.util.Optional.of(io.berth.cri.v1.ContainerUser.newBuilder().setLinux(io.berth.cri.v1.LinuxContainerUser.newBuilder()
                    .setUid(uid).setGid(gid).addAllSupplementalGroups(groups)).build());
        } catch (java.io.IOException | RuntimeException e) {
            return java.util.Optional.empty(); // the process ended meanwhile
        }
    }

    private static KindedException invalid(String message) {
        return new KindedException(ErrorKind.INVALID_ARGUMENT, message);
    }
}
