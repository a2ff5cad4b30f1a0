package io.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.cri.stream.SpdyTestClient;
import io.berth.cri.v1.AttachRequest;
import io.berth.cri.v1.ExecRequest;
import io.berth.cri.v1.ExecSyncRequest;
import io.berth.cri.v1.ListPodSandboxRequest;
import io.berth.cri.v1.PodSandboxConfig;
import io.berth.cri.v1.PodSandboxMetadata;
import io.berth.cri.v1.PortForwardRequest;
import io.berth.cri.v1.RemovePodSandboxRequest;
import io.berth.cri.v1.RunPodSandboxRequest;
import io.berth.cri.v1.RuntimeServiceGrpc;
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
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Exec, Attach, PortForward and ExecSync through the CRI: the gRPC call answers a URL, and a
 * SPDY/3.1 client speaks Kubernetes' remote-command and port-forward protocols on it, against
 * real containers and a pod's real network namespace. (crictl 1.32's exec, attach and
 * port-forward were run by hand against the same server; CI has no Go toolchain to build it.)
 */
class CriStreamingTest {
    private static final String IMAGE = "cri-stream/busybox:1";
    private static final EventLoopGroup LOOP = new EpollEventLoopGroup(1);
    private static CliDaemon daemon;
    private static ManagedChannel channel;
    private static RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;

    @BeforeAll
    static void start() throws Exception {
        daemon = CliDaemon.start();
        Path dir = Files.createTempDirectory("cri-stream");
        daemon.load(TestImages.busybox().tag(IMAGE).writeTo(dir.resolve("bb.tar")));
        BerthdProcess.deleteTree(dir);
        Path socket = daemon.daemon().dir().resolve("run").resolve("cri.sock");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(socket) && System.nanoTime() < deadline) Thread.sleep(20);
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(LOOP).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void clean() throws Exception {
        for (var p : rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
            rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
        }
        daemon.removeContainers();
        daemon.removeCustomNetworks();
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        LOOP.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        if (daemon != null) daemon.close();
    }

    private static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return runtime.withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    private static String container(String... command) throws Exception {
        String[] args = new String[command.length + 4];
        args[0] = "run";
        args[1] = "-d";
        args[2] = "-i";
        args[3] = IMAGE;
        System.arraycopy(command, 0, args, 4, command.length);
        return daemon.ok(args).stdout().trim();
    }

    @Test
    void execRunsTheCommandWithItsStreamsAndReportsItsExitCode() throws Exception {
        String id = container("sleep", "300");
        String url = rt().exec(ExecRequest.newBuilder().setContainerId(id).addCmd("sh").addCmd("-c")
                .addCmd("echo out; echo err >&2; exit 3").setStdout(true).setStderr(true).build()).getUrl();
        assertThat(url).startsWith("http://127.0.0.1:");
        try (SpdyTestClient c = SpdyTestClient.connect(url, "v4.channel.k8s.io", "v3.channel.k8s.io")) {
            assertThat(c.protocol()).isEqualTo("v4.channel.k8s.io");
            int error = c.open("error");
            int out = c.open("stdout");
            int err = c.open("stderr");
            assertThat(c.awaitAll(out, 20)).isEqualTo("out\n");
            assertThat(c.awaitAll(err, 20)).isEqualTo("err\n");
            String status = c.awaitAll(error, 20);
            assertThat(status).contains("\"status\":\"Failure\"").contains("\"reason\":\"NonZeroExitCode\"")
                    .contains("\"reason\":\"ExitCode\"").contains("\"message\":\"3\"");
        }
        // the URL is good once
        assertThatThrownBy(() -> SpdyTestClient.connect(url, "v4.channel.k8s.io")).isInstanceOf(IOException.class).hasMessageContaining("404");
    }

    @Test
    void execTakesStdinUntilTheClientClosesItAndSucceeds() throws Exception {
        String id = container("sleep", "300");
        String url = rt().exec(ExecRequest.newBuilder().setContainerId(id).addCmd("sh").addCmd("-c").addCmd("wc -c; echo done")
                .setStdin(true).setStdout(true).build()).getUrl();
        try (SpdyTestClient c = SpdyTestClient.connect(url, "v5.channel.k8s.io", "v4.channel.k8s.io")) {
            int error = c.open("error");
            int in = c.open("stdin");
            int out = c.open("stdout");
            byte[] data = new byte[300_000];
            c.send(in, data, false);
            c.send(in, "tail".getBytes(StandardCharsets.UTF_8), true);
            assertThat(c.awaitAll(out, 20)).isEqualTo("300004\ndone\n");
            assertThat(c.awaitAll(error, 20)).contains("\"status\":\"Success\"");
        }
    }

    @Test
    void anUnknownContainerOrNoStreamIsRefusedAtTheCall() {
        assertThatThrownBy(() -> rt().exec(ExecRequest.newBuilder().setContainerId("nosuch").addCmd("true").setStdout(true).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> rt().exec(ExecRequest.newBuilder().setContainerId("nosuch").addCmd("true").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void attachRelaysTheMainProcessStreams() throws Exception {
        String id = container("sh", "-c", "while read l; do echo \"got $l\"; done");
        String url = rt().attach(AttachRequest.newBuilder().setContainerId(id).setStdin(true).setStdout(true).setStderr(true).build()).getUrl();
        try (SpdyTestClient c = SpdyTestClient.connect(url, "v4.channel.k8s.io")) {
            c.open("error");
            int in = c.open("stdin");
            int out = c.open("stdout");
            c.open("stderr");
            c.send(in, "one\ntwo\n".getBytes(StandardCharsets.UTF_8), false);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!c.sofar(out).equals("got one\ngot two\n") && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(c.sofar(out)).isEqualTo("got one\ngot two\n");
        }
    }

    @Test
    void execSyncGivesTheOutputAndExitCodeAndTimesOut() throws Exception {
        String id = container("sleep", "300");
        var r = rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id).addCmd("sh").addCmd("-c")
                .addCmd("echo out; echo err >&2; exit 4").build());
        assertThat(r.getStdout().toStringUtf8()).isEqualTo("out\n");
        assertThat(r.getStderr().toStringUtf8()).isEqualTo("err\n");
        assertThat(r.getExitCode()).isEqualTo(4);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> rt().execSync(ExecSyncRequest.newBuilder().setContainerId(id).addCmd("sleep").addCmd("30").setTimeout(1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void portForwardReachesAPortOnThePodsOwnLoopback() throws Exception {
        String pod = rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("pf").setUid("pf-uid").setNamespace("default"))).build()).getPodSandboxId();
        Path netns = daemon.daemon().dir().resolve("run").resolve("netns").resolve(pod);
        Path www = Files.createTempDirectory("pf-www");
        Files.writeString(www.resolve("index.html"), "hello from the pod\n");
        // a server only the pod's namespace reaches: on its loopback
        Process httpd = new ProcessBuilder("nsenter", "--net=" + netns, "busybox", "httpd", "-f", "-p", "127.0.0.1:8080", "-h", www.toString())
                .redirectErrorStream(true).start();
        try {
            String url = rt().portForward(PortForwardRequest.newBuilder().setPodSandboxId(pod).addPort(8080).build()).getUrl();
            try (SpdyTestClient c = SpdyTestClient.connect(url, "portforward.k8s.io")) {
                assertThat(c.protocol()).isEqualTo("portforward.k8s.io");
                String body = null;
                String failure = "";
                for (int attempt = 0; attempt < 50 && (body == null || !body.contains("hello")); attempt++) {
                    Map<String, String> h = new LinkedHashMap<>();
                    h.put("streamType", "error");
                    h.put("port", "8080");
                    h.put("requestID", Integer.toString(attempt));
                    int error = c.open(h);
                    h.put("streamType", "data");
                    int data = c.open(h);
                    c.send(data, "GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII), true);
                    body = c.awaitAll(data, 20);
                    if (body == null || body.isEmpty()) {
                        failure = c.awaitAll(error, 5);
                        Thread.sleep(100); // httpd not listening yet
                    }
                }
                assertThat(body).as("last error: %s; httpd alive %s", failure, httpd.isAlive()).startsWith("HTTP/1.1 200").endsWith("hello from the pod\n");
            }
            // the host's own loopback has no such server
            HttpURLConnection direct = (HttpURLConnection) URI.create("http://127.0.0.1:8080/").toURL().openConnection();
            direct.setConnectTimeout(2000);
            assertThatThrownBy(direct::getResponseCode).isInstanceOf(IOException.class);
        } finally {
            httpd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            BerthdProcess.deleteTree(www);
        }
    }
}
