package io.berth.cri;

import io.berth.cri.v1.LinuxPodSandboxStatus;
import io.berth.cri.v1.Namespace;
import io.berth.cri.v1.NamespaceMode;
import io.berth.cri.v1.NamespaceOption;
import io.berth.cri.v1.PodSandbox;
import io.berth.cri.v1.PodSandboxConfig;
import io.berth.cri.v1.PodSandboxFilter;
import io.berth.cri.v1.PodSandboxMetadata;
import io.berth.cri.v1.PodSandboxNetworkStatus;
import io.berth.cri.v1.PodSandboxState;
import io.berth.cri.v1.PodSandboxStatus;
import io.berth.cri.v1.PortMapping;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Maps between the CRI's pod messages and Berth's {@link Pod}, in both directions, in one place. */
final class PodMessages {
    private PodMessages() {}

    static Pods.RunRequest runRequest(PodSandboxConfig c, String runtimeHandler) {
        PodSandboxMetadata m = c.getMetadata();
        List<Pod.Port> ports = new ArrayList<>();
        for (PortMapping p : c.getPortMappingsList()) {
            ports.add(new Pod.Port(p.getProtocol().name().toLowerCase(), p.getContainerPort(), p.getHostPort(), p.getHostIp()));
        }
        NamespaceOption ns = c.getLinux().getSecurityContext().getNamespaceOptions();
        Pod.Namespaces namespaces = new Pod.Namespaces(mode(ns.getNetwork()), mode(ns.getPid()), mode(ns.getIpc()));
        return new Pods.RunRequest(
                new Pod.Identity(m.getName(), m.getUid(), m.getNamespace(), m.getAttempt()),
                c.getLabelsMap(), c.getAnnotationsMap(), c.getHostname(), c.getLogDirectory(),
                new Pod.Dns(c.getDnsConfig().getServersList(), c.getDnsConfig().getSearchesList(), c.getDnsConfig().getOptionsList()),
                ports, c.getLinux().getCgroupParent(), namespaces, c.getLinux().getSysctlsMap(), runtimeHandler);
    }

    static Pod.Mode mode(NamespaceMode m) {
        return switch (m) {
            case POD, UNRECOGNIZED -> Pod.Mode.POD;
            case CONTAINER -> Pod.Mode.CONTAINER;
            case NODE -> Pod.Mode.NODE;
            case TARGET -> Pod.Mode.TARGET;
        };
    }

    static NamespaceMode mode(Pod.Mode m) {
        return switch (m) {
            case POD -> NamespaceMode.POD;
            case CONTAINER -> NamespaceMode.CONTAINER;
            case NODE -> NamespaceMode.NODE;
            case TARGET -> NamespaceMode.TARGET;
        };
    }

    static PodSandboxMetadata metadata(Pod p) {
        return PodSandboxMetadata.newBuilder().setName(p.identity().name()).setUid(p.identity().uid())
                .setNamespace(p.identity().namespace()).setAttempt(p.identity().attempt()).build();
    }

    static PodSandboxState state(Pod.State s) {
        return s == Pod.State.READY ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
    }

    static PodSandboxStatus status(Pod p) {
        NamespaceOption ns = NamespaceOption.newBuilder().setNetwork(mode(p.namespaces().network()))
                .setPid(mode(p.namespaces().pid())).setIpc(mode(p.namespaces().ipc())).build();
        return PodSandboxStatus.newBuilder()
                .setId(p.id())
                .setMetadata(metadata(p))
                .setState(state(p.state()))
                .setCreatedAt(p.createdAt())
                // A stopped pod keeps showing the address it had, as kubelet expects of a pod it tears down.
                .setNetwork(PodSandboxNetworkStatus.newBuilder().setIp(p.ip()))
                .setLinux(LinuxPodSandboxStatus.newBuilder().setNamespaces(Namespace.newBuilder().setOptions(ns)))
                .putAllLabels(p.labels())
                .putAllAnnotations(p.annotations())
                .setRuntimeHandler(p.runtimeHandler())
                .build();
    }

    static PodSandbox summary(Pod p) {
        return PodSandbox.newBuilder()
                .setId(p.id())
                .setMetadata(metadata(p))
                .setState(state(p.state()))
                .setCreatedAt(p.createdAt())
                .putAllLabels(p.labels())
                .putAllAnnotations(p.annotations())
                .setRuntimeHandler(p.runtimeHandler())
                .build();
    }

    static boolean matches(Pod p, PodSandboxFilter f) {
        if (!f.getId().isEmpty() && !p.id().startsWith(f.getId())) return false;
        if (f.hasState() && state(p.state()) != f.getState().getState()) return false;
        return labelsMatch(p.labels(), f.getLabelSelectorMap());
    }

    static boolean labelsMatch(Map<String, String> labels, Map<String, String> selector) {
        for (Map.Entry<String, String> e : selector.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) return false;
        }
        return true;
    }
}
