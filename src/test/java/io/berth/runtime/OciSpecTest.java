package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.runtime.ContainerSpec.Namespace;
import io.berth.runtime.ContainerSpec.NamespaceMode;
import io.berth.runtime.ContainerSpec.Resources;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The config.json Berth writes, checked field by field against the runtime-spec and Docker's defaults. */
class OciSpecTest {
    @TempDir Path tmp;

    static final HostFacts V1 = new HostFacts(1, Set.copyOf(Capabilities.ALL), true, false,
            Map.of("RLIMIT_NOFILE", 20000L));
    static final HostFacts V2 = new HostFacts(2, Set.copyOf(Capabilities.ALL), false, true, Map.of());

    static ContainerSpec.Builder spec(String... args) {
        return ContainerSpec.builder(Path.of("/var/lib/berth/x/merged"), List.of(args));
    }

    static JsonNode json(OciConfig c) {
        return OciSpec.JSON.readTree(OciSpec.JSON.writeValueAsString(c));
    }

    @Test
    void dockerDefaults() {
        JsonNode j = json(OciSpec.build("abc", spec("sh").hostname("h1").build(), V1));
        assertThat(j.get("ociVersion").asString()).isEqualTo("1.0.2");
        assertThat(j.at("/root/path").asString()).isEqualTo("/var/lib/berth/x/merged");
        assertThat(j.at("/root/readonly").isMissingNode()).isTrue();
        assertThat(j.get("hostname").asString()).isEqualTo("h1");
        JsonNode p = j.get("process");
        assertThat(p.get("terminal").asBoolean()).isFalse();
        assertThat(p.at("/user/uid").asInt()).isZero();
        assertThat(p.get("cwd").asString()).isEqualTo("/");
        assertThat(p.at("/capabilities/bounding")).hasSize(14);
        assertThat(p.at("/capabilities/effective")).hasSize(14);
        assertThat(p.at("/capabilities/inheritable").isMissingNode()).isTrue();
        assertThat(p.has("rlimits")).isFalse();
        assertThat(j.get("mounts").valueStream().map(m -> m.get("destination").asString()).toList())
                .containsExactly("/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm");
        assertThat(j.at("/mounts/6/options").toString()).contains("size=67108864");
        JsonNode l = j.get("linux");
        assertThat(l.get("cgroupsPath").asString()).isEqualTo("/berth/abc");
        assertThat(l.get("namespaces").valueStream().map(n -> n.get("type").asString()).toList())
                .containsExactly("mount", "network", "uts", "pid", "ipc"); // cgroup: the host's on v1, as Docker
        assertThat(l.get("maskedPaths")).hasSize(12);
        assertThat(l.get("readonlyPaths")).hasSize(5);
        assertThat(l.at("/resources/devices/0")).isEqualTo(OciSpec.JSON.readTree("{\"access\":\"rwm\",\"allow\":false}"));
        assertThat(l.at("/resources/devices")).hasSize(8);
        assertThat(l.has("seccomp")).isFalse();
        assertThat(json(OciSpec.build("abc", spec("sh").build(), V2)).at("/linux/namespaces/5/type").asString()).isEqualTo("cgroup");
    }

    @Test
    void resourcesAsDockerSetsThem() {
        Resources r = Resources.NONE.withMemory(64L << 20).withCpuShares(512L).withCpuQuota(50000L, 100000L)
                .withPidsLimit(100L).withBlkioWeight(300).withCpuset("0-1", "0");
        JsonNode res = json(OciSpec.build("abc", spec("sh").resources(r).build(), V1)).at("/linux/resources");
        assertThat(res.at("/memory/limit").asLong()).isEqualTo(64L << 20);
        assertThat(res.at("/memory/swap").asLong()).isEqualTo(128L << 20);
        assertThat(res.at("/cpu/shares").asLong()).isEqualTo(512);
        assertThat(res.at("/cpu/quota").asLong()).isEqualTo(50000);
        assertThat(res.at("/cpu/period").asLong()).isEqualTo(100000);
        assertThat(res.at("/cpu/cpus").asString()).isEqualTo("0-1");
        assertThat(res.at("/pids/limit").asLong()).isEqualTo(100);
        assertThat(res.has("blockIO")).as("no blkio weight knob on this host").isFalse();
        JsonNode v2 = json(OciSpec.build("abc", spec("sh").resources(r.withMemorySwap(-1L)).build(), V2)).at("/linux/resources");
        assertThat(v2.at("/blockIO/weight").asInt()).isEqualTo(300);
        assertThat(v2.at("/memory/swap").isMissingNode()).as("host without swap limit").isTrue();
        JsonNode unlimitedSwap = json(OciSpec.build("abc", spec("sh").resources(r.withMemorySwap(-1L)).build(), V1)).at("/linux/resources");
        assertThat(unlimitedSwap.at("/memory/swap").asLong()).isEqualTo(-1);
        assertThatThrownBy(() -> OciSpec.build("abc", spec("sh").resources(r.withMemorySwap(1L << 20)).build(), V1))
                .hasMessageContaining("below the memory limit");
        assertThatThrownBy(() -> OciSpec.build("abc", spec("sh").resources(Resources.NONE.withBlkioWeight(5)).build(), V1))
                .hasMessageContaining("10 to 1000");
    }

    @Test
    void capabilitiesAsDocker() {
        Set<String> all = Set.copyOf(Capabilities.ALL);
        assertThat(Capabilities.resolve(List.of("net_admin"), List.of("MKNOD", "cap_kill"), false, all))
                .contains("CAP_NET_ADMIN").doesNotContain("CAP_MKNOD", "CAP_KILL").hasSize(13);
        assertThat(Capabilities.resolve(List.of("CHOWN"), List.of("ALL"), false, all)).containsExactly("CAP_CHOWN");
        assertThat(Capabilities.resolve(List.of("ALL"), List.of("SYS_ADMIN"), false, all)).hasSize(40).doesNotContain("CAP_SYS_ADMIN");
        assertThat(Capabilities.resolve(List.of(), List.of(), true, Set.of("CAP_CHOWN", "CAP_KILL"))).containsExactly("CAP_CHOWN", "CAP_KILL");
        assertThatThrownBy(() -> Capabilities.resolve(List.of("SYS_RESOURCE"), List.of(), false, Set.of("CAP_CHOWN")))
                .hasMessageContaining("CAP_SYS_RESOURCE").hasMessageContaining("does not hold");
        assertThat(Capabilities.fromMask("00000000a80425fb")).containsExactlyInAnyOrderElementsOf(Capabilities.DOCKER_DEFAULT);
        // a non-root user gets only the bounding set
        JsonNode caps = json(OciSpec.build("abc", spec("sh").user(1000, 1000).build(), V1)).at("/process/capabilities");
        assertThat(caps.get("bounding")).hasSize(14);
        assertThat(caps.has("effective")).isFalse();
        assertThat(caps.has("permitted")).isFalse();
    }

    @Test
    void privileged() {
        JsonNode j = json(OciSpec.build("abc", spec("sh").privileged(true).seccomp(Map.of("defaultAction", "SCMP_ACT_ERRNO")).build(), V1));
        assertThat(j.at("/process/capabilities/bounding")).hasSize(Capabilities.ALL.size());
        assertThat(j.at("/linux/maskedPaths")).isEmpty();
        assertThat(j.at("/linux/readonlyPaths")).isEmpty();
        assertThat(j.at("/linux/resources/devices")).isEqualTo(OciSpec.JSON.readTree("[{\"access\":\"rwm\",\"allow\":true}]"));
        assertThat(j.at("/linux/devices").valueStream().map(d -> d.get("path").asString()).toList()).contains("/dev/null");
        assertThat(j.at("/linux/seccomp").isMissingNode()).isTrue();
        assertThat(j.at("/mounts/3/options").toString()).contains("\"rw\"");
        JsonNode normal = json(OciSpec.build("abc", spec("sh").seccomp(Map.of("defaultAction", "SCMP_ACT_ERRNO")).build(), V1));
        assertThat(normal.at("/linux/seccomp/defaultAction").asString()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(normal.at("/mounts/3/options").toString()).contains("\"ro\"");
    }

    @Test
    void mountsNamespacesDevicesRlimits() throws Exception {
        ContainerSpec s = spec("sh")
                .addMount(ContainerSpec.Mount.bind(tmp, "/dev/shm/", false))
                .addMount(ContainerSpec.Mount.tmpfs("/run", List.of("size=1m")))
                .namespace(Namespace.NETWORK, NamespaceMode.join(Path.of("/run/netns/n1")))
                .namespace(Namespace.UTS, NamespaceMode.HOST)
                .namespace(Namespace.IPC, NamespaceMode.HOST)
                .hostname("ignored-with-host-uts")
                .devices(List.of(OciSpec.hostDevice(Path.of("/dev/null"), "/dev/mynull", "rw")))
                .deviceCgroupRules(List.of("c 42:* rmw"))
                .rlimits(List.of(new ContainerSpec.Rlimit("nofile", 1024, 2048), new ContainerSpec.Rlimit("RLIMIT_CORE", -1, -1)))
                .sysctls(Map.of("net.core.somaxconn", "1024"))
                .annotations(Map.of("io.berth.name", "web"))
                .build();
        JsonNode j = json(OciSpec.build("abc", s, new HostFacts(1, Set.copyOf(Capabilities.ALL), true, false, Map.of())));
        assertThat(j.has("hostname")).isFalse();
        assertThat(j.get("mounts").valueStream().map(m -> m.get("destination").asString()).toList())
                .containsExactly("/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm", "/run");
        assertThat(j.at("/mounts/6/source").asString()).isEqualTo(tmp.toString());
        assertThat(j.at("/mounts/6/options")).isEqualTo(OciSpec.JSON.readTree("[\"rbind\",\"rprivate\"]"));
        assertThat(j.at("/linux/namespaces")).isEqualTo(OciSpec.JSON.readTree("[{\"type\":\"mount\"},{\"path\":\"/run/netns/n1\",\"type\":\"network\"},{\"type\":\"pid\"}]"));
        assertThat(j.at("/linux/devices/0").toString()).contains("\"path\":\"/dev/mynull\"").contains("\"major\":1").contains("\"minor\":3")
                .contains("\"type\":\"c\"");
        assertThat(j.at("/linux/resources/devices/8")).isEqualTo(OciSpec.JSON.readTree("{\"access\":\"rw\",\"allow\":true,\"major\":1,\"minor\":3,\"type\":\"c\"}"));
        assertThat(j.at("/linux/resources/devices/9")).isEqualTo(OciSpec.JSON.readTree("{\"access\":\"rmw\",\"allow\":true,\"major\":42,\"type\":\"c\"}"));
        assertThat(j.at("/process/rlimits")).isEqualTo(OciSpec.JSON.readTree("[{\"type\":\"RLIMIT_NOFILE\",\"hard\":2048,\"soft\":1024},"
                + "{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,\"soft\":18446744073709551615}]"));
        assertThat(j.at("/linux/sysctl/net.core.somaxconn").asString()).isEqualTo("1024");
        assertThat(j.at("/annotations/io.berth.name").asString()).isEqualTo("web");
        // above the daemon's own hard limit without CAP_SYS_RESOURCE
        HostFacts noRaise = new HostFacts(1, Set.of("CAP_CHOWN"), true, false, Map.of("RLIMIT_NOFILE", 20000L));
        assertThatThrownBy(() -> OciSpec.build("abc", spec("sh").rlimits(List.of(new ContainerSpec.Rlimit("nofile", 1024, 1048576))).build(), noRaise))
                .hasMessageContaining("RLIMIT_NOFILE").hasMessageContaining("20000");
        assertThatThrownBy(() -> OciSpec.cgroupRule("x 1:2 rwm")).hasMessageContaining("invalid device cgroup rule");
        assertThatThrownBy(() -> OciSpec.build("../bad", spec("sh").build(), V1)).hasMessageContaining("invalid container id");
        assertThatThrownBy(() -> spec("sh").namespace(Namespace.MOUNT, NamespaceMode.HOST).build()).hasMessageContaining("mount namespace");
    }

    @Test
    void execProcessInheritsTheContainersProcess() {
        OciConfig c = OciSpec.build("abc", spec("sleep", "1").env(List.of("PATH=/bin", "A=1")).cwd("/srv")
                .rlimits(List.of(new ContainerSpec.Rlimit("nofile", 100, 200))).noNewPrivileges(true).build(), V1);
        OciConfig.Process p = Conmon.execProcess(c.process(), ExecSpec.of("ls").withEnv(List.of("A=2", "B=3")), V1);
        assertThat(p.args()).containsExactly("ls");
        assertThat(p.env()).containsExactly("PATH=/bin", "A=2", "B=3");
        assertThat(p.cwd()).isEqualTo("/srv");
        assertThat(p.rlimits()).hasSize(1);
        assertThat(p.noNewPrivileges()).isTrue();
        assertThat(p.capabilities().bounding()).hasSize(14);
        OciConfig.Process priv = Conmon.execProcess(c.process(), ExecSpec.of("ls").withPrivileged(true).withUser(1000, 1000), V1);
        assertThat(priv.capabilities().bounding()).hasSize(Capabilities.ALL.size());
        assertThat(priv.capabilities().effective()).isNull();
        assertThat(priv.user().uid()).isEqualTo(1000);
    }
}
