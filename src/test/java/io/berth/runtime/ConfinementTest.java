package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.runtime.ContainerSpec.Namespace;
import io.berth.runtime.ContainerSpec.NamespaceMode;
import io.berth.runtime.ContainerSpec.Resources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the container may do: cgroup limits, OOM, capabilities, masked paths, namespaces, rlimits. */
class ConfinementTest {
    private static final long MIB = 1024 * 1024;
    @TempDir Path tmp;
    RuntimeFixture rt;

    @BeforeEach
    void setUp() throws Exception {
        rt = new RuntimeFixture(tmp);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (rt != null) rt.close();
    }

    /** Runs a shell script to its end; returns its stdout+stderr from the log. */
    private String runScript(ContainerSpec.Builder spec) throws Exception {
        String id = RuntimeFixture.newId();
        rt.run(id, spec.build());
        int code = rt.awaitExit(id, Duration.ofSeconds(30)).exitCode();
        String out = String.join("", LogReader.readAll(rt.logPath(id), LogReader.LogQuery.ALL).stream().map(LogReader.LogEntry::text).toList());
        assertThat(code).as("exit code; output: " + out).isZero();
        return out;
    }

    @Test
    void cgroupLimitsAreWritten() throws Exception {
        String id = RuntimeFixture.newId();
        Resources r = Resources.NONE.withMemory(64 * MIB).withCpuShares(512L).withPidsLimit(20L).withCpuQuota(50000L, 100000L)
                .withCpuset("0", null).withMemoryReservation(32 * MIB);
        rt.run(id, rt.spec("sleep", "1000").resources(r).build());
        ContainerCgroup cg = new ContainerCgroup("/berth/" + id);
        if (rt.host.cgroupVersion() == 1) {
            assertThat(Path.of("/sys/fs/cgroup/memory/berth/" + id + "/memory.limit_in_bytes")).hasContent(String.valueOf(64 * MIB));
            assertThat(Path.of("/sys/fs/cgroup/cpu/berth/" + id + "/cpu.shares")).hasContent("512");
            assertThat(cg.read("cpu", "cpu.cfs_quota_us")).contains("50000");
            assertThat(cg.read("cpu", "cpu.cfs_period_us")).contains("100000");
            assertThat(cg.read("pids", "pids.max")).contains("20");
            assertThat(cg.read("cpuset", "cpuset.cpus")).contains("0");
            assertThat(cg.read("memory", "memory.soft_limit_in_bytes")).contains(String.valueOf(32 * MIB));
            if (rt.host.swapLimit()) {
                assertThat(cg.read("memory", "memory.memsw.limit_in_bytes")).contains(String.valueOf(128 * MIB)); // Docker: twice the memory
            }
        } else {
            assertThat(cg.read("memory", "memory.max")).contains(String.valueOf(64 * MIB));
            assertThat(cg.read("pids", "pids.max")).contains("20");
        }
        ProcessHandle p = ProcessHandle.of(rt.conmon.state(id).orElseThrow().pid()).orElseThrow();
        assertThat(Files.readString(Path.of("/proc/" + p.pid() + "/cgroup"))).contains("/berth/" + id);
    }

    @Test
    void pidsLimitStopsForks() throws Exception {
        String out = runScript(rt.spec("sh", "-c",
                "(for i in 1 2 3 4 5 6 7 8; do sleep 2 & done) 2>&1; echo end")
                .resources(Resources.NONE.withPidsLimit(4L)));
        assertThat(out).contains("can't fork").endsWith("end\n");
    }

    @Test
    void outOfMemoryIsKilledAndReported() throws Exception {
        String id = RuntimeFixture.newId();
        ContainerHandle h = rt.run(id, rt.spec("sh", "-c", "x=a; while true; do x=$x$x; done")
                .resources(Resources.NONE.withMemory(16 * MIB)).build());
        ContainerExit exit = rt.awaitExit(id, Duration.ofSeconds(60));
        assertThat(exit.exitCode()).isEqualTo(137);
        assertThat(rt.conmon.oomKilled(h, "/berth/" + id)).isTrue();
        assertThat(Files.exists(h.bundle().resolve("oom"))).as("conmon's oom file").isTrue();
        if (rt.host.cgroupVersion() == 1) assertThat(new ContainerCgroup("/berth/" + id).oomKillCount()).isPositive();

        String killed = RuntimeFixture.newId();
        ContainerHandle h2 = rt.run(killed, rt.spec("sleep", "100").resources(Resources.NONE.withMemory(16 * MIB)).build());
        rt.conmon.kill(killed, "KILL");
        assertThat(rt.awaitExit(killed, Duration.ofSeconds(20)).exitCode()).isEqualTo(137);
        assertThat(rt.conmon.oomKilled(h2, "/berth/" + killed)).isFalse();
    }

    @Test
    void dockerDefaultCapabilitiesMaskedAndReadonlyPaths() throws Exception {
        String out = runScript(rt.spec("sh", "-c", String.join("; ",
                "grep CapEff /proc/self/status",
                "grep CapBnd /proc/self/status",
                "cat /proc/interrupts | wc -c",
                "(echo 1 > /proc/sys/vm/overcommit_memory) 2>/dev/null && echo sys-writable || echo sys-readonly",
                "mount | grep -q ' on /sys type sysfs (ro' && echo sysfs-readonly || echo sysfs-writable",
                "ls /dev",
                "mount | grep ' /dev/shm ' | grep -o 'size=[0-9a-z]*'",
                "hostname", "true"))
                .hostname("box1").shmSize(8 * MIB));
        assertThat(out).contains("CapEff:\t00000000a80425fb").contains("CapBnd:\t00000000a80425fb");
        assertThat(out).contains("\n0\n").contains("sys-readonly").contains("sysfs-readonly").contains("size=8192k").contains("box1\n");
        assertThat(out).contains("null").contains("zero").contains("urandom").contains("pts").contains("shm");
    }

    @Test
    void capAddDropAndNonRootUser() throws Exception {
        String out = runScript(rt.spec("sh", "-c", "grep -E 'CapEff|CapBnd' /proc/self/status")
                .capDrop(List.of("ALL")).capAdd(List.of("net_admin", "CAP_CHOWN")));
        assertThat(out).contains("CapEff:\t0000000000001001").contains("CapBnd:\t0000000000001001");
        String user = runScript(rt.spec("sh", "-c", "id -u; id -g; id -G; grep -E 'CapEff|CapBnd' /proc/self/status")
                .user(65534, 65534).additionalGids(List.of(10, 20)));
        assertThat(user).startsWith("65534\n65534\n65534 10 20\n").contains("CapEff:\t0000000000000000").contains("CapBnd:\t00000000a80425fb");
        assertThatThrownBy(() -> OciSpec.build("x", rt.spec("true").capAdd(List.of("CAP_FLY")).build(), rt.host))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown capability: \"CAP_FLY\"");
    }

    @Test
    void dockerSeccompProfileApplies() throws Exception {
        java.util.Set<String> caps = java.util.Set.copyOf(Capabilities.resolve(List.of(), List.of(), false, rt.host.capabilities()));
        String out = runScript(rt.spec("sh", "-c", "grep Seccomp: /proc/self/status; unshare -U true 2>/dev/null && echo unshared || echo refused")
                .seccomp(SeccompProfile.dockerDefault(caps, SeccompProfile.hostGoArch())));
        assertThat(out).isEqualTo("Seccomp:\t2\nrefused\n");
    }

    @Test
    void privilegedGetsEverythingTheDaemonHolds() throws Exception {
        String out = runScript(rt.spec("sh", "-c", "grep CapEff /proc/self/status; cat /proc/interrupts | head -c 1 | wc -c; "
                + "mount | grep -q ' on /sys type sysfs (rw' && echo sysfs-writable; ls /dev/" + someHostDevice())
                .privileged(true));
        String hostBnd = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("CapBnd:")).findFirst().orElseThrow();
        assertThat(out).contains("CapEff:" + hostBnd.substring(7));
        assertThat(out).contains("\n1\n"); // /proc/interrupts is not masked
        assertThat(out).contains("sysfs-writable").endsWith(someHostDevice() + "\n");
    }

    /** A host device a non-privileged container does not get. */
    private static String someHostDevice() throws Exception {
        for (String d : List.of("loop0", "vda", "kmsg", "mem")) if (Files.exists(Path.of("/dev", d))) return d;
        return "null";
    }

    @Test
    void rlimitsSysctlsReadonlyRootAndEnv() throws Exception {
        String out = runScript(rt.spec("sh", "-c", "ulimit -n; ulimit -Hn; cat /proc/sys/net/ipv4/ip_forward; touch /x 2>/dev/null || echo ro; echo $GREETING; pwd")
                .rlimits(List.of(new ContainerSpec.Rlimit("nofile", 1024, 2048)))
                .sysctls(Map.of("net.ipv4.ip_forward", "1"))
                .readonlyRootfs(true)
                .addEnv("GREETING=hi there")
                .cwd("/tmp"));
        assertThat(out).isEqualTo("1024\n2048\n1\nro\nhi there\n/tmp\n");
        long daemonHard = rt.host.hardLimits().getOrDefault("RLIMIT_NOFILE", -1L);
        if (daemonHard > 0 && !rt.host.canRaiseLimits()) {
            assertThatThrownBy(() -> OciSpec.build("x", rt.spec("true")
                    .rlimits(List.of(new ContainerSpec.Rlimit("nofile", 1024, daemonHard + 1))).build(), rt.host))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CAP_SYS_RESOURCE");
        }
    }

    @Test
    void joinsAnotherContainersNamespacesAndTheHosts() throws Exception {
        String a = RuntimeFixture.newId();
        ContainerHandle ha = rt.run(a, rt.spec("sleep", "1000").hostname("first").build());
        String netA = Files.readSymbolicLink(Path.of("/proc/" + ha.pid() + "/ns/net")).toString();
        String out = runScript(rt.spec("sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/uts; hostname; readlink /proc/self/ns/pid")
                .namespace(Namespace.NETWORK, NamespaceMode.ofProcess(ha.pid(), Namespace.NETWORK))
                .namespace(Namespace.UTS, NamespaceMode.ofProcess(ha.pid(), Namespace.UTS))
                .namespace(Namespace.PID, NamespaceMode.HOST));
        String hostPid = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        assertThat(out).isEqualTo(netA + "\n" + Files.readSymbolicLink(Path.of("/proc/" + ha.pid() + "/ns/uts")) + "\nfirst\n" + hostPid + "\n");
    }
}
