package io.berth.cri;

import io.berth.cri.v1.ContainerConfig;
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
            mounts.add(new PodContainerSpec.MountSpec(m.getContainerPath(), m.getHostPath(), m.getReadonly(), switch (m.getPropagation()) {
                case PROPAGATION_HOST_TO_CONTAINER -> PodContainerSpec.Propagation.HOST_TO_CONTAINER;
                case PROPAGATION_BIDIRECTIONAL -> PodContainerSpec.Propagation.BIDIRECTIONAL;
                default -> PodContainerSpec.Propagation.PRIVATE;
            }));
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
            String p = s.getSeccompProfilePath();
            if (p.equals("unconfined")) seccomp = new PodContainerSpec.Seccomp.Unconfined();
            else if (p.startsWith("localhost/")) seccomp = new PodContainerSpec.Seccomp.Localhost(p.substring("localhost/".length()));
            else seccomp = new PodContainerSpec.Seccomp.RuntimeDefault();
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

    private static KindedException invalid(String message) {
        return new KindedException(ErrorKind.INVALID_ARGUMENT, message);
    }
}
