package io.berth.cri;

import io.berth.BuildInfo;
import io.berth.cri.v1.CgroupDriver;
import io.berth.cri.v1.LinuxRuntimeConfiguration;
import io.berth.cri.v1.RuntimeCondition;
import io.berth.cri.v1.RuntimeConfigRequest;
import io.berth.cri.v1.RuntimeConfigResponse;
import io.berth.cri.v1.RuntimeHandler;
import io.berth.cri.v1.RuntimeHandlerFeatures;
import io.berth.cri.v1.RuntimeServiceGrpc;
import io.berth.cri.v1.RuntimeStatus;
import io.berth.cri.v1.StatusRequest;
import io.berth.cri.v1.StatusResponse;
import io.berth.cri.v1.UpdateRuntimeConfigRequest;
import io.berth.cri.v1.UpdateRuntimeConfigResponse;
import io.berth.cri.v1.VersionRequest;
import io.berth.cri.v1.VersionResponse;
import io.berth.cri.v1.ListPodSandboxRequest;
import io.berth.cri.v1.ListPodSandboxResponse;
import io.berth.cri.v1.PodSandboxStatusRequest;
import io.berth.cri.v1.PodSandboxStatusResponse;
import io.berth.cri.v1.RemovePodSandboxRequest;
import io.berth.cri.v1.RemovePodSandboxResponse;
import io.berth.cri.v1.RunPodSandboxRequest;
import io.berth.cri.v1.RunPodSandboxResponse;
import io.berth.cri.v1.StopPodSandboxRequest;
import io.berth.cri.v1.StopPodSandboxResponse;
import io.berth.engine.Engine;
import io.grpc.stub.StreamObserver;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The CRI's RuntimeService: the runtime's identity, health and configuration. */
final class CriRuntime extends RuntimeServiceGrpc.RuntimeServiceImplBase {
    private static final Logger log = LoggerFactory.getLogger(CriRuntime.class);
    /** The version of the kubelet-runtime API itself; kubelet only checks that it is answered. */
    static final String KUBELET_API_VERSION = "0.1.0";
    static final String RUNTIME_NAME = "berth";
    static final String RUNTIME_API_VERSION = "v1";

    private final Engine engine;
    private final Pods pods;
    private volatile String podCidr = "";

    CriRuntime(Engine engine, Pods pods) {
        this.engine = engine;
        this.pods = pods;
    }

    // ------------------------------------------------------------------ pods

    @Override
    public void runPodSandbox(RunPodSandboxRequest req, StreamObserver<RunPodSandboxResponse> out) {
        CriErrors.answer("RunPodSandbox", out, () -> {
            if (!req.hasConfig() || !req.getConfig().hasMetadata()) throw CriErrors.invalid("RunPodSandbox needs a config with metadata");
            Pod pod = pods.run(PodMessages.runRequest(req.getConfig(), req.getRuntimeHandler()));
            return RunPodSandboxResponse.newBuilder().setPodSandboxId(pod.id()).build();
        });
    }

    @Override
    public void stopPodSandbox(StopPodSandboxRequest req, StreamObserver<StopPodSandboxResponse> out) {
        CriErrors.answer("StopPodSandbox", out, () -> {
            // Idempotent, as the CRI asks: an unknown pod is a stopped pod.
            pods.find(req.getPodSandboxId()).ifPresent(p -> stop(p.id()));
            return StopPodSandboxResponse.getDefaultInstance();
        });
    }

    @Override
    public void removePodSandbox(RemovePodSandboxRequest req, StreamObserver<RemovePodSandboxResponse> out) {
        CriErrors.answer("RemovePodSandbox", out, () -> {
            var found = pods.find(req.getPodSandboxId());
            if (found.isPresent()) pods.remove(found.get().id());
            return RemovePodSandboxResponse.getDefaultInstance();
        });
    }

    private void stop(String id) {
        try {
            pods.stop(id);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void podSandboxStatus(PodSandboxStatusRequest req, StreamObserver<PodSandboxStatusResponse> out) {
        CriErrors.answer("PodSandboxStatus", out, () -> {
            Pod p = pods.get(req.getPodSandboxId());
            PodSandboxStatusResponse.Builder b = PodSandboxStatusResponse.newBuilder()
                    .setStatus(PodMessages.status(p))
                    .setTimestamp(CriImages.nowNanos());
            if (req.getVerbose()) {
                b.putInfo("info", "{\"netns\":\"" + (p.netns() == null ? "" : p.netns()) + "\",\"hostNetwork\":" + p.hostNetwork() + "}");
            }
            return b.build();
        });
    }

    @Override
    public void listPodSandbox(ListPodSandboxRequest req, StreamObserver<ListPodSandboxResponse> out) {
        CriErrors.answer("ListPodSandbox", out, () -> {
            ListPodSandboxResponse.Builder b = ListPodSandboxResponse.newBuilder();
            pods.list().stream()
                    .filter(p -> !req.hasFilter() || PodMessages.matches(p, req.getFilter()))
                    .sorted(java.util.Comparator.comparingLong(Pod::createdAt))
                    .forEach(p -> b.addItems(PodMessages.summary(p)));
            return b.build();
        });
    }

    @Override
    public void version(VersionRequest req, StreamObserver<VersionResponse> out) {
        CriErrors.answer("Version", out, () -> VersionResponse.newBuilder()
                .setVersion(KUBELET_API_VERSION)
                .setRuntimeName(RUNTIME_NAME)
                .setRuntimeVersion(BuildInfo.VERSION)
                .setRuntimeApiVersion(RUNTIME_API_VERSION)
                .build());
    }

    @Override
    public void status(StatusRequest req, StreamObserver<StatusResponse> out) {
        CriErrors.answer("Status", out, () -> {
            RuntimeCondition runtime = RuntimeCondition.newBuilder().setType("RuntimeReady").setStatus(true).build();
            List<String> missing = engine.networks().service().missingPlugins();
            RuntimeCondition.Builder network = RuntimeCondition.newBuilder().setType("NetworkReady").setStatus(missing.isEmpty());
            if (!missing.isEmpty()) {
                network.setReason("NetworkPluginNotReady")
                        .setMessage("CNI plugins " + missing + " not found: install the containernetworking-plugins package");
            }
            StatusResponse.Builder b = StatusResponse.newBuilder()
                    .setStatus(RuntimeStatus.newBuilder().addConditions(runtime).addConditions(network))
                    // One handler, the default; neither recursive read-only mounts nor user namespaces yet.
                    .addRuntimeHandlers(RuntimeHandler.newBuilder().setName("").setFeatures(RuntimeHandlerFeatures.getDefaultInstance()));
            if (req.getVerbose()) {
                b.putInfo("config", "{\"defaultRuntime\":\"" + engine.settings().runtimes().defaultRuntime()
                        + "\",\"podCidr\":\"" + podCidr + "\"}");
            }
            return b.build();
        });
    }

    @Override
    public void runtimeConfig(RuntimeConfigRequest req, StreamObserver<RuntimeConfigResponse> out) {
        // berthd writes cgroups through the cgroupfs files itself: kubelet must use the same driver.
        CriErrors.answer("RuntimeConfig", out, () -> RuntimeConfigResponse.newBuilder()
                .setLinux(LinuxRuntimeConfiguration.newBuilder().setCgroupDriver(CgroupDriver.CGROUPFS))
                .build());
    }

    @Override
    public void updateRuntimeConfig(UpdateRuntimeConfigRequest req, StreamObserver<UpdateRuntimeConfigResponse> out) {
        CriErrors.answer("UpdateRuntimeConfig", out, () -> {
            String cidr = req.getRuntimeConfig().getNetworkConfig().getPodCidr();
            // Kept for Status; pods take their addresses from berthd's own pod network.
            if (!cidr.isEmpty() && !cidr.equals(podCidr)) log.info("CRI: kubelet gives pod CIDR {}", cidr);
            podCidr = cidr;
            return UpdateRuntimeConfigResponse.getDefaultInstance();
        });
    }
}
