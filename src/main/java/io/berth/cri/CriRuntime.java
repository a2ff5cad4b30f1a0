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
import io.berth.cri.stream.StreamServer;
import io.berth.cri.v1.AttachRequest;
import io.berth.cri.v1.ContainerStatsFilter;
import io.berth.cri.v1.ContainerStatsRequest;
import io.berth.cri.v1.ContainerStatsResponse;
import io.berth.cri.v1.ListContainerStatsRequest;
import io.berth.cri.v1.ListContainerStatsResponse;
import io.berth.cri.v1.ListPodSandboxStatsRequest;
import io.berth.cri.v1.ListPodSandboxStatsResponse;
import io.berth.cri.v1.PodSandboxStatsFilter;
import io.berth.cri.v1.PodSandboxStatsRequest;
import io.berth.cri.v1.PodSandboxStatsResponse;
import io.berth.cri.v1.ContainerEventResponse;
import io.berth.cri.v1.GetEventsRequest;
import io.berth.cri.v1.ContainerStatusRequest;
import io.berth.cri.v1.UpdateContainerResourcesRequest;
import io.berth.cri.v1.UpdateContainerResourcesResponse;
import io.berth.cri.v1.ContainerStatusResponse;
import io.berth.cri.v1.CreateContainerRequest;
import io.berth.cri.v1.CreateContainerResponse;
import io.berth.cri.v1.ListContainersRequest;
import io.berth.cri.v1.ListContainersResponse;
import io.berth.cri.v1.RemoveContainerRequest;
import io.berth.cri.v1.RemoveContainerResponse;
import io.berth.cri.v1.ReopenContainerLogRequest;
import io.berth.cri.v1.ReopenContainerLogResponse;
import io.berth.cri.v1.StartContainerRequest;
import io.berth.cri.v1.StartContainerResponse;
import io.berth.cri.v1.StopContainerRequest;
import io.berth.cri.v1.StopContainerResponse;
import io.berth.cri.v1.AttachResponse;
import io.berth.cri.v1.ExecRequest;
import io.berth.cri.v1.ExecResponse;
import io.berth.cri.v1.ExecSyncRequest;
import io.berth.cri.v1.ExecSyncResponse;
import io.berth.cri.v1.PortForwardRequest;
import io.berth.cri.v1.PortForwardResponse;
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
    private final PodContainers containers;
    private final StreamServer streams;
    private final PodStats stats;
    private volatile String podCidr = "";

    CriRuntime(Engine engine, Pods pods, PodContainers containers, StreamServer streams) {
        this.engine = engine;
        this.pods = pods;
        this.containers = containers;
        this.streams = streams;
        this.stats = new PodStats(engine, containers);
    }

    // ------------------------------------------------------------------ events

    @Override
    public void getContainerEvents(GetEventsRequest req, StreamObserver<ContainerEventResponse> out) {
        try {
            new PodContainerEvents(engine, pods, containers).stream(out); // returns when the client has left
        } catch (io.grpc.StatusRuntimeException left) {
            // the client left between an event and its delivery
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.onError(io.grpc.Status.CANCELLED.withDescription("berthd is stopping").asRuntimeException());
        } catch (RuntimeException e) {
            out.onError(CriErrors.toStatus("GetContainerEvents", e));
        }
    }

    // ------------------------------------------------------------------ statistics

    @Override
    public void containerStats(ContainerStatsRequest req, StreamObserver<ContainerStatsResponse> out) {
        CriErrors.answer("ContainerStats", out, () -> ContainerStatsResponse.newBuilder()
                .setStats(stats.of(containers.get(req.getContainerId()))).build());
    }

    @Override
    public void listContainerStats(ListContainerStatsRequest req, StreamObserver<ListContainerStatsResponse> out) {
        CriErrors.answer("ListContainerStats", out, () -> {
            ListContainerStatsResponse.Builder b = ListContainerStatsResponse.newBuilder();
            ContainerStatsFilter f = req.getFilter();
            for (var r : containers.inPods()) {
                if (!f.getId().isEmpty() && !r.id().startsWith(f.getId())) continue;
                if (!f.getPodSandboxId().isEmpty() && !r.settings().pod().podId().startsWith(f.getPodSandboxId())) continue;
                if (!PodMessages.labelsMatch(ContainerMessages.labels(r), f.getLabelSelectorMap())) continue;
                b.addStats(stats.of(r));
            }
            return b.build();
        });
    }

    @Override
    public void podSandboxStats(PodSandboxStatsRequest req, StreamObserver<PodSandboxStatsResponse> out) {
        CriErrors.answer("PodSandboxStats", out, () -> PodSandboxStatsResponse.newBuilder()
                .setStats(stats.of(pods.get(req.getPodSandboxId()))).build());
    }

    @Override
    public void listPodSandboxStats(ListPodSandboxStatsRequest req, StreamObserver<ListPodSandboxStatsResponse> out) {
        CriErrors.answer("ListPodSandboxStats", out, () -> {
            ListPodSandboxStatsResponse.Builder b = ListPodSandboxStatsResponse.newBuilder();
            PodSandboxStatsFilter f = req.getFilter();
            for (Pod p : pods.list()) {
                if (!f.getId().isEmpty() && !p.id().startsWith(f.getId())) continue;
                if (!PodMessages.labelsMatch(p.labels(), f.getLabelSelectorMap())) continue;
                b.addStats(stats.of(p));
            }
            return b.build();
        });
    }

    // ------------------------------------------------------------------ containers

    @Override
    public void createContainer(CreateContainerRequest req, StreamObserver<CreateContainerResponse> out) {
        CriErrors.answer("CreateContainer", out, () -> {
            if (!req.hasConfig()) throw CriErrors.invalid("CreateContainer needs a config");
            Pod pod = pods.get(req.getPodSandboxId());
            String id = containers.create(ContainerMessages.spec(pod, req.getConfig()));
            return CreateContainerResponse.newBuilder().setContainerId(id).build();
        });
    }

    @Override
    public void startContainer(StartContainerRequest req, StreamObserver<StartContainerResponse> out) {
        CriErrors.answer("StartContainer", out, () -> {
            containers.start(req.getContainerId());
            return StartContainerResponse.getDefaultInstance();
        });
    }

    @Override
    public void stopContainer(StopContainerRequest req, StreamObserver<StopContainerResponse> out) {
        CriErrors.answer("StopContainer", out, () -> {
            containers.stop(req.getContainerId(), req.getTimeout());
            return StopContainerResponse.getDefaultInstance();
        });
    }

    @Override
    public void removeContainer(RemoveContainerRequest req, StreamObserver<RemoveContainerResponse> out) {
        CriErrors.answer("RemoveContainer", out, () -> {
            containers.remove(req.getContainerId());
            return RemoveContainerResponse.getDefaultInstance();
        });
    }

    @Override
    public void listContainers(ListContainersRequest req, StreamObserver<ListContainersResponse> out) {
        CriErrors.answer("ListContainers", out, () -> {
            ListContainersResponse.Builder b = ListContainersResponse.newBuilder();
            for (var r : containers.inPods()) {
                if (!req.hasFilter() || ContainerMessages.matches(r, req.getFilter())) b.addContainers(ContainerMessages.summary(r));
            }
            return b.build();
        });
    }

    @Override
    public void containerStatus(ContainerStatusRequest req, StreamObserver<ContainerStatusResponse> out) {
        CriErrors.answer("ContainerStatus", out, () -> {
            var r = containers.get(req.getContainerId());
            ContainerStatusResponse.Builder b = ContainerStatusResponse.newBuilder().setStatus(ContainerMessages.status(r));
            if (req.getVerbose()) {
                b.putInfo("info", "{\"pid\":" + r.state().pid() + ",\"sandboxID\":\"" + r.settings().pod().podId() + "\"}");
            }
            return b.build();
        });
    }

    @Override
    public void updateContainerResources(UpdateContainerResourcesRequest req, StreamObserver<UpdateContainerResourcesResponse> out) {
        CriErrors.answer("UpdateContainerResources", out, () -> {
            var l = req.getLinux();
            containers.updateResources(req.getContainerId(), new PodContainerSpec.Resources(l.getCpuPeriod(), l.getCpuQuota(),
                    l.getCpuShares(), l.getMemoryLimitInBytes(), l.getMemorySwapLimitInBytes(), l.getOomScoreAdj(), l.getCpusetCpus(),
                    l.getCpusetMems()));
            return UpdateContainerResourcesResponse.getDefaultInstance();
        });
    }

    @Override
    public void reopenContainerLog(ReopenContainerLogRequest req, StreamObserver<ReopenContainerLogResponse> out) {
        CriErrors.answer("ReopenContainerLog", out, () -> {
            containers.reopenLog(req.getContainerId());
            return ReopenContainerLogResponse.getDefaultInstance();
        });
    }

    // ------------------------------------------------------------------ streaming

    @Override
    public void exec(ExecRequest req, StreamObserver<ExecResponse> out) {
        CriErrors.answer("Exec", out, () -> {
            if (req.getCmdCount() == 0) throw CriErrors.invalid("Exec needs a command");
            if (!req.getStdin() && !req.getStdout() && !req.getStderr()) throw CriErrors.invalid("one of stdin, stdout, or stderr must be set");
            if (req.getTty() && req.getStderr()) throw CriErrors.invalid("tty and stderr cannot both be true");
            String id = engine.containers().get(req.getContainerId()).id(); // a missing container is NotFound now, not at the upgrade
            return ExecResponse.newBuilder().setUrl(streams.url(new StreamServer.Request.Exec(id, req.getCmdList(), req.getTty(),
                    req.getStdin(), req.getStdout(), req.getStderr()))).build();
        });
    }

    @Override
    public void attach(AttachRequest req, StreamObserver<AttachResponse> out) {
        CriErrors.answer("Attach", out, () -> {
            if (!req.getStdin() && !req.getStdout() && !req.getStderr()) throw CriErrors.invalid("one of stdin, stdout, or stderr must be set");
            if (req.getTty() && req.getStderr()) throw CriErrors.invalid("tty and stderr cannot both be true");
            String id = engine.containers().get(req.getContainerId()).id();
            return AttachResponse.newBuilder().setUrl(streams.url(new StreamServer.Request.Attach(id, req.getTty(), req.getStdin(),
                    req.getStdout(), req.getStderr()))).build();
        });
    }

    @Override
    public void portForward(PortForwardRequest req, StreamObserver<PortForwardResponse> out) {
        CriErrors.answer("PortForward", out, () -> {
            Pod pod = pods.get(req.getPodSandboxId());
            return PortForwardResponse.newBuilder().setUrl(streams.url(new StreamServer.Request.PortForward(pod.id()))).build();
        });
    }

    /** ExecSync: the command's whole output and exit code, or DeadlineExceeded past its timeout (0: none). */
    @Override
    public void execSync(ExecSyncRequest req, StreamObserver<ExecSyncResponse> out) {
        CriErrors.answer("ExecSync", out, () -> {
            if (req.getCmdCount() == 0) throw CriErrors.invalid("ExecSync needs a command");
            ExecSyncResponse.Builder b = ExecSyncResponse.newBuilder();
            java.io.ByteArrayOutputStream stdout = new java.io.ByteArrayOutputStream();
            java.io.ByteArrayOutputStream stderr = new java.io.ByteArrayOutputStream();
            CriStreams runner = new CriStreams(engine, pods);
            var streamsOfRun = new io.berth.cri.stream.StreamBackend.Streams(null, capped(stdout), capped(stderr), sizes -> {});
            var execId = new java.util.concurrent.atomic.AtomicReference<String>();
            var run = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return runner.exec(req.getContainerId(), req.getCmdList(), false, streamsOfRun, execId::set);
                } catch (java.io.IOException | InterruptedException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, Thread::startVirtualThread);
            int code;
            try {
                code = req.getTimeout() > 0 ? run.get(req.getTimeout(), java.util.concurrent.TimeUnit.SECONDS) : run.get();
            } catch (java.util.concurrent.TimeoutException e) {
                // the command must not outlive the answer (containerd and CRI-O kill it too)
                String id = execId.get();
                if (id != null) engine.containers().execs().kill(id);
                throw io.grpc.Status.DEADLINE_EXCEEDED.withDescription("command " + req.getCmdList() + " timed out after "
                        + req.getTimeout() + " s").asRuntimeException();
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c ? c.getCause() : e.getCause();
                if (cause instanceof Exception x) throw x;
                throw e;
            }
            synchronized (stdout) {
                b.setStdout(com.google.protobuf.ByteString.copyFrom(stdout.toByteArray()));
            }
            synchronized (stderr) {
                b.setStderr(com.google.protobuf.ByteString.copyFrom(stderr.toByteArray()));
            }
            return b.setExitCode(code).build();
        });
    }

    /** kubelet keeps at most 16 MiB of a probe's output; more is dropped rather than held. */
    private static java.io.OutputStream capped(java.io.ByteArrayOutputStream sink) {
        return new java.io.OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (sink) {
                    int room = (16 << 20) - sink.size();
                    if (room > 0) sink.write(b, off, Math.min(room, len));
                }
            }
        };
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
            var pod = pods.find(req.getPodSandboxId());
            if (pod.isPresent()) {
                containers.stopAll(pod.get().id());
                stop(pod.get().id());
            }
            return StopPodSandboxResponse.getDefaultInstance();
        });
    }

    @Override
    public void removePodSandbox(RemovePodSandboxRequest req, StreamObserver<RemovePodSandboxResponse> out) {
        CriErrors.answer("RemovePodSandbox", out, () -> {
            var found = pods.find(req.getPodSandboxId());
            if (found.isPresent()) {
                containers.removeAll(found.get().id());
                pods.remove(found.get().id());
            }
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
                    // One handler, the default: recursive read-only mounts when its runtime has them; no user namespaces yet.
                    .addRuntimeHandlers(RuntimeHandler.newBuilder().setName("").setFeatures(RuntimeHandlerFeatures.newBuilder()
                            .setRecursiveReadOnlyMounts(engine.settings().runtimes().mountOptions().contains("rro"))))
                    .setFeatures(io.berth.cri.v1.RuntimeFeatures.newBuilder().setSupplementalGroupsPolicy(true));
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
