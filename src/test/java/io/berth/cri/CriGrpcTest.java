package io.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.cri.v1.CgroupDriver;
import io.berth.cri.v1.ImageFsInfoRequest;
import io.berth.cri.v1.ImageServiceGrpc;
import io.berth.cri.v1.ImageSpec;
import io.berth.cri.v1.ImageStatusRequest;
import io.berth.cri.v1.ListImagesRequest;
import io.berth.cri.v1.ListPodSandboxRequest;
import io.berth.cri.v1.PodSandboxConfig;
import io.berth.cri.v1.PodSandboxFilter;
import io.berth.cri.v1.PodSandboxMetadata;
import io.berth.cri.v1.PodSandboxState;
import io.berth.cri.v1.PodSandboxStatusRequest;
import io.berth.cri.v1.RemoveImageRequest;
import io.berth.cri.v1.RemovePodSandboxRequest;
import io.berth.cri.v1.RunPodSandboxRequest;
import io.berth.cri.v1.RuntimeConfigRequest;
import io.berth.cri.v1.RuntimeServiceGrpc;
import io.berth.cri.v1.StatusRequest;
import io.berth.cri.v1.StopPodSandboxRequest;
import io.berth.cri.v1.VersionRequest;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CRI through a real gRPC client (the stubs generated from Berth's .proto, the same wire
 * kubelet and crictl speak) against a real berthd on its unix socket, with images loaded by
 * the docker CLI and pods given real namespaces and CNI networking.
 */
class CriGrpcTest {
    private static final EventLoopGroup LOOP = new EpollEventLoopGroup(1);
    private static CliDaemon daemon;
    private static ManagedChannel channel;
    private static RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;
    private static ImageServiceGrpc.ImageServiceBlockingStub images;

    @BeforeAll
    static void start() throws Exception {
        daemon = CliDaemon.start();
        connect(daemon.daemon());
    }

    private static Path criSocket(BerthdProcess d) {
        return d.dir().resolve("run").resolve("cri.sock");
    }

    /** The CRI starts just after the Docker API answers: wait for its socket, then open a channel. */
    private static void connect(BerthdProcess d) throws Exception {
        Path socket = criSocket(d);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(socket) && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(socket).as("CRI socket\n%s", d.log()).exists();
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(LOOP).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        images = ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterEach
    void removePods() throws Exception {
        for (var p : fresh().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
            fresh().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
        }
        daemon.removeContainers();
        daemon.removeCustomNetworks(); // the pod network and its bridge
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        LOOP.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        if (daemon != null) daemon.close();
    }

    /** A stub with a deadline from now (a stub's deadline is fixed when it is made). */
    private static RuntimeServiceGrpc.RuntimeServiceBlockingStub fresh() {
        return runtime.withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @Test
    void answersVersionStatusAndRuntimeConfigOnARootOnlySocket() throws Exception {
        var v = fresh().version(VersionRequest.newBuilder().setVersion("v1").build());
        assertThat(v.getRuntimeName()).isEqualTo("berth");
        assertThat(v.getRuntimeApiVersion()).isEqualTo("v1");
        assertThat(v.getVersion()).isEqualTo("0.1.0");

        var s = fresh().status(StatusRequest.getDefaultInstance());
        assertThat(s.getStatus().getConditionsList())
                .anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("RuntimeReady");
                    assertThat(c.getStatus()).isTrue();
                })
                .anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("NetworkReady");
                    assertThat(c.getStatus()).as("CNI plugins installed: %s", c.getMessage()).isTrue();
                });
        assertThat(fresh().runtimeConfig(RuntimeConfigRequest.getDefaultInstance()).getLinux().getCgroupDriver())
                .isEqualTo(CgroupDriver.CGROUPFS);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(criSocket(daemon.daemon())))).isEqualTo("rw-------");
    }

    @Test
    void anEmptyCriSocketTurnsTheEndpointOff() throws Exception {
        try (CliDaemon off = CliDaemon.start("--cri-socket", "")) {
            Thread.sleep(1500); // longer than the CRI takes to come up when it is on
            assertThat(criSocket(off.daemon())).doesNotExist();
            assertThat(off.daemon().log()).doesNotContain("CRI listen");
        }
    }

    @Test
    void seesAndRemovesTheImagesOfTheDockerApi() throws Exception {
        Path dir = Files.createTempDirectory("cri-images");
        TestImages.Built busybox = TestImages.busybox().tag("cri-test/busybox:1").writeTo(dir.resolve("bb.tar"));
        daemon.load(busybox);
        BerthdProcess.deleteTree(dir);
        String id = busybox.imageId().toString();

        var listed = images.withDeadlineAfter(60, TimeUnit.SECONDS).listImages(ListImagesRequest.getDefaultInstance()).getImagesList();
        assertThat(listed).anySatisfy(i -> {
            assertThat(i.getId()).isEqualTo(id);
            assertThat(i.getRepoTagsList()).containsExactly("docker.io/cri-test/busybox:1");
            assertThat(i.getSize()).isPositive();
        });
        var status = images.withDeadlineAfter(60, TimeUnit.SECONDS)
                .imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage("cri-test/busybox:1")).build());
        assertThat(status.getImage().getId()).isEqualTo(id);
        var fs = images.withDeadlineAfter(60, TimeUnit.SECONDS).imageFsInfo(ImageFsInfoRequest.getDefaultInstance());
        assertThat(fs.getImageFilesystems(0).getUsedBytes().getValue()).isPositive();

        images.withDeadlineAfter(60, TimeUnit.SECONDS)
                .removeImage(RemoveImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(id)).build());
        assertThat(daemon.ok("images", "-q", "--no-trunc").stdout()).doesNotContain(id);
        // Gone is not an error, neither for the status nor for a second remove: kubelet relies on both.
        var missing = images.withDeadlineAfter(60, TimeUnit.SECONDS)
                .imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(id)).build());
        assertThat(missing.hasImage()).isFalse();
        images.withDeadlineAfter(60, TimeUnit.SECONDS)
                .removeImage(RemoveImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(id)).build());
    }

    @Test
    void pullsWithKubeletsCredentialsIntoTheStoreTheDockerApiSees() throws Exception {
        try (var registry = io.berth.testing.RegistryProcess.start("kube", "let-me-in")) {
            Path dir = Files.createTempDirectory("cri-pull");
            TestImages.Built busybox = TestImages.busybox().tag("cri-pull/src:1").label("pulled", "by-cri").writeTo(dir.resolve("bb.tar"));
            daemon.load(busybox);
            BerthdProcess.deleteTree(dir);
            String name = registry.host() + "/team/app:1";
            daemon.ok("tag", "cri-pull/src:1", name);
            daemon.ok("login", "-u", "kube", "-p", "let-me-in", registry.host());
            daemon.ok("push", name);
            daemon.ok("logout", registry.host());
            daemon.ok("rmi", "cri-pull/src:1", name);

            var pull = io.berth.cri.v1.PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(name));
            // no credentials: the registry's refusal, and nothing pulled
            assertThatThrownBy(() -> images.withDeadlineAfter(60, TimeUnit.SECONDS).pullImage(pull.build()))
                    .isInstanceOf(StatusRuntimeException.class);
            assertThat(daemon.ok("images", "-q", name).stdout()).isBlank();
            // kubelet's AuthConfig, as the base64 user:password pair
            String pair = java.util.Base64.getEncoder().encodeToString("kube:let-me-in".getBytes(StandardCharsets.UTF_8));
            String ref = images.withDeadlineAfter(60, TimeUnit.SECONDS).pullImage(pull.setAuth(
                    io.berth.cri.v1.AuthConfig.newBuilder().setAuth(pair).setServerAddress(registry.host())).build()).getImageRef();
            assertThat(ref).isEqualTo(busybox.imageId().toString());
            assertThat(daemon.ok("inspect", "-f", "{{index .Config.Labels \"pulled\"}}", name).stdout().trim()).isEqualTo("by-cri");
            images.withDeadlineAfter(60, TimeUnit.SECONDS).removeImage(RemoveImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(ref)).build());
        }
    }

    @Test
    void updateRuntimeConfigKeepsThePodCidrKubeletGives() {
        fresh().updateRuntimeConfig(io.berth.cri.v1.UpdateRuntimeConfigRequest.newBuilder().setRuntimeConfig(
                io.berth.cri.v1.RuntimeConfig.newBuilder().setNetworkConfig(io.berth.cri.v1.NetworkConfig.newBuilder().setPodCidr("10.244.3.0/24")))
                .build());
        assertThat(fresh().status(StatusRequest.newBuilder().setVerbose(true).build()).getInfoMap().get("config")).contains("10.244.3.0/24");
    }

    private static PodSandboxConfig podConfig(String name) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setUid("uid-" + name).setNamespace("default"))
                .setHostname(name)
                .putLabels("app", name)
                .putAnnotations("note", "cri test")
                .build();
    }

    /** The addresses inside a namespace, seen from the host through its pinned file. */
    private static String addressesIn(String netns) throws Exception {
        Process p = new ProcessBuilder("nsenter", "--net=" + netns, "ip", "-4", "-o", "addr").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void aPodHasAPinnedNetworkNamespaceOnThePodNetworkAndSurvivesARestartOfBerthd() throws Exception {
        String id = fresh().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(podConfig("web")).build()).getPodSandboxId();
        assertThat(id).hasSize(64);
        var status = fresh().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build()).getStatus();
        assertThat(status.getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(status.getMetadata().getName()).isEqualTo("web");
        assertThat(status.getLabelsMap()).containsEntry("app", "web");
        assertThat(status.getAnnotationsMap()).containsEntry("note", "cri test");
        String ip = status.getNetwork().getIp();
        assertThat(ip).matches("\\d+\\.\\d+\\.\\d+\\.\\d+");

        Path netns = daemon.daemon().dir().resolve("run").resolve("netns").resolve(id);
        assertThat(addressesIn(netns.toString())).contains("eth0").contains("inet " + ip + "/");
        // The same pod is refused twice (name, uid, namespace and attempt make it unique).
        assertThatThrownBy(() -> fresh().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(podConfig("web")).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));

        // kill -9 and a new berthd on the same roots: the pod, its namespace and its address are still there.
        BerthdProcess first = daemon.daemon();
        first.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(criSocket(first));
        daemon = CliDaemon.start(first.dir());
        connect(daemon.daemon());
        var after = fresh().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build()).getStatus();
        assertThat(after.getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(after.getNetwork().getIp()).isEqualTo(ip);
        assertThat(addressesIn(netns.toString())).contains("inet " + ip + "/");

        fresh().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        fresh().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build()); // idempotent
        assertThat(fresh().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build()).getStatus().getState())
                .isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertThat(netns).doesNotExist();

        fresh().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        fresh().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build()); // idempotent
        assertThatThrownBy(() -> fresh().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void listsPodsByIdStateAndLabels() throws Exception {
        String a = fresh().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(podConfig("a")).build()).getPodSandboxId();
        String b = fresh().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(podConfig("b")).build()).getPodSandboxId();
        fresh().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(b).build());

        assertThat(ids(PodSandboxFilter.getDefaultInstance())).containsExactly(a, b);
        assertThat(ids(PodSandboxFilter.newBuilder().putLabelSelector("app", "b").build())).containsExactly(b);
        assertThat(ids(PodSandboxFilter.newBuilder().setId(a.substring(0, 12)).build())).containsExactly(a);
        assertThat(ids(PodSandboxFilter.newBuilder()
                .setState(io.berth.cri.v1.PodSandboxStateValue.newBuilder().setState(PodSandboxState.SANDBOX_READY)).build()))
                .containsExactly(a);
    }

    @Test
    void aPodHasItsHostnameDnsAndNamespacedSysctlsInNamespacesOfItsOwn() throws Exception {
        String hostShm = Files.readString(Path.of("/proc/sys/kernel/shm_rmid_forced")).trim();
        String hostPorts = Files.readString(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).trim();
        PodSandboxConfig config = podConfig("dns").toBuilder()
                .setHostname("dns-host")
                .setDnsConfig(io.berth.cri.v1.DNSConfig.newBuilder().addServers("10.96.0.10")
                        .addSearches("default.svc.cluster.local").addSearches("svc.cluster.local").addOptions("ndots:5"))
                .setLinux(io.berth.cri.v1.LinuxPodSandboxConfig.newBuilder()
                        .putSysctls("net.ipv4.ip_unprivileged_port_start", "81")
                        .putSysctls("kernel.shm_rmid_forced", "1".equals(hostShm) ? "0" : "1"))
                .build();
        String id = fresh().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()).getPodSandboxId();
        Path pod = daemon.daemon().dir().resolve("run").resolve("cri").resolve("pods").resolve(id);
        Path netns = daemon.daemon().dir().resolve("run").resolve("netns").resolve(id);

        assertThat(in("--uts=" + pod.resolve("uts"), "hostname")).isEqualTo("dns-host\n");
        assertThat(in("--net=" + netns, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start")).isEqualTo("81\n");
        assertThat(in("--ipc=" + pod.resolve("ipc"), "cat", "/proc/sys/kernel/shm_rmid_forced"))
                .isEqualTo(("1".equals(hostShm) ? "0" : "1") + "\n");
        assertThat(Files.readString(pod.resolve("resolv.conf")))
                .isEqualTo("search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n");
        assertThat(Files.readString(pod.resolve("hostname"))).isEqualTo("dns-host\n");
        // the host's own values are untouched
        assertThat(Files.readString(Path.of("/proc/sys/kernel/shm_rmid_forced")).trim()).isEqualTo(hostShm);
        assertThat(Files.readString(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).trim()).isEqualTo(hostPorts);
        assertThat(in("hostname")).isNotEqualTo("dns-host\n");

        fresh().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        assertThat(pod.resolve("uts")).doesNotExist();
        assertThat(pod.resolve("ipc")).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(pod.toString());
        fresh().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        assertThat(pod).doesNotExist();
    }

    @Test
    void aSysctlOfTheHostOrOfANamespaceThePodSharesIsRefusedAndChangesNothing() throws Exception {
        var hostNetwork = io.berth.cri.v1.LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                io.berth.cri.v1.LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(
                        io.berth.cri.v1.NamespaceOption.newBuilder().setNetwork(io.berth.cri.v1.NamespaceMode.NODE)));
        for (PodSandboxConfig bad : java.util.List.of(
                podConfig("vm").toBuilder().setLinux(io.berth.cri.v1.LinuxPodSandboxConfig.newBuilder().putSysctls("vm.swappiness", "1")).build(),
                podConfig("dots").toBuilder().setLinux(io.berth.cri.v1.LinuxPodSandboxConfig.newBuilder()
                        .putSysctls("net.ipv4/../../kernel.shmmax", "1")).build(),
                podConfig("hostnet").toBuilder().setLinux(hostNetwork.putSysctls("net.ipv4.ip_forward", "0")).build())) {
            assertThatThrownBy(() -> fresh().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(bad).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
        assertThat(fresh().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }

    /** A command's output, run in the namespaces the nsenter options name. */
    private static String in(String... command) throws Exception {
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("nsenter"));
        argv.addAll(java.util.List.of(command));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    private static java.util.List<String> ids(PodSandboxFilter f) {
        return fresh().listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(f).build()).getItemsList().stream()
                .map(io.berth.cri.v1.PodSandbox::getId).toList();
    }
}
