package io.berth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.berth.cri.v1.Container;
import io.berth.cri.v1.ContainerEventResponse;
import io.berth.cri.v1.ExecSyncRequest;
import io.berth.cri.v1.ExecSyncResponse;
import io.berth.cri.v1.GetEventsRequest;
import io.berth.cri.v1.ListContainersRequest;
import io.berth.cri.v1.ListContainersResponse;
import io.berth.cri.v1.RuntimeServiceGrpc;
import io.berth.cri.v1.StatusRequest;
import io.berth.cri.v1.VersionRequest;
import io.berth.cri.v1.VersionResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Berth's gRPC server against grpc-java's own client (Netty's HTTP/2 over a unix socket): a
 * test service on the CRI's generated stubs, each method doing what a case needs.
 */
class GrpcServerTest {
    private static final int MAX_MESSAGE = 4 << 20;
    private static final int CONCURRENT = 20;

    @TempDir
    Path dir;
    private GrpcServer server;
    private EventLoopGroup loop;
    private ManagedChannel channel;
    private final AtomicInteger started = new AtomicInteger();
    private final CountDownLatch concurrent = new CountDownLatch(CONCURRENT);
    private final CountDownLatch cancelSeen = new CountDownLatch(1);
    private final CountDownLatch slowStarted = new CountDownLatch(1);

    /** The test service: Version echoes, ListContainers answers as many as asked, ExecSync fails or echoes, events stream. */
    private final class TestService extends RuntimeServiceGrpc.RuntimeServiceImplBase {
        @Override
        public void version(VersionRequest request, StreamObserver<VersionResponse> out) {
            out.onNext(VersionResponse.newBuilder().setVersion("echo " + request.getVersion()).build());
            out.onCompleted();
        }

        @Override
        public void listContainers(ListContainersRequest request, StreamObserver<ListContainersResponse> out) {
            int n = Integer.parseInt(request.getFilter().getId());
            ListContainersResponse.Builder b = ListContainersResponse.newBuilder();
            for (int i = 0; i < n; i++) b.addContainers(Container.newBuilder().setId(String.format("%064d", i)));
            out.onNext(b.build());
            out.onCompleted();
        }

        @Override
        public void execSync(ExecSyncRequest request, StreamObserver<ExecSyncResponse> out) {
            switch (request.getCmd(0)) {
                case "echo" -> {
                    out.onNext(ExecSyncResponse.newBuilder().setStdout(ByteString.copyFromUtf8(String.join(" ", request.getCmdList().subList(1, request.getCmdCount())))).build());
                    out.onCompleted();
                }
                case "not-found" -> out.onError(Status.NOT_FOUND.withDescription("container \"wéb\" 100% gone\nfor good").asRuntimeException());
                case "throw" -> throw new IllegalStateException("broken handler");
                case "together" -> { // answers once CONCURRENT calls are in at the same time
                    concurrent.countDown();
                    try {
                        boolean all = concurrent.await(20, TimeUnit.SECONDS);
                        out.onNext(ExecSyncResponse.newBuilder().setExitCode(all ? 0 : 1).build());
                        out.onCompleted();
                    } catch (InterruptedException e) {
                        out.onError(e);
                    }
                }
                case "slow" -> { // answers half a second after it starts
                    slowStarted.countDown();
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    out.onNext(ExecSyncResponse.newBuilder().setExitCode(7).build());
                    out.onCompleted();
                }
                case "wait" -> { // until the client gives up
                    ServerCallStreamObserver<ExecSyncResponse> call = (ServerCallStreamObserver<ExecSyncResponse>) out;
                    call.setOnCancelHandler(cancelSeen::countDown);
                }
                default -> out.onError(Status.INVALID_ARGUMENT.asRuntimeException());
            }
        }

        @Override
        public void getContainerEvents(GetEventsRequest request, StreamObserver<ContainerEventResponse> out) {
            ServerCallStreamObserver<ContainerEventResponse> call = (ServerCallStreamObserver<ContainerEventResponse>) out;
            call.setOnCancelHandler(cancelSeen::countDown);
            for (int i = 0; i < 3; i++) out.onNext(ContainerEventResponse.newBuilder().setContainerId("c" + i).build());
            // then nothing more until the client leaves
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = GrpcServer.listen(dir.resolve("grpc.sock"), MAX_MESSAGE, () -> {
            started.incrementAndGet();
            return List.of(GeneratedService.of(RuntimeServiceGrpc.class, new TestService()));
        });
        loop = new EpollEventLoopGroup(1);
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(server.socket().toString()))
                .eventLoopGroup(loop).channelType(EpollDomainSocketChannel.class).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        server.close();
    }

    private RuntimeServiceGrpc.RuntimeServiceBlockingStub stub() {
        return RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static ExecSyncRequest exec(String... cmd) {
        return ExecSyncRequest.newBuilder().addAllCmd(List.of(cmd)).build();
    }

    @Test
    void answersOnARootOnlySocketAndMakesItsServicesOnTheFirstConnection() throws Exception {
        assertThat(Files.getPosixFilePermissions(server.socket())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(started).hasValue(0);
        assertThat(stub().version(VersionRequest.newBuilder().setVersion("v1").build()).getVersion()).isEqualTo("echo v1");
        assertThat(stub().version(VersionRequest.newBuilder().setVersion("v2").build()).getVersion()).isEqualTo("echo v2");
        assertThat(started).hasValue(1);
        assertThat(server.callsServed()).isEqualTo(2);
    }

    @Test
    void movesMessagesLargerThanEveryWindowAndFrameBothWays() {
        // 60,000 containers: about 4.3 MB, past the client's windows (64 KiB at first) and frames (16 KiB)
        ListContainersResponse r = stub().listContainers(ListContainersRequest.newBuilder()
                .setFilter(io.berth.cri.v1.ContainerFilter.newBuilder().setId("60000")).build());
        assertThat(r.getContainersCount()).isEqualTo(60_000);
        assertThat(r.getContainers(59_999).getId()).isEqualTo(String.format("%064d", 59_999));
        // a 3 MB request: past this side's stream window (1 MiB), so the server must give it back as it reads
        String big = "y".repeat(3 << 20);
        assertThat(stub().execSync(exec("echo", big, "end")).getStdout().toStringUtf8()).hasSize(big.length() + 4).endsWith(" end");
    }

    @Test
    void carriesStatusesAndTheirMessages() {
        assertThatThrownBy(() -> stub().execSync(exec("not-found"))).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(e.getStatus().getDescription()).isEqualTo("container \"wéb\" 100% gone\nfor good");
        });
        assertThatThrownBy(() -> stub().execSync(exec("throw"))).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN));
        // a method the service leaves to its base class, and one no service has
        assertThatThrownBy(() -> stub().status(StatusRequest.getDefaultInstance())).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
        assertThatThrownBy(() -> io.berth.cri.v1.ImageServiceGrpc.newBlockingStub(channel).listImages(io.berth.cri.v1.ListImagesRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                    assertThat(e.getStatus().getDescription()).contains("runtime.v1.ImageService/ListImages");
                });
        // still serving on the same connection
        assertThat(stub().version(VersionRequest.getDefaultInstance()).getVersion()).isEqualTo("echo ");
    }

    @Test
    void refusesARequestAboveTheLimit() {
        assertThatThrownBy(() -> stub().execSync(exec("echo", "z".repeat(MAX_MESSAGE + 1))))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        assertThat(stub().execSync(exec("echo", "fine")).getStdout().toStringUtf8()).isEqualTo("fine");
    }

    @Test
    void runsCallsOfOneConnectionAtOnce() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(CONCURRENT);
        try {
            List<Future<ExecSyncResponse>> answers = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) answers.add(clients.submit(() -> stub().execSync(exec("together"))));
            for (Future<ExecSyncResponse> a : answers) assertThat(a.get(30, TimeUnit.SECONDS).getExitCode()).isZero();
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void aClosingServerLetsARunningCallAnswer() throws Exception {
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            Future<ExecSyncResponse> answer = client.submit(() -> stub().execSync(exec("slow")));
            assertThat(slowStarted.await(10, TimeUnit.SECONDS)).isTrue();
            server.close();
            assertThat(answer.get(10, TimeUnit.SECONDS).getExitCode()).isEqualTo(7);
            assertThatThrownBy(() -> stub().version(VersionRequest.getDefaultInstance())).isInstanceOf(StatusRuntimeException.class);
        } finally {
            client.shutdownNow();
        }
    }

    @Test
    void aClientsDeadlineCancelsTheCall() throws Exception {
        assertThatThrownBy(() -> RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.MILLISECONDS).execSync(exec("wait")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(cancelSeen.await(10, TimeUnit.SECONDS)).as("the handler saw the call cancelled").isTrue();
    }

    @Test
    void streamsMessagesUntilTheClientLeaves() throws Exception {
        io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
        List<String> ids = new ArrayList<>();
        context.run(() -> {
            Iterator<ContainerEventResponse> events = stub().getContainerEvents(GetEventsRequest.getDefaultInstance());
            for (int i = 0; i < 3; i++) ids.add(events.next().getContainerId());
        });
        assertThat(ids).containsExactly("c0", "c1", "c2");
        assertThat(cancelSeen.getCount()).isEqualTo(1);
        context.cancel(null);
        assertThat(cancelSeen.await(10, TimeUnit.SECONDS)).as("the handler saw the client leave").isTrue();
    }

    @Test
    void endsAConnectionThatIsNotHttp2AndStopsServingWhenClosed() throws Exception {
        try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            raw.connect(UnixDomainSocketAddress.of(server.socket()));
            raw.write(ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer answer = ByteBuffer.allocate(4096);
            while (raw.read(answer) >= 0) {
                if (!answer.hasRemaining()) break;
            }
            answer.flip();
            // a GOAWAY frame (type 7) saying PROTOCOL_ERROR (1), then the end
            assertThat(answer.remaining()).isGreaterThanOrEqualTo(17);
            assertThat(answer.get(3)).isEqualTo((byte) 7);
            assertThat(answer.getInt(13)).isEqualTo(1);
        }
        assertThat(stub().version(VersionRequest.getDefaultInstance()).getVersion()).isEqualTo("echo ");
        server.close();
        assertThat(server.socket()).doesNotExist();
        assertThatThrownBy(() -> stub().version(VersionRequest.getDefaultInstance())).isInstanceOf(StatusRuntimeException.class);
    }
}
