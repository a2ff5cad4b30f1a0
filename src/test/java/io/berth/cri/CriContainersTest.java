package io.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.cri.v1.Capability;
import io.berth.cri.v1.ContainerConfig;
import io.berth.cri.v1.ContainerFilter;
import io.berth.cri.v1.ContainerMetadata;
import io.berth.cri.v1.ContainerState;
import io.berth.cri.v1.ContainerStatusRequest;
import io.berth.cri.v1.CreateContainerRequest;
import io.berth.cri.v1.ExecSyncRequest;
import io.berth.cri.v1.ExecSyncResponse;
import io.berth.cri.v1.ImageSpec;
import io.berth.cri.v1.Int64Value;
import io.berth.cri.v1.KeyValue;
import io.berth.cri.v1.LinuxContainerConfig;
import io.berth.cri.v1.LinuxContainerSecurityContext;
import io.berth.cri.v1.ListContainersRequest;
import io.berth.cri.v1.ListPodSandboxRequest;
import io.berth.cri.v1.Mount;
import io.berth.cri.v1.MountPropagation;
import io.berth.cri.v1.PodSandboxConfig;
import io.berth.cri.v1.PodSandboxMetadata;
import io.berth.cri.v1.PodSandboxStatusRequest;
import io.berth.cri.v1.RemoveContainerRequest;
import io.berth.cri.v1.RemovePodSandboxRequest;
import io.berth.cri.v1.ReopenContainerLogRequest;
import io.berth.cri.v1.RunPodSandboxRequest;
import io.berth.cri.v1.RuntimeServiceGrpc;
import io.berth.cri.v1.SecurityProfile;
import io.berth.cri.v1.StartContainerRequest;
import io.berth.cri.v1.StopContainerRequest;
import io.berth.cri.v1.StopPodSandboxRequest;
import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.TestImages;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containers in pods through the CRI's gRPC (the stubs from Berth's .proto, the wire kubelet
 * speaks) against a real berthd: made in the pod's namespaces, logging in the CRI format where
 * kubelet asks, stopped, removed, found again after berthd is killed. Needs root, runc and
 * conmon, and the CNI plugins, as every CLI test.
 */
class CriContainersTest {
    private static final String IMAGE = "berth-test/busybox:latest";
    /** User 1000 is in group 50000 by the image's /etc/group. */
    private static final String GROUPS_IMAGE = "berth-test/groups:latest";
    private static final EventLoopGroup LOOP = new EpollEventLoopGroup(1);
    private static CliDaemon daemon;
    private static ManagedChannel channel;
    private static RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;

    @TempDir
    Path logs;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        daemon = CliDaemon.start();
        daemon.load(TestImages.busybox().tag(IMAGE).writeTo(tmp.resolve("bb.tar")));
        daemon.load(TestImages.busybox().files(java.util.Map.of(
                "etc/passwd", "root:x:0:0:root:/root:/bin/sh\ndefault-user:x:1000:1000::/home:/bin/sh\n",
                "etc/group", "root:x:0:\ndefault-user:x:1000:\nimage-group:x:50000:default-user\n"))
                .tag(GROUPS_IMAGE).writeTo(tmp.resolve("groups.tar")));
        connect(daemon.daemon());
    }

    private static Path criSocket(BerthdProcess d) {
        return d.dir().resolve("run").resolve("cri.sock");
    }

    private static void connect(BerthdProcess d) throws Exception {
        Path socket = criSocket(d);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(socket) && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(socket).as("CRI socket\n%s", d.log()).exists();
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(LOOP).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel);
    }

    private static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return runtime.withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterEach
    void removePods() throws Exception {
        for (var p : rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
            rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
        }
        assertThat(rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                .as("a removed pod takes its containers").isEmpty();
        daemon.removeContainers();
        daemon.removeCustomNetworks();
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        LOOP.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        if (daemon != null) daemon.close();
    }

    private String pod(String name) {
        PodSandboxConfig config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setUid("uid-" + name).setNamespace("default"))
                .setHostname(name)
                .setLogDirectory(logs.resolve(name).toString())
                .build();
        return rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()).getPodSandboxId();
    }

    private static ContainerConfig.Builder container(String name, String script) {
        return ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(IMAGE))
                .addCommand("sh").addArgs("-c").addArgs(script)
                .setLogPath(name + "/0.log");
    }

    private static String create(String pod, ContainerConfig.Builder c) {
        return rt().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod).setConfig(c).build()).getContainerId();
    }

    private static io.berth.cri.v1.ContainerStatus status(String id) {
        return rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build()).getStatus();
    }

    private static ExecSyncResponse exec(String id, String script) {
        return rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id).addCmd("sh").addCmd("-c").addCmd(script).setTimeout(20).build());
    }

    private static Status.Code codeOf(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    @Test
    void aContainerRunsInItsPodsNamespacesLogsInTheCriFormatAndStops() throws Exception {
        String pod = pod("web");
        String podIp = rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build()).getStatus().getNetwork().getIp();
        Path shared = Files.createDirectories(logs.resolve("shared"));
        Files.writeString(shared.resolve("greeting"), "from the host\n");
        String id = create(pod, container("app", "echo hello; echo oops >&2; echo \"$FOO\"; sleep 300")
                .addEnvs(KeyValue.newBuilder().setKey("FOO").setValue("bar"))
                .putLabels("tier", "front")
                .putAnnotations("kubernetes.io/note", "kept")
                .addMounts(Mount.newBuilder().setHostPath(shared.toString()).setContainerPath("/data").setReadonly(true))
                // its own PID namespace, as kubelet asks by default: sh is its PID 1
                .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                        .setNamespaceOptions(io.berth.cri.v1.NamespaceOption.newBuilder().setPid(io.berth.cri.v1.NamespaceMode.CONTAINER)))));

        var created = status(id);
        assertThat(created.getState()).isEqualTo(ContainerState.CONTAINER_CREATED);
        assertThat(created.getMetadata().getName()).isEqualTo("app");
        assertThat(created.getLabelsMap()).containsEntry("tier", "front");
        assertThat(created.getAnnotationsMap()).containsEntry("kubernetes.io/note", "kept");
        assertThat(created.getLogPath()).isEqualTo(logs.resolve("web").resolve("app/0.log").toString());
        assertThat(created.getMountsList()).anySatisfy(m -> {
            assertThat(m.getContainerPath()).isEqualTo("/data");
            assertThat(m.getReadonly()).isTrue();
        });
        // kubelet's containers are not the Docker API's
        assertThat(daemon.docker().run("ps", "-aq", "--no-trunc").stdout()).doesNotContain(id);

        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        var running = status(id);
        assertThat(running.getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(running.getStartedAt()).isGreaterThanOrEqualTo(created.getCreatedAt());
        assertThat(codeOf(() -> rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build())))
                .isEqualTo(Status.Code.FAILED_PRECONDITION);

        // the CRI log format: time, stream, P(artial) or F(ull), the line
        Path log = logs.resolve("web").resolve("app").resolve("0.log");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.readString(log).contains(" stdout F bar"));
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\S+ stdout F hello"));
        assertThat(lines).anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\S+ stderr F oops"));

        // the pod's network, hostname and files; the mount; the env
        assertThat(exec(id, "ip -4 -o addr show eth0").getStdout().toStringUtf8()).contains("inet " + podIp + "/");
        assertThat(exec(id, "hostname; cat /etc/hostname").getStdout().toStringUtf8()).isEqualTo("web\nweb\n");
        assertThat(exec(id, "cat /data/greeting").getStdout().toStringUtf8()).isEqualTo("from the host\n");
        assertThat(exec(id, "touch /data/x").getExitCode()).isNotZero();

        // kubelet renames the log and asks for a new one
        Files.move(log, log.resolveSibling("0.log.1"));
        rt().reopenContainerLog(ReopenContainerLogRequest.newBuilder().setContainerId(id).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log));

        // sh as PID 1 ignores SIGTERM: SIGKILL after the timeout
        long t0 = System.nanoTime();
        rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(1).build());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
        var exited = status(id);
        assertThat(exited.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(exited.getExitCode()).isEqualTo(137);
        assertThat(exited.getReason()).isEqualTo("Error");
        assertThat(exited.getFinishedAt()).isGreaterThanOrEqualTo(exited.getStartedAt());
        rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(id).build()); // idempotent
        assertThat(codeOf(() -> rt().reopenContainerLog(ReopenContainerLogRequest.newBuilder().setContainerId(id).build())))
                .isEqualTo(Status.Code.FAILED_PRECONDITION);

        rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
        rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build()); // idempotent
        assertThat(codeOf(() -> status(id))).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void theEventsStreamTellsEachContainersLifeAndTheDockerApiDoesNot() throws Exception {
        String pod = pod("watched");
        java.util.concurrent.BlockingQueue<io.berth.cri.v1.ContainerEventResponse> seen = new java.util.concurrent.LinkedBlockingQueue<>();
        io.grpc.Context.CancellableContext listening = io.grpc.Context.current().withCancellation();
        listening.run(() -> RuntimeServiceGrpc.newStub(channel).getContainerEvents(io.berth.cri.v1.GetEventsRequest.getDefaultInstance(),
                new io.grpc.stub.StreamObserver<>() {
                    public void onNext(io.berth.cri.v1.ContainerEventResponse e) {
                        seen.add(e);
                    }

                    public void onError(Throwable t) {}

                    public void onCompleted() {}
                }));
        try {
            Thread.sleep(300); // the subscription is made
            String since = Long.toString(System.currentTimeMillis() / 1000 - 1);
            String id = create(pod, container("app", "sleep 300"));
            rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
            rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(0).build());
            rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
            List<io.berth.cri.v1.ContainerEventType> types = new java.util.ArrayList<>();
            while (types.size() < 4) {
                var e = seen.poll(10, TimeUnit.SECONDS);
                assertThat(e).as("events so far: %s", types).isNotNull();
                assertThat(e.getContainerId()).isEqualTo(id);
                assertThat(e.getPodSandboxStatus().getId()).isEqualTo(pod);
                types.add(e.getContainerEventType());
            }
            assertThat(types).containsExactly(io.berth.cri.v1.ContainerEventType.CONTAINER_CREATED_EVENT,
                    io.berth.cri.v1.ContainerEventType.CONTAINER_STARTED_EVENT, io.berth.cri.v1.ContainerEventType.CONTAINER_STOPPED_EVENT,
                    io.berth.cri.v1.ContainerEventType.CONTAINER_DELETED_EVENT);
            String until = Long.toString(System.currentTimeMillis() / 1000 + 1);
            assertThat(daemon.docker().run("events", "--since", since, "--until", until).stdout()).doesNotContain(id);
        } finally {
            listening.cancel(null);
        }
    }

    @Test
    void exitsGiveTheirCodeAndKubeletsReason() throws Exception {
        String pod = pod("jobs");
        String ok = create(pod, container("ok", "true"));
        String bad = create(pod, container("bad", "exit 3"));
        for (String id : List.of(ok, bad)) rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        await().atMost(Duration.ofSeconds(20)).until(() -> status(ok).getState() == ContainerState.CONTAINER_EXITED
                && status(bad).getState() == ContainerState.CONTAINER_EXITED);
        assertThat(status(ok).getExitCode()).isZero();
        assertThat(status(ok).getReason()).isEqualTo("Completed");
        assertThat(status(bad).getExitCode()).isEqualTo(3);
        assertThat(status(bad).getReason()).isEqualTo("Error");

        // the same name and attempt twice in a pod is refused; the next attempt is fine
        assertThat(codeOf(() -> create(pod, container("ok", "true")))).isEqualTo(Status.Code.ALREADY_EXISTS);
        String again = create(pod, container("ok", "true").setMetadata(ContainerMetadata.newBuilder().setName("ok").setAttempt(1)));

        var list = rt().listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder().setPodSandboxId(pod)).build());
        assertThat(list.getContainersList()).extracting(io.berth.cri.v1.Container::getId).containsExactly(ok, bad, again);
        var created = rt().listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                .setState(io.berth.cri.v1.ContainerStateValue.newBuilder().setState(ContainerState.CONTAINER_CREATED))).build());
        assertThat(created.getContainersList()).extracting(io.berth.cri.v1.Container::getId).containsExactly(again);
        assertThat(codeOf(() -> create("no-such-pod", container("x", "true")))).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void statsComeFromTheCgroupsTheWritableLayerAndThePodsNetwork() throws Exception {
        String pod = pod("busy");
        // 24 MiB in /dev/shm (memory of the cgroup), 2 MiB in the writable layer, some CPU
        String id = create(pod, container("app", "dd if=/dev/zero of=/dev/shm/m bs=1M count=24 2>/dev/null; "
                + "dd if=/dev/zero of=/tmp/f bs=1M count=2 2>/dev/null; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 300"));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        await().atMost(Duration.ofSeconds(30)).until(() -> exec(id, "test -f /tmp/f && ls -l /tmp/f").getStdout().toStringUtf8().contains("2097152"));
        var first = rt().containerStats(io.berth.cri.v1.ContainerStatsRequest.newBuilder().setContainerId(id).build()).getStats();
        assertThat(first.getAttributes().getId()).isEqualTo(id);
        assertThat(first.getAttributes().getMetadata().getName()).isEqualTo("app");
        assertThat(first.getCpu().getUsageCoreNanoSeconds().getValue()).isPositive();
        assertThat(first.getMemory().getWorkingSetBytes().getValue()).isGreaterThanOrEqualTo(24L << 20);
        assertThat(first.getWritableLayer().getUsedBytes().getValue()).isGreaterThanOrEqualTo(2L << 20);
        Thread.sleep(200);
        var second = rt().containerStats(io.berth.cri.v1.ContainerStatsRequest.newBuilder().setContainerId(id).build()).getStats();
        assertThat(second.getCpu().hasUsageNanoCores()).isTrue();
        assertThat(second.getCpu().getTimestamp()).isGreaterThan(first.getCpu().getTimestamp());

        var listed = rt().listContainerStats(io.berth.cri.v1.ListContainerStatsRequest.newBuilder().setFilter(
                io.berth.cri.v1.ContainerStatsFilter.newBuilder().setPodSandboxId(pod)).build()).getStatsList();
        assertThat(listed).extracting(s -> s.getAttributes().getId()).containsExactly(id);

        var podStats = rt().podSandboxStats(io.berth.cri.v1.PodSandboxStatsRequest.newBuilder().setPodSandboxId(pod).build()).getStats();
        assertThat(podStats.getAttributes().getMetadata().getName()).isEqualTo("busy");
        assertThat(podStats.getLinux().getContainersList()).extracting(s -> s.getAttributes().getId()).containsExactly(id);
        assertThat(podStats.getLinux().getMemory().getWorkingSetBytes().getValue()).isGreaterThanOrEqualTo(24L << 20);
        assertThat(podStats.getLinux().getProcess().getProcessCount().getValue()).isPositive();
        assertThat(podStats.getLinux().getNetwork().getDefaultInterface().getName()).isEqualTo("eth0");
        assertThat(rt().listPodSandboxStats(io.berth.cri.v1.ListPodSandboxStatsRequest.getDefaultInstance()).getStatsList())
                .extracting(s -> s.getAttributes().getId()).containsExactly(pod);
    }

    @Test
    void resourcesAreSetAtCreateAndUpdatedWhileRunning() throws Exception {
        String pod = pod("sized");
        String id = create(pod, container("app", "sleep 300").setLinux(LinuxContainerConfig.newBuilder().setResources(
                io.berth.cri.v1.LinuxContainerResources.newBuilder().setMemoryLimitInBytes(64L << 20).setCpuShares(512))));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        // runc mounts the container's own cgroup at /sys/fs/cgroup: v1's files, or v2's
        String memory = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max";
        String shares = "cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpu.shares";
        assertThat(exec(id, memory).getStdout().toStringUtf8().trim()).isEqualTo(Long.toString(64L << 20));
        assertThat(exec(id, shares).getStdout().toStringUtf8().trim()).isEqualTo("512");

        rt().updateContainerResources(io.berth.cri.v1.UpdateContainerResourcesRequest.newBuilder().setContainerId(id).setLinux(
                io.berth.cri.v1.LinuxContainerResources.newBuilder().setMemoryLimitInBytes(96L << 20).setCpuShares(1024)).build());
        assertThat(exec(id, memory).getStdout().toStringUtf8().trim()).isEqualTo(Long.toString(96L << 20));
        assertThat(exec(id, shares).getStdout().toStringUtf8().trim()).isEqualTo("1024");
        var after = status(id);
        assertThat(after.getResources().getLinux().getMemoryLimitInBytes()).isEqualTo(96L << 20);
        assertThat(after.getResources().getLinux().getCpuShares()).isEqualTo(1024);
        // still the pod's, and still out of the Docker API's lists
        assertThat(rt().listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder().setPodSandboxId(pod)).build())
                .getContainersList()).extracting(io.berth.cri.v1.Container::getId).containsExactly(id);
        assertThat(daemon.docker().run("ps", "-aq", "--no-trunc").stdout()).doesNotContain(id);
    }

    @Test
    void theSecurityContextConfinesTheProcess() throws Exception {
        String pod = pod("locked");
        String id = create(pod, container("app", "sleep 300").setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(
                LinuxContainerSecurityContext.newBuilder()
                        .setRunAsUser(Int64Value.newBuilder().setValue(1000))
                        .setRunAsGroup(Int64Value.newBuilder().setValue(3000))
                        .addSupplementalGroups(4000)
                        .setReadonlyRootfs(true)
                        .setNoNewPrivs(true)
                        .setCapabilities(Capability.newBuilder().addDropCapabilities("ALL").addAddCapabilities("NET_BIND_SERVICE")))));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        assertThat(exec(id, "id -u; id -g").getStdout().toStringUtf8()).isEqualTo("1000\n3000\n");
        assertThat(exec(id, "id -G").getStdout().toStringUtf8()).contains("4000");
        assertThat(exec(id, "touch /x").getExitCode()).isNotZero();
        String status = exec(id, "cat /proc/self/status").getStdout().toStringUtf8();
        // CAP_NET_BIND_SERVICE (bit 10) only, and no new privileges
        assertThat(status).containsPattern("CapBnd:\\s+0000000000000400");
        assertThat(status).containsPattern("NoNewPrivs:\\s+1");
    }

    // ------------------------------------------------------------ what critest v1.32.0 found

    /** A pod's containers share a PID namespace whose PID 1 is the pod's own init, not the first container. */
    @Test
    void aPodsContainersShareItsPidNamespaceUnderItsInit() throws Exception {
        String pod = pod("pids");
        String first = create(pod, container("first", "exec sleep 301"));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(first).build());
        String second = create(pod, container("second", "exec sleep 302"));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(second).build());
        assertThat(exec(first, "tr '\\0' ' ' < /proc/1/cmdline").getStdout().toStringUtf8()).contains("catatonit");
        assertThat(exec(second, "ps -o args").getStdout().toStringUtf8()).contains("sleep 301").contains("sleep 302");
        Path pinned = daemon.daemon().dir().resolve("run").resolve("cri").resolve("pods").resolve(pod).resolve("pid");
        assertThat(pinned).exists();
        long init = Long.parseLong(Files.readString(pinned.resolveSibling("pid-holder")).trim());
        assertThat(ProcessHandle.of(init)).isPresent();
        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(pinned).as("the namespace is unpinned with the pod").doesNotExist();
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(init).map(h -> !h.isAlive()).orElse(true));
    }

    @Test
    void anExecSyncPastItsTimeoutIsDeadlineExceededAndItsCommandIsKilled() throws Exception {
        String pod = pod("slow");
        String id = create(pod, container("app", "sleep 300"));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        assertThat(codeOf(() -> rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id).addCmd("sleep").addCmd("1234")
                .setTimeout(1).build()))).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        await().atMost(Duration.ofSeconds(10)).until(() -> !exec(id, "ps -o args").getStdout().toStringUtf8().contains("sleep 1234"));
    }

    @Test
    void noSeccompProfileIsUnconfinedTheRuntimeDefaultConfinesAndAGroupAloneIsRefused() throws Exception {
        String pod = pod("seccomp");
        String plain = create(pod, container("plain", "sleep 300"));
        String confined = create(pod, container("confined", "sleep 300").setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(
                LinuxContainerSecurityContext.newBuilder().setSeccomp(SecurityProfile.newBuilder()
                        .setProfileType(SecurityProfile.ProfileType.RuntimeDefault)))));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(plain).build());
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(confined).build());
        assertThat(exec(plain, "grep '^Seccomp:' /proc/self/status").getStdout().toStringUtf8()).matches("Seccomp:\\s+0\\s*");
        assertThat(exec(confined, "grep '^Seccomp:' /proc/self/status").getStdout().toStringUtf8()).matches("Seccomp:\\s+2\\s*");
        assertThat(codeOf(() -> create(pod, container("group", "id").setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(
                LinuxContainerSecurityContext.newBuilder().setRunAsGroup(Int64Value.newBuilder().setValue(1002)))))))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void reopenContainerLogAnswersOnceTheNewFileIsThere() throws Exception {
        String pod = pod("rotate");
        String id = create(pod, container("app", "while true; do echo tick; sleep 0.1; done"));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        Path log = logs.resolve("rotate").resolve("app").resolve("0.log");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.size(log) > 0);
        for (int i = 0; i < 5; i++) {
            Files.move(log, log.resolveSibling("0.log." + i));
            rt().reopenContainerLog(ReopenContainerLogRequest.newBuilder().setContainerId(id).build());
            assertThat(log).as("the new log file, right after the answer (round %d)", i).exists();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(log).contains(" stdout F tick"));
    }

    /** A Bidirectional mount: what the container mounts under it shows on the host (its root is rshared). */
    @Test
    void aBidirectionalMountCarriesTheContainersMountsToTheHost() throws Exception {
        Path shared = Files.createDirectories(logs.resolve("propagation"));
        io.berth.sys.Syscalls.mount(shared.toString(), shared.toString(), null, io.berth.sys.Syscalls.MS_BIND, null);
        try {
            new ProcessBuilder("mount", "--make-rshared", shared.toString()).inheritIO().start().waitFor();
            String pod = pod("propagate");
            String id = create(pod, container("app", "sleep 300")
                    .addMounts(Mount.newBuilder().setHostPath(shared.toString()).setContainerPath("/shared")
                            .setPropagation(MountPropagation.PROPAGATION_BIDIRECTIONAL))
                    .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(LinuxContainerSecurityContext.newBuilder().setPrivileged(true))));
            rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
            assertThat(exec(id, "mkdir -p /shared/inner && mount -t tmpfs tmpfs /shared/inner && touch /shared/inner/made-inside").getExitCode())
                    .isZero();
            assertThat(shared.resolve("inner").resolve("made-inside")).as("the container's mount, seen from the host").exists();
        } finally {
            for (String m : List.of(shared.resolve("inner").toString(), shared.toString())) {
                try {
                    io.berth.sys.Syscalls.umount2(m, io.berth.sys.Syscalls.MNT_DETACH);
                } catch (java.io.IOException e) {
                    // not mounted (the test failed before)
                }
            }
        }
    }

    /** Merge (the default) adds the image's groups of the user; Strict does not. ContainerStatus tells who the process is. */
    @Test
    void supplementalGroupsFollowThePolicyAndTheStatusSaysWhoTheProcessIs() throws Exception {
        String pod = pod("groups");
        java.util.function.Function<io.berth.cri.v1.SupplementalGroupsPolicy, String> run = policy -> {
            String id = create(pod, container("as-" + policy.name().toLowerCase(), "sleep 300").setImage(ImageSpec.newBuilder().setImage(GROUPS_IMAGE))
                    .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                            .setRunAsUser(Int64Value.newBuilder().setValue(1000)).addSupplementalGroups(1234)
                            .setSupplementalGroupsPolicy(policy))));
            rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
            return id;
        };
        String merge = run.apply(io.berth.cri.v1.SupplementalGroupsPolicy.Merge);
        String strict = run.apply(io.berth.cri.v1.SupplementalGroupsPolicy.Strict);
        assertThat(exec(merge, "id -G").getStdout().toStringUtf8()).isEqualTo("1000 1234 50000\n");
        assertThat(exec(strict, "id -G").getStdout().toStringUtf8()).isEqualTo("1000 1234\n");
        var user = status(strict).getUser().getLinux();
        assertThat(user.getUid()).isEqualTo(1000);
        assertThat(user.getGid()).isEqualTo(1000);
        assertThat(user.getSupplementalGroupsList()).containsExactlyInAnyOrder(1000L, 1234L);
        assertThat(status(merge).getUser().getLinux().getSupplementalGroupsList()).containsExactlyInAnyOrder(1000L, 1234L, 50000L);
        assertThat(rt().status(io.berth.cri.v1.StatusRequest.getDefaultInstance()).getFeatures().getSupplementalGroupsPolicy()).isTrue();
    }

    /** A recursive read-only mount makes the mounts under it read-only too; a plain one does not. */
    @Test
    void aRecursiveReadOnlyMountIsReadOnlyAllTheWayDown() throws Exception {
        Path host = Files.createDirectories(logs.resolve("rro"));
        Path sub = Files.createDirectories(host.resolve("tmpfs"));
        io.berth.sys.Syscalls.mount("tmpfs", sub.toString(), "tmpfs", 0, null);
        try {
            assertThat(rt().status(io.berth.cri.v1.StatusRequest.getDefaultInstance()).getRuntimeHandlers(0).getFeatures()
                    .getRecursiveReadOnlyMounts()).as("runc 1.1 has rro").isTrue();
            String pod = pod("rro");
            String plain = create(pod, container("plain", "sleep 300")
                    .addMounts(Mount.newBuilder().setHostPath(host.toString()).setContainerPath("/mnt").setReadonly(true)));
            String recursive = create(pod, container("recursive", "sleep 300")
                    .addMounts(Mount.newBuilder().setHostPath(host.toString()).setContainerPath("/mnt").setReadonly(true).setRecursiveReadOnly(true)));
            rt().startContainer(StartContainerRequest.newBuilder().setContainerId(plain).build());
            rt().startContainer(StartContainerRequest.newBuilder().setContainerId(recursive).build());
            assertThat(exec(plain, "touch /mnt/tmpfs/a").getExitCode()).as("a submount of a plain read-only bind stays writable").isZero();
            assertThat(exec(recursive, "touch /mnt/tmpfs/b 2>&1").getStdout().toStringUtf8()).contains("Read-only file system");
            assertThat(status(recursive).getMountsList()).anySatisfy(m -> assertThat(m.getRecursiveReadOnly()).isTrue());
            // only read-only and private
            assertThat(codeOf(() -> create(pod, container("bad", "true").addMounts(Mount.newBuilder().setHostPath(host.toString())
                    .setContainerPath("/mnt").setRecursiveReadOnly(true))))).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(codeOf(() -> create(pod, container("bad2", "true").addMounts(Mount.newBuilder().setHostPath(host.toString())
                    .setContainerPath("/mnt").setReadonly(true).setRecursiveReadOnly(true)
                    .setPropagation(MountPropagation.PROPAGATION_HOST_TO_CONTAINER))))).isEqualTo(Status.Code.INVALID_ARGUMENT);
        } finally {
            io.berth.sys.Syscalls.umount2(sub.toString(), io.berth.sys.Syscalls.MNT_DETACH);
        }
    }

    @Test
    void aContainerThatEndsWhileBerthdIsAwayKeepsTheTimeItEnded() throws Exception {
        // kubelet's restart back-off counts from FinishedAt: berthd's restart must not move it
        String pod = pod("away");
        String id = create(pod, container("app", "sleep 300"));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        String info = rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).setVerbose(true).build())
                .getInfoOrThrow("info");
        java.util.regex.Matcher pid = java.util.regex.Pattern.compile("\"pid\":(\\d+)").matcher(info);
        assertThat(pid.find()).as(info).isTrue();

        BerthdProcess first = daemon.daemon();
        first.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(criSocket(first));
        new ProcessBuilder("kill", "-KILL", pid.group(1)).inheritIO().start().waitFor();
        long killedAt = System.currentTimeMillis();
        Thread.sleep(3000);
        daemon = CliDaemon.start(first.dir());
        connect(daemon.daemon());

        io.berth.cri.v1.ContainerStatus st = status(id);
        assertThat(st.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(st.getExitCode()).isEqualTo(137);
        assertThat(st.getFinishedAt() / 1_000_000).as("FinishedAt, in ms, against the kill at %d", killedAt)
                .isBetween(killedAt - 1000, killedAt + 1000);
    }

    @Test
    void containersOutliveAKilledBerthdAndGoWithTheirPod() throws Exception {
        String pod = pod("durable");
        String id = create(pod, container("app", "sleep 300"));
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        // PID 1's start time names the process: the same one must run after berthd's restart
        String init = exec(id, "cut -d' ' -f22 /proc/1/stat").getStdout().toStringUtf8();
        assertThat(init).matches("\\d+\n");

        BerthdProcess first = daemon.daemon();
        first.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(criSocket(first));
        daemon = CliDaemon.start(first.dir());
        connect(daemon.daemon());

        assertThat(status(id).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(exec(id, "cut -d' ' -f22 /proc/1/stat").getStdout().toStringUtf8()).isEqualTo(init);

        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(status(id).getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(codeOf(() -> rt().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build())))
                .isEqualTo(Status.Code.FAILED_PRECONDITION);
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(codeOf(() -> status(id))).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
    }
}
