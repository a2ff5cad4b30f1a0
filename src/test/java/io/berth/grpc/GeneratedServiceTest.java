package io.berth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.cri.v1.ImageServiceGrpc;
import io.berth.cri.v1.RuntimeServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import org.junit.jupiter.api.Test;

/** Binding a generated service's methods one by one, by the names clients call them by. */
class GeneratedServiceTest {
    private final GeneratedService runtime = GeneratedService.of(RuntimeServiceGrpc.class, new RuntimeServiceGrpc.RuntimeServiceImplBase() {});

    @Test
    void bindsEachMethodByItsFullName() {
        ServerMethodDefinition<?, ?> version = runtime.bind("runtime.v1.RuntimeService/Version");
        assertThat(version.getMethodDescriptor()).isSameAs(RuntimeServiceGrpc.getVersionMethod());
        assertThat(version.getMethodDescriptor().getType()).isEqualTo(MethodDescriptor.MethodType.UNARY);
        assertThat(runtime.bind("runtime.v1.RuntimeService/ListPodSandbox").getMethodDescriptor())
                .isSameAs(RuntimeServiceGrpc.getListPodSandboxMethod());
        assertThat(runtime.bind("runtime.v1.RuntimeService/GetContainerEvents").getMethodDescriptor().getType())
                .isEqualTo(MethodDescriptor.MethodType.SERVER_STREAMING);
    }

    @Test
    void hasNothingForOtherNames() {
        assertThat(runtime.bind("runtime.v1.RuntimeService/Nope")).isNull();
        assertThat(runtime.bind("runtime.v1.RuntimeService/version")).isNull();
        assertThat(runtime.bind("runtime.v1.RuntimeService/")).isNull();
        assertThat(runtime.bind("runtime.v1.ImageService/ListImages")).isNull();
        assertThat(runtime.bind("runtime.v1.RuntimeServiceX/Version")).isNull();
    }

    @Test
    void refusesAnImplementationOfAnotherService() {
        assertThatThrownBy(() -> GeneratedService.of(ImageServiceGrpc.class, new RuntimeServiceGrpc.RuntimeServiceImplBase() {}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AsyncService");
        assertThatThrownBy(() -> GeneratedService.of(String.class, "x")).isInstanceOf(IllegalArgumentException.class);
    }
}
