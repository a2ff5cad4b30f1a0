package io.berth.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.container.ContainerRecord;
import io.berth.container.ContainerState;
import io.berth.container.DockerHostConfig;
import io.berth.container.HostConfig;
import io.berth.container.Users;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;
import io.berth.image.ImageConfig;
import io.berth.runtime.ContainerSpec;
import io.berth.runtime.ContainerSpec.Namespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Each spec step alone, from a create's HostConfig and Config as the API receives them; no root, no runtime. */
class SpecStepsTest {
    static final JsonMapper JSON = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    static final String ID = "c".repeat(64);

    final List<String> joined = new ArrayList<>();
    Path initBinary;
    String netns = "/run/netns/x";
    List<String> linkEnv = List.of();

    ContainerRecord record(String hostConfigJson, String configJson) {
        HostConfig h = JSON.readValue(hostConfigJson, HostConfig.class).withDefaults("runc");
        ImageConfig.ContainerConfig c = JSON.readValue(configJson, ImageConfig.ContainerConfig.class);
        return new ContainerRecord(ID, "/t", Instant.EPOCH, "sh", List.of("-c", "true"), c, DockerHostConfig.toSettings(h),
                "sha256:" + "a".repeat(64), "bb", "k", ContainerState.created(), 0, false, "linux");
    }

    SpecInput input(ContainerRecord r) {
        return new SpecInput(r, Path.of("/rootfs"), new Users.Resolved(1000, 100, List.of(10), "/home/u"), initBinary,
                new SpecInput.EtcFiles(Path.of("/c/resolv.conf"), Path.of("/c/hostname"), Path.of("/c/hosts")),
                List.of(ContainerSpec.Mount.tmpfs("/run", List.of("size=1m"))), netns, linkEnv,
                Set.of("CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"),
                (ref, ns) -> {
                    joined.add(ref + "/" + ns);
                    return ContainerSpec.NamespaceMode.ofProcess(42, ns);
                });
    }

    ContainerSpec apply(SpecStep step, String hostConfigJson) throws IOException {
        return apply(step, hostConfigJson, "{}");
    }

    ContainerSpec apply(SpecStep step, String hostConfigJson, String configJson) throws IOException {
        SpecInput in = input(record(hostConfigJson, configJson));
        ContainerSpec.Builder b = ContainerSpec.builder(in.rootfs(), SpecSteps.argv(in));
        step.apply(in, b);
        return b.build();
    }

    @Test
    void namespacesAreTheHostsAPeersOrTheNetworkBoxs() throws IOException {
        ContainerSpec s = apply(SpecSteps::namespaces, "{\"PidMode\":\"host\",\"IpcMode\":\"container:db\",\"UTSMode\":\"host\"}");
        assertThat(s.namespaces()).containsEntry(Namespace.PID, ContainerSpec.NamespaceMode.HOST)
                .containsEntry(Namespace.UTS, ContainerSpec.NamespaceMode.HOST)
                .containsEntry(Namespace.IPC, ContainerSpec.NamespaceMode.ofProcess(42, Namespace.IPC))
                .containsEntry(Namespace.NETWORK, ContainerSpec.NamespaceMode.join(Path.of("/run/netns/x")));
        assertThat(joined).containsExactly("db/IPC");

        assertThat(apply(SpecSteps::namespaces, "{\"NetworkMode\":\"host\"}").namespaces())
                .containsEntry(Namespace.NETWORK, ContainerSpec.NamespaceMode.HOST).doesNotContainKey(Namespace.PID);
        netns = null;
        assertThat(apply(SpecSteps::namespaces, "{\"NetworkMode\":\"container:web\"}").namespaces())
                .containsEntry(Namespace.NETWORK, ContainerSpec.NamespaceMode.ofProcess(42, Namespace.NETWORK));
        assertThat(apply(SpecSteps::namespaces, "{\"IpcMode\":\"shareable\"}").namespaces()).doesNotContainKey(Namespace.IPC);
    }

    @Test
    void resourcesTurnCpusIntoAQuotaAndDropZeros() throws IOException {
        ContainerSpec s = apply(SpecSteps::resources,
                "{\"NanoCpus\":500000000,\"Memory\":67108864,\"PidsLimit\":0,\"MemorySwappiness\":-1,\"CgroupParent\":\"/p\",\"BlkioWeight\":300}");
        assertThat(s.resources().cpuQuota()).isEqualTo(50_000L);
        assertThat(s.resources().cpuPeriod()).isEqualTo(100_000L);
        assertThat(s.resources().memory()).isEqualTo(64L << 20);
        assertThat(s.resources().pidsLimit()).isNull();
        assertThat(s.resources().memorySwappiness()).isNull();
        assertThat(s.resources().blkioWeight()).isEqualTo(300);
        assertThat(s.cgroupParent()).isEqualTo("/p");
        assertThat(apply(SpecSteps::resources, "{}").resources().cpuQuota()).isNull();
    }

    @Test
    void securityPicksTheSeccompFilterFromTheParsedOptions() throws IOException {
        ContainerSpec plain = apply(SpecSteps::security, "{\"CapAdd\":[\"NET_ADMIN\"],\"ReadonlyRootfs\":true,\"SecurityOpt\":[\"no-new-privileges\"]}");
        assertThat(plain.seccomp()).isNotNull();
        assertThat(plain.noNewPrivileges()).isTrue();
        assertThat(plain.readonlyRootfs()).isTrue();
        assertThat(plain.capAdd()).containsExactly("NET_ADMIN");
        assertThat(apply(SpecSteps::security, "{\"Privileged\":true}").seccomp()).isNull();
        assertThat(apply(SpecSteps::security, "{\"Privileged\":true,\"SecurityOpt\":[\"seccomp=builtin\"]}").seccomp()).isNotNull();
        assertThat(apply(SpecSteps::security, "{\"SecurityOpt\":[\"seccomp:unconfined\"]}").seccomp()).isNull();
        ContainerSpec custom = apply(SpecSteps::security,
                "{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ERRNO\\\",\\\"syscalls\\\":[{\\\"names\\\":[\\\"read\\\"],\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\"}]}\"]}");
        assertThat(custom.seccomp()).containsEntry("defaultAction", "SCMP_ACT_ERRNO");
        assertThat(apply(SpecSteps::security, "{\"MaskedPaths\":[]}").maskedPaths()).isEmpty();
    }

    @Test
    void processGetsEnvHomeLinksUserAndRlimits() throws IOException {
        linkEnv = List.of("DB_PORT=tcp://1.2.3.4:5", "A=fromlink");
        ContainerSpec s = apply(SpecSteps::process, "{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":100,\"Hard\":200}],\"OomScoreAdj\":5,"
                + "\"ConsoleSize\":[30,100]}", "{\"Env\":[\"A=1\"],\"Hostname\":\"h\",\"WorkingDir\":\"/w\"}");
        assertThat(s.env()).contains("A=1", "HOME=/home/u", "DB_PORT=tcp://1.2.3.4:5").doesNotContain("A=fromlink");
        assertThat(s.cwd()).isEqualTo("/w");
        assertThat(s.uid()).isEqualTo(1000);
        assertThat(s.additionalGids()).containsExactly(10);
        assertThat(s.rlimits()).containsExactly(new ContainerSpec.Rlimit("nofile", 100, 200));
        assertThat(s.oomScoreAdj()).isEqualTo(5);
        assertThat(s.consoleHeight()).isEqualTo(30);
        assertThat(s.args()).containsExactly("sh", "-c", "true");
        initBinary = Path.of("/usr/bin/catatonit");
        assertThat(apply(SpecSteps::process, "{\"Init\":true}").args()).containsExactly("/sbin/docker-init", "--", "sh", "-c", "true");
    }

    @Test
    void mountsPutTheEtcFilesAndTheInitBeforeTheWiredOnes() throws IOException {
        initBinary = Path.of("/usr/bin/catatonit");
        ContainerSpec s = apply(SpecSteps::mounts, "{\"ShmSize\":33554432}");
        assertThat(s.mounts()).extracting(ContainerSpec.Mount::destination)
                .containsExactly("/etc/resolv.conf", "/etc/hostname", "/etc/hosts", "/sbin/docker-init", "/run");
        assertThat(s.shmSize()).isEqualTo(32L << 20);
    }

    @Test
    void hostIdentityIsHostnameDomainAndSysctls() throws IOException {
        ContainerSpec s = apply(SpecSteps::hostIdentity, "{\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}",
                "{\"Hostname\":\"web\",\"Domainname\":\"example\"}");
        assertThat(s.hostname()).isEqualTo("web");
        assertThat(s.domainname()).isEqualTo("example");
        assertThat(s.sysctls()).containsEntry("net.ipv4.ip_forward", "1");
    }

    @Test
    void devicesMustBeDeviceNodes(@TempDir Path tmp) throws IOException {
        ContainerSpec s = apply(SpecSteps::devices, "{\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/mynull\","
                + "\"CgroupPermissions\":\"rwm\"}],\"DeviceCgroupRules\":[\"c 1:3 r\"]}");
        assertThat(s.devices()).hasSize(1);
        assertThat(s.deviceCgroupRules()).containsExactly("c 1:3 r");
        Path file = Files.writeString(tmp.resolve("f"), "x");
        assertThatThrownBy(() -> apply(SpecSteps::devices, "{\"Devices\":[{\"PathOnHost\":\"" + file + "\"}]}"))
                .isInstanceOf(KindedException.class).hasMessageContaining("not a device node")
                .satisfies(e -> assertThat(((KindedException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        assertThatThrownBy(() -> apply(SpecSteps::devices, "{\"Devices\":[{\"PathOnHost\":\"" + tmp.resolve("none") + "\"}]}"))
                .isInstanceOf(IOException.class).hasMessageContaining("no such file or directory");
    }

    @Test
    void buildRunsEveryStep() throws IOException {
        ContainerSpec s = SpecSteps.build(input(record("{\"Memory\":67108864,\"PidMode\":\"host\"}", "{\"Hostname\":\"h\"}")));
        assertThat(s.resources().memory()).isEqualTo(64L << 20);
        assertThat(s.namespaces()).containsKey(Namespace.PID);
        assertThat(s.hostname()).isEqualTo("h");
        assertThat(s.mounts()).hasSize(4);
    }
}
