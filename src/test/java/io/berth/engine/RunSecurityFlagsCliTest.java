package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docker run flags that confine or open up a container, through the real docker CLI against
 * a real berthd, read back from inside the container (/proc/self/status, /proc/self/limits, /dev)
 * and compared with what dockerd 20.10 shows and says on the same host.
 */
class RunSecurityFlagsCliTest {
    static final String IMAGE = "bb:sec";
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        daemon = BerthdProcess.start();
        docker = daemon.docker();
        ok("load", "-i", TestImages.busybox().tag(IMAGE).writeTo(tmp.resolve("bb.tar")).archive().toString());
    }

    @AfterEach
    void removeAll() throws Exception {
        io.berth.testing.CliDaemon.removeContainers(docker);
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
    }

    static DockerCli.Result ok(String... args) throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, daemon.log()).isZero();
        return r;
    }

    /** {@code docker run --rm --network none FLAGS... IMAGE sh -c SCRIPT}, which must succeed; its stdout. */
    static String sh(String script, String... flags) throws Exception {
        String[] args = new String[flags.length + 8];
        int i = 0;
        args[i++] = "run";
        args[i++] = "--rm";
        args[i++] = "--network";
        args[i++] = "none";
        for (String f : flags) args[i++] = f;
        args[i++] = IMAGE;
        args[i++] = "sh";
        args[i++] = "-c";
        args[i] = script;
        return ok(args).stdout();
    }

    static String status(String field, String... flags) throws Exception {
        String out = sh("grep '^" + field + ":' /proc/self/status", flags);
        return out.substring(out.indexOf(':') + 1).trim();
    }

    static String hostStatus(String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) return line.substring(field.length() + 1).trim();
        }
        throw new AssertionError(field + " not in /proc/self/status");
    }

    static void assertNoContainers() throws Exception {
        assertThat(ok("ps", "-aq").stdout().trim()).as("containers left").isEmpty();
    }

    // ------------------------------------------------------------------ --init, --stop-signal

    @Test
    void initIsPid1AndForwardsTheStopSignal() throws Exception {
        ok("run", "-d", "--name", "ini", "--network", "none", "--init", IMAGE, "sleep", "300");
        // the init forks the command just after the start is answered: look until it has
        String ps = ok("exec", "ini", "ps", "-o", "pid,ppid,comm").stdout();
        for (long end = System.nanoTime() + Duration.ofSeconds(5).toNanos(); !ps.contains("sleep") && System.nanoTime() < end; ) {
            Thread.sleep(50);
            ps = ok("exec", "ini", "ps", "-o", "pid,ppid,comm").stdout();
        }
        assertThat(ps).containsPattern("(?m)^\\s*1\\s+0\\s+docker-init\\s*$").containsPattern("(?m)^\\s*\\d+\\s+1\\s+sleep\\s*$");
        long t0 = System.nanoTime();
        ok("stop", "ini");
        // the init passes SIGTERM on to sleep: no 10 s wait for the SIGKILL
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(ok("inspect", "-f", "{{.State.ExitCode}} {{.HostConfig.Init}}", "ini").stdout().trim()).isEqualTo("143 true");
    }

    @Test
    void stopSignalIsSentByDockerStop() throws Exception {
        ok("run", "-d", "--name", "sig", "--network", "none", "--stop-signal", "SIGUSR1", IMAGE, "sh", "-c",
                "trap 'echo got-usr1; exit 7' USR1; while true; do sleep 0.1; done");
        assertThat(ok("inspect", "-f", "{{.Config.StopSignal}}", "sig").stdout().trim()).isEqualTo("SIGUSR1");
        long t0 = System.nanoTime();
        ok("stop", "sig");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(ok("inspect", "-f", "{{.State.ExitCode}}", "sig").stdout().trim()).isEqualTo("7");
        assertThat(ok("logs", "sig").stdout()).contains("got-usr1");
        ok("rm", "sig");

        DockerCli.Result bad = docker.run("run", "--rm", "--network", "none", "--stop-signal", "SIGNOPE", IMAGE, "true");
        assertThat(bad.exitCode()).isEqualTo(125);
        assertThat(bad.stderr()).contains("Invalid signal: SIGNOPE");
        assertNoContainers();
    }

    // ------------------------------------------------------------------ --device

    @Test
    void devicesAppearWithTheirNumbersAndTheCgroupAllowsThem() throws Exception {
        String out = sh("ls -l /dev/mynull /dev/fuse /dev/l; cat /sys/fs/cgroup/devices/devices.list 2>/dev/null;"
                        + " echo x > /dev/mynull && echo wrote-null; echo x > /dev/l || echo write-refused; echo; dd if=/dev/l of=/dev/null bs=512 count=1 && echo read-ok",
                "--device", "/dev/null:/dev/mynull", "--device", "/dev/fuse", "--device", "/dev/loop0:/dev/l:r");
        assertThat(out).containsPattern("(?m)^crw-rw-rw-.*\\s1,\\s+3 .*/dev/mynull$")
                .containsPattern("(?m)^c.*\\s10,\\s+229 .*/dev/fuse$")
                .containsPattern("(?m)^b.*\\s7,\\s+0 .*/dev/l$")
                .contains("wrote-null", "write-refused", "read-ok");
        if (Files.isDirectory(Path.of("/sys/fs/cgroup/devices"))) assertThat(out).containsPattern("(?m)^b 7:0 r$");

        DockerCli.Result missing = docker.run("run", "--rm", "--network", "none", "--device", "/dev/nonexistent", IMAGE, "true");
        assertThat(missing.exitCode()).as(missing.toString()).isNotZero();
        assertThat(missing.stderr()).contains("error gathering device information while adding custom device \"/dev/nonexistent\"");
        DockerCli.Result notDevice = docker.run("run", "--rm", "--network", "none", "--device", "/etc/hostname", IMAGE, "true");
        assertThat(notDevice.exitCode()).as(notDevice.toString()).isNotZero();
        assertThat(notDevice.stderr()).contains("not a device node");
        assertNoContainers();
    }

    @Test
    void privilegedGetsEveryCapabilityTheDaemonHoldsAndTheHostDevices() throws Exception {
        String out = sh("grep -E '^(CapEff|Seccomp):' /proc/self/status; ls /dev/loop0; grep ' /sys ' /proc/mounts", "--privileged");
        assertThat(out).contains("CapEff:\t" + hostStatus("CapBnd")).contains("Seccomp:\t0").contains("/dev/loop0")
                .containsPattern("sysfs /sys sysfs rw");
        assertThat(sh("ls /dev")).doesNotContain("loop0");
    }

    // ------------------------------------------------------------------ --sysctl

    @Test
    void sysctlsAreSetInTheContainersNamespaces() throws Exception {
        assertThat(sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced",
                "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shm_rmid_forced=1")).isEqualTo("1\n1\n");
        // dockerd's defaults in a private network namespace: ping and low ports without capabilities
        assertThat(sh("cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range"))
                .matches("0\n0\\s+2147483647\n");

        // the host's namespaces are refused, as by dockerd (the runtime says why)
        DockerCli.Result hostNet = docker.run("run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", IMAGE, "true");
        assertThat(hostNet.exitCode()).isEqualTo(125);
        assertThat(hostNet.stderr()).contains("sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace");
        DockerCli.Result hostIpc = docker.run("run", "--rm", "--network", "none", "--ipc", "host", "--sysctl", "kernel.shm_rmid_forced=1",
                IMAGE, "true");
        assertThat(hostIpc.exitCode()).isEqualTo(125);
        assertThat(hostIpc.stderr()).contains("\"kernel.shm_rmid_forced\" is not allowed in the hosts ipc namespace");
        assertThat(hostIpc.stderr()).doesNotContain("Error waiting for container");
        assertNoContainers();

        // a sysctl no namespace holds: the CLI refuses it; through the API it fails at start as with dockerd
        String create = daemon.raw(post("/containers/create?name=swappy",
                "{\"Image\":\"" + IMAGE + "\",\"Cmd\":[\"true\"],\"HostConfig\":{\"NetworkMode\":\"none\",\"Sysctls\":{\"vm.swappiness\":\"10\"}}}"));
        assertThat(create).startsWith("HTTP/1.1 201");
        DockerCli.Result start = docker.run("start", "swappy");
        assertThat(start.exitCode()).isNotZero();
        assertThat(start.stderr()).contains("sysctl \"vm.swappiness\" is not in a separate kernel namespace");
        assertThat(ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "swappy").stdout().trim()).isEqualTo("created 128");
    }

    static String post(String path, String json) {
        return "POST /v1.41" + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                + json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n\r\n" + json;
    }

    // ------------------------------------------------------------------ --ulimit

    @Test
    void ulimitsAreSetAndOnesAboveTheDaemonsHardLimitAreRefusedClearly() throws Exception {
        String out = sh("ulimit -n; ulimit -Hn; grep -E '^Max (processes|open files)' /proc/self/limits",
                "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=500:600");
        assertThat(out).startsWith("1024\n2048\n").containsPattern("Max processes\\s+500\\s+600\\s")
                .containsPattern("Max open files\\s+1024\\s+2048\\s");

        long daemonHard = hardLimit("Max open files");
        if (daemonHard < 0 || canRaiseLimits()) return; // this host lets root raise any limit
        DockerCli.Result r = docker.run("run", "--rm", "--network", "none", "--ulimit", "nofile=" + (daemonHard + 1) + ":" + (daemonHard + 1),
                IMAGE, "true");
        assertThat(r.exitCode()).isEqualTo(125);
        assertThat(r.stderr()).contains("ulimit RLIMIT_NOFILE: hard limit " + (daemonHard + 1) + " is above this daemon's own hard limit "
                + daemonHard).contains("CAP_SYS_RESOURCE");
        assertNoContainers();
    }

    static long hardLimit(String name) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith(name)) {
                String hard = line.substring(26).trim().split("\\s+")[1];
                return hard.equals("unlimited") ? -1 : Long.parseLong(hard);
            }
        }
        return -1;
    }

    static boolean canRaiseLimits() throws Exception {
        return (Long.parseUnsignedLong(hostStatus("CapEff"), 16) & (1L << 24)) != 0; // CAP_SYS_RESOURCE
    }

    // ------------------------------------------------------------------ --security-opt, --cap-add, --cap-drop

    @Test
    void noNewPrivilegesAndSeccompShowInProcStatus() throws Exception {
        assertThat(status("NoNewPrivs")).isEqualTo("0");
        assertThat(status("Seccomp")).isEqualTo("2");
        assertThat(status("NoNewPrivs", "--security-opt", "no-new-privileges")).isEqualTo("1");
        assertThat(status("NoNewPrivs", "--security-opt", "no-new-privileges:true")).isEqualTo("1");
        assertThat(status("Seccomp", "--security-opt", "seccomp=unconfined")).isEqualTo("0");
        DockerCli.Result bad = docker.run("run", "--rm", "--network", "none", "--security-opt", "bogus=1", IMAGE, "true");
        assertThat(bad.exitCode()).isEqualTo(125);
        assertThat(bad.stderr()).contains("invalid --security-opt 2: \"bogus=1\"");
        assertNoContainers();
    }

    @Test
    void capAddAndCapDropChangeTheEffectiveSet() throws Exception {
        assertThat(status("CapEff")).isEqualTo("00000000a80425fb"); // Docker's default 14
        assertThat(status("CapEff", "--cap-drop", "ALL")).isEqualTo("0000000000000000");
        assertThat(status("CapBnd", "--cap-drop", "ALL")).isEqualTo("0000000000000000");
        // NET_ADMIN is 12, SYS_TIME 25
        assertThat(status("CapEff", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", "--cap-add", "cap_sys_time")).isEqualTo("0000000002001000");
        // less CHOWN (0), plus SYS_ADMIN (21)
        assertThat(status("CapEff", "--cap-drop", "chown", "--cap-add", "sys_admin")).isEqualTo("00000000a82425fa");
        assertThat(sh("chown 1:1 /tmp && echo chowned || echo refused", "--cap-drop", "CHOWN")).contains("refused");

        // an unknown name is refused at create (dockerd's words), and --rm leaves nothing behind
        DockerCli.Result bad = docker.run(Duration.ofSeconds(30), "run", "--rm", "--network", "none", "--cap-add", "BOGUS", IMAGE, "true");
        assertThat(bad.exitCode()).isEqualTo(125);
        assertThat(bad.stderr()).contains("invalid CapAdd: unknown capability: \"CAP_BOGUS\"");
        bad = docker.run(Duration.ofSeconds(30), "create", "--cap-drop", "nope", IMAGE, "true");
        assertThat(bad.stderr()).contains("invalid CapDrop: unknown capability: \"CAP_NOPE\"");
        assertNoContainers();
    }

    @Test
    void aRmContainerThatFailsToStartIsRemovedAndTheCliReturns() throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(30), "run", "--rm", "--network", "none", IMAGE, "/no/such/binary");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(127);
        assertThat(r.stderr()).doesNotContain("Error waiting for container");
        assertNoContainers();
    }

    /** A command that is missing or cannot be run: 127 and 126, from run and from exec alike, as with dockerd. */
    @Test
    void aMissingOrNonExecutableCommandGivesDockersExitCodes() throws Exception {
        DockerCli.Result notExecutable = docker.run(Duration.ofSeconds(30), "run", "--rm", "--network", "none", IMAGE, "/etc/passwd");
        assertThat(notExecutable.exitCode()).as(notExecutable.toString()).isEqualTo(126);
        assertThat(notExecutable.stderr()).contains("permission denied");
        String id = docker.run(Duration.ofSeconds(30), "run", "-d", "--network", "none", IMAGE, "sleep", "60").stdout().trim();
        try {
            DockerCli.Result missing = docker.run(Duration.ofSeconds(30), "exec", id, "/no/such/binary");
            assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(127);
            assertThat(missing.stderr()).contains("no such file or directory");
            DockerCli.Result denied = docker.run(Duration.ofSeconds(30), "exec", id, "/etc/passwd");
            assertThat(denied.exitCode()).as(denied.toString()).isEqualTo(126);
            assertThat(docker.run(Duration.ofSeconds(30), "exec", id, "true").exitCode()).as("the container still runs execs").isZero();
        } finally {
            docker.run(Duration.ofSeconds(30), "rm", "-f", id);
        }
        assertNoContainers();
    }

    // ------------------------------------------------------------------ --read-only, --group-add

    @Test
    void readOnlyRootWithAWritableTmpfs() throws Exception {
        String out = sh("touch /x 2>&1; echo t > /tmp/t && cat /tmp/t; echo s > /dev/shm/s && cat /dev/shm/s; cat /proc/self/comm;"
                + " grep ' / ' /proc/mounts", "--read-only", "--tmpfs", "/tmp");
        assertThat(out).contains("touch: /x: Read-only file system").contains("t\ns\ncat\n").containsPattern("(?m)^overlay / overlay ro,");
        assertThat(sh("touch /x && echo writable")).contains("writable");
    }

    @Test
    void groupAddAddsSupplementaryGroups() throws Exception {
        // as dockerd 20.10: the primary group is always one of the supplementary groups
        assertThat(status("Groups")).isEqualTo("0");
        assertThat(status("Groups", "--group-add", "1234", "--group-add", "nogroup")).isEqualTo("0 1234 65534");
        assertThat(status("Groups", "-u", "nobody", "--group-add", "1234")).isEqualTo("1234 65534");
        assertThat(sh("id", "-u", "nobody", "--group-add", "1234")).contains("groups=1234,65534(nogroup)");
        DockerCli.Result bad = docker.run("run", "--rm", "--network", "none", "--group-add", "nosuchgroup", IMAGE, "true");
        assertThat(bad.exitCode()).isEqualTo(125);
        assertThat(bad.stderr()).contains("Unable to find group nosuchgroup: no matching entries in group file")
                .doesNotContain("Error waiting for container");
        assertNoContainers();
    }

    // ------------------------------------------------------------------ --pid, --ipc, --uts, --shm-size, --hostname

    @Test
    void pidIpcAndUtsNamespacesCanBeTheHostsOrAnotherContainers() throws Exception {
        String hostPid = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        String hostIpc = Files.readSymbolicLink(Path.of("/proc/self/ns/ipc")).toString();
        String hostUts = Files.readSymbolicLink(Path.of("/proc/self/ns/uts")).toString();
        String hostname = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        String ns = "for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname";

        String own = sh(ns);
        assertThat(own).doesNotContain(hostPid).doesNotContain(hostIpc).doesNotContain(hostUts);
        assertThat(sh(ns, "--pid", "host", "--ipc", "host", "--uts", "host")).isEqualTo(hostPid + "\n" + hostIpc + "\n" + hostUts + "\n" + hostname + "\n");
        assertThat(sh("cat /proc/1/comm", "--pid", "host")).isNotEqualTo("sh\n");

        ok("run", "-d", "--name", "peer", "--network", "none", "--ipc", "shareable", IMAGE, "sleep", "300");
        String peerNs = ok("exec", "peer", "sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc").stdout();
        String joined = sh("readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; ps -o comm", "--pid", "container:peer", "--ipc", "container:peer");
        assertThat(joined).startsWith(peerNs).contains("sleep");
        // (dockerd also shares the peer's /dev/shm; Berth joins the IPC namespace only)

        DockerCli.Result stopped = docker.run("run", "--rm", "--network", "none", "--pid", "container:nosuch", IMAGE, "true");
        assertThat(stopped.exitCode()).isNotZero();
        assertThat(stopped.stderr()).containsIgnoringCase("no such container");
    }

    @Test
    void shmSizeHostnameAndDomainname() throws Exception {
        assertThat(sh("df -k /dev/shm | tail -1", "--shm-size", "8m")).containsPattern("^shm\\s+8192\\s");
        assertThat(sh("df -k /dev/shm | tail -1")).containsPattern("^shm\\s+65536\\s");
        assertThat(sh("hostname; cat /proc/sys/kernel/domainname; cat /etc/hostname", "--hostname", "h1", "--domainname", "example.org"))
                .isEqualTo("h1\nexample.org\nh1\n");
        assertThat(ok("run", "--name", "dn", "--network", "none", "--domainname", "example.org", IMAGE, "true").exitCode()).isZero();
        assertThat(ok("inspect", "-f", "{{.Config.Domainname}}", "dn").stdout().trim()).isEqualTo("example.org");
    }
}
