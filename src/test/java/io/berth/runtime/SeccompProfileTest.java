package io.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.runtime.SeccompProfile.KernelVersion;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

class SeccompProfileTest {
    /** The 14 capabilities Docker gives a container by default. */
    static final Set<String> DOCKER_CAPS = Set.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");
    static final KernelVersion NEW_KERNEL = new KernelVersion(6, 1, 0);
    static final JsonMapper JSON = JsonMapper.builder().build();

    static Set<String> with(Set<String> caps, String... more) {
        Set<String> s = new LinkedHashSet<>(caps);
        s.addAll(List.of(more));
        return s;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> rules(Map<String, Object> oci) {
        return (List<Map<String, Object>>) oci.get("syscalls");
    }

    @SuppressWarnings("unchecked")
    static List<String> names(Map<String, Object> rule) {
        return (List<String>) rule.get("names");
    }

    /** Calls allowed whatever their arguments. */
    static Set<String> allowedOutright(Map<String, Object> oci) {
        Set<String> out = new HashSet<>();
        for (Map<String, Object> r : rules(oci)) {
            if (r.get("action").equals("SCMP_ACT_ALLOW") && !r.containsKey("args")) out.addAll(names(r));
        }
        return out;
    }

    static List<Map<String, Object>> rulesFor(Map<String, Object> oci, String name) {
        return rules(oci).stream().filter(r -> names(r).contains(name)).toList();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> args(Map<String, Object> rule) {
        return (List<Map<String, Object>>) rule.get("args");
    }

    @Nested
    class DefaultProfile {
        @Test
        void deniesWithEpermAndCoversAmd64Abis() {
            Map<String, Object> p = SeccompProfile.dockerDefault(DOCKER_CAPS, "amd64", NEW_KERNEL);
            assertThat(p).containsEntry("defaultAction", "SCMP_ACT_ERRNO").containsEntry("defaultErrnoRet", 1);
            assertThat(p.get("architectures")).isEqualTo(List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));
            assertThat(p.keySet()).containsExactly("defaultAction", "defaultErrnoRet", "architectures", "syscalls");
            Set<String> allowed = allowedOutright(p);
            assertThat(allowed).contains("read", "write", "openat", "close", "mmap", "mprotect", "brk", "futex",
                    "rt_sigaction", "execve", "exit_group", "wait4", "epoll_pwait", "clock_gettime", "nanosleep",
                    "connect", "accept4", "sendmsg", "getdents64", "statx", "capset", "setresuid", "rseq",
                    "arch_prctl", "modify_ldt", "ptrace", "chroot");
            assertThat(allowed).doesNotContain("mount", "umount2", "unshare", "setns", "pivot_root", "bpf",
                    "perf_event_open", "init_module", "finit_module", "delete_module", "reboot", "kexec_load",
                    "iopl", "ioperm", "settimeofday", "clock_settime", "vhangup", "mbind", "syslog", "acct",
                    "open_by_handle_at", "kcmp", "process_madvise", "io_uring_setup", "io_uring_enter",
                    "io_uring_register", "keyctl", "add_key", "request_key", "userfaultfd", "swapon",
                    "socket", "personality", "clone", "clone3", "arm_fadvise64_64", "set_tls");
            // every rule names something and has a known action
            for (Map<String, Object> r : rules(p)) {
                assertThat(names(r)).isNotEmpty();
                assertThat(r.get("action")).isIn("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO");
            }
        }

        @Test
        void cloneMasksNamespaceFlagsAndClone3FallsBackWithEnosys() {
            Map<String, Object> p = SeccompProfile.dockerDefault(DOCKER_CAPS, "amd64", NEW_KERNEL);
            List<Map<String, Object>> clone = rulesFor(p, "clone");
            assertThat(clone).hasSize(1);
            assertThat(args(clone.getFirst())).containsExactly(
                    Map.of("index", 0, "value", 2114060288L, "valueTwo", 0L, "op", "SCMP_CMP_MASKED_EQ"));
            assertThat(SeccompProfile.CLONE_NAMESPACE_FLAGS).isEqualTo(0x7E020000L);
            List<Map<String, Object>> clone3 = rulesFor(p, "clone3");
            assertThat(clone3).containsExactly(Map.of("names", List.of("clone3"), "action", "SCMP_ACT_ERRNO", "errnoRet", 38));
        }

        @Test
        void personalityOnlyWithSafeValuesAndSocketNotForAlgOrVsock() {
            Map<String, Object> p = SeccompProfile.dockerDefault(DOCKER_CAPS, "amd64", NEW_KERNEL);
            List<Object> personalities = rulesFor(p, "personality").stream()
                    .map(r -> {
                        assertThat(args(r)).hasSize(1);
                        assertThat(args(r).getFirst()).containsEntry("op", "SCMP_CMP_EQ").containsEntry("index", 0);
                        return args(r).getFirst().get("value");
                    }).toList();
            assertThat(personalities).containsExactlyInAnyOrder(0L, 8L, 0x20000L, 0x20008L, 0xffffffffL);

            List<Map<String, Object>> socket = rulesFor(p, "socket");
            assertThat(socket).extracting(r -> args(r).getFirst()).containsExactlyInAnyOrder(
                    Map.of("index", 0, "value", 38L, "op", "SCMP_CMP_LT"),
                    Map.of("index", 0, "value", 39L, "op", "SCMP_CMP_EQ"),
                    Map.of("index", 0, "value", 40L, "op", "SCMP_CMP_GT"));
            // families 0..45: allowed iff some rule matches
            for (long family = 0; family < 46; family++) {
                long f = family;
                boolean allowed = socket.stream().anyMatch(r -> {
                    Map<String, Object> a = args(r).getFirst();
                    long v = (Long) a.get("value");
                    return switch ((String) a.get("op")) {
                        case "SCMP_CMP_LT" -> f < v;
                        case "SCMP_CMP_EQ" -> f == v;
                        case "SCMP_CMP_GT" -> f > v;
                        default -> false;
                    };
                });
                assertThat(allowed).as("family %d", f).isEqualTo(f != 38 && f != 40);
            }
        }

        @Test
        void arm64GetsItsAbisAndCalls() {
            Map<String, Object> p = SeccompProfile.dockerDefault(DOCKER_CAPS, "arm64", NEW_KERNEL);
            assertThat(p.get("architectures")).isEqualTo(List.of("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"));
            Set<String> allowed = allowedOutright(p);
            assertThat(allowed).contains("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "set_tls",
                    "cacheflush", "breakpoint");
            assertThat(allowed).doesNotContain("arch_prctl", "modify_ldt", "uretprobe");
            assertThat(rulesFor(p, "clone")).hasSize(1);
        }

        @Test
        void eachCapabilityOpensItsCalls() {
            Map<String, List<String>> byCap = new LinkedHashMap<>();
            byCap.put("CAP_SYS_ADMIN", List.of("mount", "umount2", "unshare", "setns", "pivot_root", "sethostname",
                    "bpf", "perf_event_open", "fsopen", "move_mount", "clone", "clone3"));
            byCap.put("CAP_SYS_MODULE", List.of("init_module", "finit_module", "delete_module"));
            byCap.put("CAP_SYS_PTRACE", List.of("kcmp", "pidfd_getfd", "process_madvise", "ptrace"));
            byCap.put("CAP_SYS_RAWIO", List.of("iopl", "ioperm"));
            byCap.put("CAP_SYS_TIME", List.of("settimeofday", "stime", "clock_settime"));
            byCap.put("CAP_SYS_TTY_CONFIG", List.of("vhangup"));
            byCap.put("CAP_SYS_NICE", List.of("get_mempolicy", "mbind", "set_mempolicy"));
            byCap.put("CAP_SYSLOG", List.of("syslog"));
            byCap.put("CAP_SYS_BOOT", List.of("reboot"));
            byCap.put("CAP_BPF", List.of("bpf"));
            byCap.put("CAP_PERFMON", List.of("perf_event_open"));
            byCap.put("CAP_SYS_PACCT", List.of("acct"));
            byCap.put("CAP_DAC_READ_SEARCH", List.of("open_by_handle_at"));
            Set<String> none = allowedOutright(SeccompProfile.dockerDefault(Set.of(), "amd64", new KernelVersion(4, 4, 0)));
            assertThat(none).doesNotContain("chroot");
            for (Map.Entry<String, List<String>> e : byCap.entrySet()) {
                Set<String> with = allowedOutright(SeccompProfile.dockerDefault(Set.of(e.getKey()), "amd64",
                        new KernelVersion(4, 4, 0)));
                assertThat(none).as("without %s", e.getKey()).doesNotContainAnyElementsOf(e.getValue());
                assertThat(with).as("with %s", e.getKey()).containsAll(e.getValue());
            }
            assertThat(allowedOutright(SeccompProfile.dockerDefault(Set.of("CAP_SYS_CHROOT"), "amd64", NEW_KERNEL)))
                    .contains("chroot");
        }

        @Test
        void sysAdminLiftsCloneMaskAndClone3Enosys() {
            Map<String, Object> p = SeccompProfile.dockerDefault(Set.of("sys_admin"), "amd64", NEW_KERNEL);
            assertThat(rulesFor(p, "clone")).allSatisfy(r -> assertThat(r).doesNotContainKey("args"));
            assertThat(rulesFor(p, "clone3")).allSatisfy(r -> assertThat(r).containsEntry("action", "SCMP_ACT_ALLOW"));
            assertThat(allowedOutright(p)).contains("clone", "clone3", "mount", "unshare");
        }

        @Test
        void ptraceNeedsKernel48OrTheCapability() {
            assertThat(allowedOutright(SeccompProfile.dockerDefault(DOCKER_CAPS, "amd64", new KernelVersion(4, 4, 0))))
                    .doesNotContain("ptrace", "process_vm_readv");
            assertThat(allowedOutright(SeccompProfile.dockerDefault(DOCKER_CAPS, "amd64", new KernelVersion(4, 8, 0))))
                    .contains("ptrace", "process_vm_readv", "process_vm_writev").doesNotContain("kcmp");
        }

        @Test
        void unknownArchitectureGetsNativeOnlyAndNoArchSpecificCalls() {
            Map<String, Object> p = SeccompProfile.dockerDefault(DOCKER_CAPS, "loong64", NEW_KERNEL);
            assertThat(p).doesNotContainKey("architectures");
            assertThat(allowedOutright(p)).contains("read").doesNotContain("arch_prctl", "set_tls");
        }

        @Test
        void serializesToOciJson() throws Exception {
            String json = JSON.writeValueAsString(SeccompProfile.dockerDefault(DOCKER_CAPS, "amd64"));
            assertThat(json).contains("\"defaultAction\":\"SCMP_ACT_ERRNO\"", "\"defaultErrnoRet\":1",
                    "\"value\":2114060288", "\"valueTwo\":0", "\"value\":4294967295", "\"errnoRet\":38");
            assertThat(SeccompProfile.unconfined()).isNull();
        }
    }

    @Nested
    class DockerFormatFiles {
        static final String PROFILE = """
                {
                  "defaultAction": "SCMP_ACT_ERRNO",
                  "defaultErrnoRet": 1,
                  "archMap": [
                    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
                  ],
                  "syscalls": [
                    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "comment": "always"},
                    {"name": "arch_prctl", "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
                    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                    {"names": ["kexec_load"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_SYS_BOOT"]}},
                    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                     "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
                    {"names": ["old_thing"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.0"}},
                    {"names": ["mask"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 1, "value": 18446744073709551615, "op": "SCMP_CMP_MASKED_EQ"}]}
                  ]
                }
                """;

        @Test
        void resolvesIncludesAndExcludesForCapsArchAndKernel() throws Exception {
            Map<String, Object> p = SeccompProfile.fromJson(PROFILE, DOCKER_CAPS, "amd64", NEW_KERNEL);
            assertThat(p.get("architectures")).isEqualTo(List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));
            assertThat(p).containsEntry("defaultErrnoRet", 1);
            assertThat(rules(p)).extracting(r -> names(r).getFirst())
                    .containsExactly("read", "arch_prctl", "clone", "clone3", "ptrace", "mask");
            assertThat(rules(p).getFirst()).isEqualTo(Map.of("names", List.of("read", "write"), "action", "SCMP_ACT_ALLOW"));
            assertThat(JSON.writeValueAsString(rules(p).getLast())).contains("\"value\":18446744073709551615");

            Map<String, Object> admin = SeccompProfile.fromJson(PROFILE, with(DOCKER_CAPS, "CAP_SYS_ADMIN"), "arm64",
                    new KernelVersion(4, 4, 0));
            assertThat(admin.get("architectures")).isEqualTo(List.of("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"));
            assertThat(rules(admin)).extracting(r -> names(r).getFirst())
                    .containsExactly("read", "mount", "old_thing", "mask");
            Map<String, Object> both = SeccompProfile.fromJson(PROFILE, Set.of("SYS_ADMIN", "sys_boot"), "arm64", NEW_KERNEL);
            assertThat(rules(both)).extracting(r -> names(r).getFirst()).contains("mount", "kexec_load");
        }

        @Test
        void ociFormatPassesThrough() {
            String oci = """
                    {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                     "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                     "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
                    """;
            Map<String, Object> p = SeccompProfile.fromJson(oci, DOCKER_CAPS, "arm64", NEW_KERNEL);
            assertThat(p).isEqualTo(Map.of("defaultAction", "SCMP_ACT_ALLOW", "architectures", List.of("SCMP_ARCH_X86_64"),
                    "flags", List.of("SECCOMP_FILTER_FLAG_LOG"),
                    "syscalls", List.of(Map.of("names", List.of("mkdir"), "action", "SCMP_ACT_ERRNO", "errnoRet", 13))));
        }

        @Test
        void securityOptValuesAsTheCliSendsThem() {
            assertThat(SeccompProfile.fromSecurityOpt("unconfined", DOCKER_CAPS, "amd64")).isNull();
            assertThat(SeccompProfile.fromSecurityOpt("builtin", DOCKER_CAPS, "amd64"))
                    .isEqualTo(SeccompProfile.dockerDefault(DOCKER_CAPS, "amd64"));
            assertThat(SeccompProfile.fromSecurityOpt(PROFILE, DOCKER_CAPS, "amd64"))
                    .isEqualTo(SeccompProfile.fromJson(PROFILE, DOCKER_CAPS, "amd64"));
            assertThatThrownBy(() -> SeccompProfile.fromSecurityOpt("/etc/profile.json", DOCKER_CAPS, "amd64"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decoding seccomp profile failed");
        }

        @Test
        void emptyProfileMeansNoFilter() {
            assertThat(SeccompProfile.fromJson("{}", DOCKER_CAPS, "amd64")).isNull();
        }

        @Test
        void readsFiles(@TempDir Path dir) throws Exception {
            Path f = dir.resolve("profile.json");
            Files.writeString(f, PROFILE);
            assertThat(rules(SeccompProfile.fromJsonFile(f, DOCKER_CAPS, "amd64"))).isNotEmpty();
            Files.writeString(f, "{\"defaultAction\": \"SCMP_ACT_NOPE\"}");
            assertThatThrownBy(() -> SeccompProfile.fromJsonFile(f, DOCKER_CAPS, "amd64"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(f.toString()).hasMessageContaining("SCMP_ACT_NOPE");
            assertThatThrownBy(() -> SeccompProfile.fromJsonFile(dir.resolve("none.json"), DOCKER_CAPS, "amd64"))
                    .isInstanceOf(NoSuchFileException.class);
        }

        @Test
        void refusesBrokenProfilesSayingWhere() {
            assertThatThrownBy(() -> SeccompProfile.fromJson("{not json", DOCKER_CAPS, "amd64"))
                    .hasMessageContaining("decoding seccomp profile failed");
            assertThatThrownBy(() -> SeccompProfile.fromJson("""
                    {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                     "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}""", DOCKER_CAPS, "amd64"))
                    .hasMessageContaining("'architectures' and 'archMap'");
            assertThatThrownBy(() -> SeccompProfile.fromJson("""
                    {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}""",
                    DOCKER_CAPS, "amd64")).hasMessageContaining("syscalls[0]").hasMessageContaining("'name' and 'names'");
            assertThatThrownBy(() -> SeccompProfile.fromJson("""
                    {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}""", DOCKER_CAPS, "amd64"))
                    .hasMessageContaining("syscalls[0].args[0].op").hasMessageContaining("SCMP_CMP_LIKE");
            assertThatThrownBy(() -> SeccompProfile.fromJson("""
                    {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}""", DOCKER_CAPS, "amd64"))
                    .hasMessageContaining("syscalls[0].args[0].index");
            assertThatThrownBy(() -> SeccompProfile.fromJson("""
                    {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}""", DOCKER_CAPS, "amd64"))
                    .hasMessageContaining("syscalls[0].args[0].value");
            assertThatThrownBy(() -> SeccompProfile.fromJson("""
                    {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW",
                     "includes": {"minKernel": "new"}}]}""", DOCKER_CAPS, "amd64"))
                    .hasMessageContaining("syscalls[0].includes.minKernel");
            assertThatThrownBy(() -> SeccompProfile.fromJson("""
                    {"syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW"}]}""", DOCKER_CAPS, "amd64"))
                    .hasMessageContaining("defaultAction");
            assertThatThrownBy(() -> SeccompProfile.fromJson("[]", DOCKER_CAPS, "amd64"))
                    .hasMessageContaining("JSON object");
        }

        @Test
        void kernelVersionsParseLikeUname() {
            assertThat(KernelVersion.parse("6.18.44-fc-v782")).isEqualTo(new KernelVersion(6, 18, 44));
            assertThat(KernelVersion.parse("4.8")).isEqualTo(new KernelVersion(4, 8, 0));
            assertThat(KernelVersion.parse("5.10.0-21-amd64").compareTo(new KernelVersion(5, 9, 99))).isPositive();
            assertThat(KernelVersion.parse("x")).isNull();
            assertThat(KernelVersion.host().major()).isPositive();
            assertThat(SeccompProfile.hostGoArch()).isIn("amd64", "arm64");
        }
    }

    /** Real containers under runc with the filter, in a busybox root. */
    @Nested
    class UnderRunc {
        @TempDir Path dir;

        Path runc() {
            assumeTrue(System.getProperty("os.name").equals("Linux"));
            assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
            Path runc = Path.of("/usr/sbin/runc");
            if (!Files.isExecutable(runc)) runc = Path.of("/usr/bin/runc");
            assumeTrue(Files.isExecutable(runc), "runc is not installed");
            assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static is not installed");
            return runc;
        }

        record Result(int exitCode, String output) {}

        Path rootfs() throws Exception {
            Path rootfs = dir.resolve("rootfs");
            if (Files.exists(rootfs)) return rootfs;
            Path bin = Files.createDirectories(rootfs.resolve("bin"));
            for (String d : List.of("proc", "dev", "sys", "tmp", "mnt", "etc")) Files.createDirectories(rootfs.resolve(d));
            Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
            // busybox --install -s would link to its own absolute host path; make relative links instead
            Process list = new ProcessBuilder("/bin/busybox", "--list").redirectErrorStream(true).start();
            String applets = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(list.waitFor()).isZero();
            for (String applet : applets.split("\\s+")) {
                if (applet.isBlank() || applet.equals("busybox")) continue;
                Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
            }
            Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
            return rootfs;
        }

        Map<String, Object> config(Path rootfs, String id, Set<String> caps, Map<String, Object> seccomp, String script) {
            List<String> capList = new ArrayList<>(new java.util.TreeSet<>(caps));
            Map<String, Object> process = new LinkedHashMap<>();
            process.put("terminal", false);
            process.put("user", Map.of("uid", 0, "gid", 0));
            process.put("args", List.of("/bin/sh", "-c", script));
            process.put("env", List.of("PATH=/bin"));
            process.put("cwd", "/");
            process.put("capabilities", Map.of("bounding", capList, "effective", capList, "permitted", capList));
            process.put("noNewPrivileges", false);
            List<Map<String, Object>> mounts = List.of(
                    mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
                    mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
                    mount("/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
                    mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
                    mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
                    mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")),
                    mount("/tmp", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=1777", "size=16m")));
            Map<String, Object> linux = new LinkedHashMap<>();
            linux.put("namespaces", Stream.of("pid", "mount", "ipc", "uts", "network").map(t -> Map.of("type", t)).toList());
            linux.put("cgroupsPath", "/berth-test/" + id);
            linux.put("resources", Map.of("devices", List.of(Map.of("allow", false, "access", "rwm"))));
            linux.put("maskedPaths", List.of("/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"));
            linux.put("readonlyPaths", List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
            if (seccomp != null) linux.put("seccomp", seccomp);
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("ociVersion", "1.0.2");
            config.put("process", process);
            config.put("root", Map.of("path", rootfs.toString(), "readonly", true));
            config.put("hostname", "seccomp-test");
            config.put("mounts", mounts);
            config.put("linux", linux);
            return config;
        }

        static Map<String, Object> mount(String dest, String type, String source, List<String> options) {
            return Map.of("destination", dest, "type", type, "source", source, "options", options);
        }

        /** Runs the script in a fresh container and cleans everything up (state, bundle, cgroups). */
        Result run(Set<String> caps, Map<String, Object> seccomp, String script) throws Exception {
            Path runc = runc();
            Path rootfs = rootfs();
            String id = "berth-seccomp-" + UUID.randomUUID().toString().substring(0, 8);
            Path bundle = Files.createDirectories(dir.resolve("bundle-" + id));
            Path state = Files.createDirectories(dir.resolve("runc-state"));
            Path out = bundle.resolve("output");
            Process p = null;
            try {
                Files.writeString(bundle.resolve("config.json"), JSON.writeValueAsString(config(rootfs, id, caps, seccomp, script)));
                p = new ProcessBuilder(runc.toString(), "--root", state.toString(), "run", "--bundle", bundle.toString(), id)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectErrorStream(true)
                        .redirectOutput(out.toFile())
                        .start();
                boolean done = p.waitFor(60, TimeUnit.SECONDS);
                assertThat(done).as("container %s finished", id).isTrue();
                return new Result(p.exitValue(), Files.readString(out));
            } finally {
                if (p != null && p.isAlive()) {
                    new ProcessBuilder(runc.toString(), "--root", state.toString(), "kill", id, "KILL").start().waitFor(10, TimeUnit.SECONDS);
                    p.waitFor(10, TimeUnit.SECONDS);
                    p.destroyForcibly();
                }
                Process del = new ProcessBuilder(runc.toString(), "--root", state.toString(), "delete", "--force", id)
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                del.waitFor(20, TimeUnit.SECONDS);
                removeCgroups(id);
                deleteTree(bundle);
            }
        }

        static void removeCgroups(String id) throws IOException {
            try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
                for (Path h : hierarchies.toList()) {
                    Path parent = h.resolve("berth-test");
                    Files.deleteIfExists(parent.resolve(id)); // rmdir on a cgroup
                    try {
                        Files.deleteIfExists(parent);
                    } catch (java.nio.file.FileSystemException busy) {
                        // another test's container still lives there
                    }
                }
            }
        }

        static void deleteTree(Path p) throws IOException {
            if (!Files.exists(p)) return;
            try (Stream<Path> s = Files.walk(p)) {
                for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
            }
        }

        static final String ORDINARY = """
                ls / >/dev/null && echo ls-ok
                echo echo-ok
                sleep 0.1 && echo sleep-ok
                wget -h 2>&1 | grep -q 'Usage: wget' && echo wget-ok
                linux32 uname -m
                chroot / true && echo chroot-ok
                touch /tmp/f && mkdir /tmp/d && echo files-ok
                grep '^Seccomp:' /proc/self/status
                """;

        @Test
        void defaultProfileRunsOrdinaryProgramsAndRefusesNamespacesAndMounts() throws Exception {
            Result r = run(DOCKER_CAPS, SeccompProfile.dockerDefault(DOCKER_CAPS, SeccompProfile.hostGoArch()), ORDINARY + """
                    unshare -n true; echo "unshare-rc=$?"
                    mount -t tmpfs none /mnt; echo "mount-rc=$?"
                    """);
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains("ls-ok", "echo-ok", "sleep-ok", "wget-ok", "chroot-ok", "files-ok");
            assertThat(r.output()).containsPattern("Seccomp:\\s+2");
            assertThat(r.output()).containsPattern("(?m)^i[3-6]86$|^armv[78]l$");
            assertThat(r.output()).contains("Operation not permitted").contains("unshare-rc=1");
            assertThat(r.output()).containsPattern("mount-rc=[1-9]").doesNotContain("mount-rc=0");
        }

        @Test
        void theFilterRefusesEvenWhenTheCapabilityIsHeld() throws Exception {
            // The process holds CAP_SYS_ADMIN, the filter was made for Docker's caps: seccomp alone refuses.
            Result r = run(with(DOCKER_CAPS, "CAP_SYS_ADMIN"), SeccompProfile.dockerDefault(DOCKER_CAPS, SeccompProfile.hostGoArch()),
                    "unshare -n true; echo \"unshare-rc=$?\"");
            assertThat(r.output()).contains("Operation not permitted", "unshare-rc=1");
        }

        @Test
        void sysAdminInCapsAndProfileAllowsNamespacesAndMounts() throws Exception {
            Set<String> caps = with(DOCKER_CAPS, "CAP_SYS_ADMIN");
            Result r = run(caps, SeccompProfile.dockerDefault(caps, SeccompProfile.hostGoArch()), ORDINARY + """
                    unshare -n true && echo unshare-ok
                    mount -t tmpfs none /mnt && echo mount-ok
                    """);
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).containsPattern("Seccomp:\\s+2");
            assertThat(r.output()).contains("ls-ok", "sleep-ok", "wget-ok", "unshare-ok", "mount-ok")
                    .doesNotContain("Operation not permitted");
        }

        @Test
        void aDockerFormatProfileFileIsEnforced() throws Exception {
            Path file = dir.resolve("no-mkdir.json");
            Files.writeString(file, """
                    {"defaultAction": "SCMP_ACT_ALLOW",
                     "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                                 {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
                     "syscalls": [
                       {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                        "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
                     ]}
                    """);
            Result r = run(DOCKER_CAPS, SeccompProfile.fromJsonFile(file, DOCKER_CAPS, SeccompProfile.hostGoArch()), """
                    touch /tmp/f && echo touch-ok
                    mkdir /tmp/d; echo "mkdir-rc=$?"
                    """);
            assertThat(r.output()).contains("touch-ok", "Permission denied", "mkdir-rc=1");
            Set<String> admin = with(DOCKER_CAPS, "CAP_SYS_ADMIN");
            Result r2 = run(admin, SeccompProfile.fromJsonFile(file, admin, SeccompProfile.hostGoArch()),
                    "mkdir /tmp/d && echo mkdir-ok");
            assertThat(r2.output()).contains("mkdir-ok");
        }

        @Test
        void unconfinedMeansNoFilter() throws Exception {
            Set<String> caps = with(DOCKER_CAPS, "CAP_SYS_ADMIN");
            Result r = run(caps, SeccompProfile.unconfined(), "unshare -n true && echo unshare-ok; grep '^Seccomp:' /proc/self/status");
            assertThat(r.output()).contains("unshare-ok").containsPattern("Seccomp:\\s+0");
        }
    }
}
