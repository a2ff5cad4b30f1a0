package io.berth.runtime;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Seccomp filters for containers, as the OCI runtime spec's {@code linux.seccomp} object
 * (a map ready to be written into a bundle's config.json).
 *
 * <p>{@link #dockerDefault} behaves like Docker's default profile: every system call not
 * named fails with EPERM; an allow-list holds what ordinary programs use; the calls that
 * only make sense with a capability (mount, unshare, setns, chroot, modules, reboot,
 * clock setting, ...) are allowed only when the container holds that capability, so that
 * {@code --cap-add} opens both the capability and the filter, as with Docker. Choices made
 * where Docker's profile changed over time, following its current behaviour:
 * <ul>
 *   <li>io_uring_setup/enter/register are not allowed (Docker 25 and later): io_uring runs
 *       system calls the filter never sees.
 *   <li>socket() is refused for AF_ALG (38) and AF_VSOCK (40), other families are allowed;
 *       the 32-bit socketcall multiplexer cannot be inspected and stays allowed.
 *   <li>clone() is allowed only without namespace flags unless CAP_SYS_ADMIN; clone3(),
 *       whose flags live in memory a filter cannot read, fails with ENOSYS so that libc
 *       falls back to clone().
 *   <li>ptrace, process_vm_readv/writev are allowed on kernels 4.8 and later (seccomp can no
 *       longer be bypassed through ptrace there); kcmp, pidfd_getfd and process_madvise
 *       need CAP_SYS_PTRACE.
 *   <li>adjtimex and clock_adjtime are allowed: reading the clock state is harmless and the
 *       kernel itself demands CAP_SYS_TIME to change it; settimeofday, stime and
 *       clock_settime need CAP_SYS_TIME.
 * </ul>
 *
 * <p>{@link #fromJson} reads a profile in Docker's format ({@code --security-opt
 * seccomp=profile.json}: {@code defaultAction}, {@code defaultErrnoRet}, {@code archMap} or
 * {@code architectures}, {@code syscalls} with {@code includes}/{@code excludes} on
 * {@code caps}, {@code arches} and {@code minKernel}) and resolves it for one container's
 * capabilities and architecture the way Docker does. Plain OCI objects are accepted too.
 */
public final class SeccompProfile {
    public static final int EPERM = 1;
    public static final int ENOSYS = 38;

    static final int AF_ALG = 38;
    static final int AF_VSOCK = 40;

    /** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. */
    static final long CLONE_NAMESPACE_FLAGS =
            0x0002_0000L | 0x0200_0000L | 0x0400_0000L | 0x0800_0000L | 0x1000_0000L | 0x2000_0000L | 0x4000_0000L;

    /** The personalities a container may switch to: Linux, Linux32, UNAME26 and both; 0xffffffff only queries. */
    static final long[] SAFE_PERSONALITIES = {0x0L, 0x8L, 0x2_0000L, 0x2_0008L, 0xffff_ffffL};

    private static final Set<String> ACTIONS = Set.of("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
            "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY");
    private static final Set<String> OPERATORS = Set.of("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
            "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ");
    private static final BigInteger MAX_U64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /** Go's GOARCH names to the names Docker's profiles use in includes/excludes "arches". */
    private static final Map<String, String> GO_TO_NATIVE = Map.ofEntries(
            Map.entry("386", "x86"), Map.entry("amd64", "amd64"), Map.entry("arm", "arm"), Map.entry("arm64", "arm64"),
            Map.entry("mips64", "mips64"), Map.entry("mips64p32", "mips64n32"), Map.entry("mips64le", "mipsel64"),
            Map.entry("mips64p32le", "mips3l64n32"), Map.entry("mipsle", "mipsel"), Map.entry("ppc", "ppc"),
            Map.entry("ppc64", "ppc64"), Map.entry("ppc64le", "ppc64le"), Map.entry("s390", "s390"),
            Map.entry("s390x", "s390x"), Map.entry("riscv64", "riscv64"));

    /** Those names to libseccomp's architecture tokens, as "archMap" lists them. */
    private static final Map<String, String> NATIVE_TO_SCMP = Map.ofEntries(
            Map.entry("x86", "SCMP_ARCH_X86"), Map.entry("amd64", "SCMP_ARCH_X86_64"), Map.entry("arm", "SCMP_ARCH_ARM"),
            Map.entry("arm64", "SCMP_ARCH_AARCH64"), Map.entry("mips64", "SCMP_ARCH_MIPS64"),
            Map.entry("mips64n32", "SCMP_ARCH_MIPS64N32"), Map.entry("mipsel64", "SCMP_ARCH_MIPSEL64"),
            Map.entry("mips3l64n32", "SCMP_ARCH_MIPSEL64N32"), Map.entry("mipsel", "SCMP_ARCH_MIPSEL"),
            Map.entry("ppc", "SCMP_ARCH_PPC"), Map.entry("ppc64", "SCMP_ARCH_PPC64"),
            Map.entry("ppc64le", "SCMP_ARCH_PPC64LE"), Map.entry("s390", "SCMP_ARCH_S390"),
            Map.entry("s390x", "SCMP_ARCH_S390X"), Map.entry("riscv64", "SCMP_ARCH_RISCV64"));

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SeccompProfile() {}

    // ---------------------------------------------------------------- public API

    /**
     * Docker's default filter for a container holding {@code effectiveCapabilities} (names
     * such as {@code CAP_SYS_ADMIN}; the {@code CAP_} prefix and case are optional) on
     * {@code goArch} (Go's GOARCH: amd64, arm64, ...).
     */
    public static Map<String, Object> dockerDefault(Set<String> effectiveCapabilities, String goArch) {
        return dockerDefault(effectiveCapabilities, goArch, KernelVersion.host());
    }

    static Map<String, Object> dockerDefault(Set<String> effectiveCapabilities, String goArch, KernelVersion kernel) {
        return DockerDefault.PROFILE.resolve(effectiveCapabilities, goArch, kernel);
    }

    /** No filter at all ({@code --security-opt seccomp=unconfined}): the spec gets no seccomp object. */
    public static Map<String, Object> unconfined() {
        return null;
    }

    /**
     * Reads a profile file in Docker's format and resolves it for the container's
     * capabilities and architecture; null when the file disables seccomp (no default action
     * and no rules), as Docker treats it.
     */
    public static Map<String, Object> fromJsonFile(Path file, Set<String> effectiveCapabilities, String goArch)
            throws IOException {
        String body = Files.readString(file, StandardCharsets.UTF_8);
        try {
            return fromJson(body, effectiveCapabilities, goArch);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Like {@link #fromJsonFile}, from the profile's text; the docker CLI reads the file on
     * the client and sends its content in {@code HostConfig.SecurityOpt} as
     * {@code seccomp=<json>}.
     *
     * @throws IllegalArgumentException when the text is no valid profile; the message says where
     */
    public static Map<String, Object> fromJson(String json, Set<String> effectiveCapabilities, String goArch) {
        return fromJson(json, effectiveCapabilities, goArch, KernelVersion.host());
    }

    static Map<String, Object> fromJson(String json, Set<String> effectiveCapabilities, String goArch, KernelVersion kernel) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("decoding seccomp profile failed: " + e.getOriginalMessage());
        }
        return Profile.parse(root).resolve(effectiveCapabilities, goArch, kernel);
    }

    /**
     * The filter for the value of a container's {@code seccomp=VALUE} security option, as
     * the docker CLI sends it: {@code unconfined} (no filter), {@code builtin} (the default)
     * or the profile's JSON text (the CLI reads the file the user named).
     */
    public static Map<String, Object> fromSecurityOpt(String value, Set<String> effectiveCapabilities, String goArch) {
        String v = value.strip();
        return switch (v) {
            case "unconfined" -> unconfined();
            case "builtin" -> dockerDefault(effectiveCapabilities, goArch);
            default -> fromJson(v, effectiveCapabilities, goArch);
        };
    }

    /** This JVM's architecture under Go's GOARCH name (amd64, arm64, ...), as Docker's profiles use it. */
    public static String hostGoArch() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "x86", "i386", "i486", "i586", "i686" -> "386";
            case "arm", "arm32" -> "arm";
            case "ppc64le", "powerpc64le" -> "ppc64le";
            case "s390x" -> "s390x";
            case "riscv64" -> "riscv64";
            default -> arch;
        };
    }

    // ---------------------------------------------------------------- model

    /** One argument comparison: {@code arg[index] op value} ({@code (arg & value) == valueTwo} for MASKED_EQ). */
    record Arg(int index, BigInteger value, BigInteger valueTwo, String op) {
        static Arg of(int index, long value, String op) {
            return new Arg(index, BigInteger.valueOf(value), null, op);
        }

        static Arg masked(int index, long mask, long equals) {
            return new Arg(index, BigInteger.valueOf(mask), BigInteger.valueOf(equals), "SCMP_CMP_MASKED_EQ");
        }

        Map<String, Object> toOci() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", index);
            m.put("value", number(value));
            if (valueTwo != null) m.put("valueTwo", number(valueTwo));
            m.put("op", op);
            return m;
        }

        private static Number number(BigInteger v) {
            return v.bitLength() < 64 ? (Number) v.longValueExact() : v;
        }
    }

    /** The conditions of Docker's {@code includes} / {@code excludes}. */
    record Condition(Set<String> caps, Set<String> arches, KernelVersion minKernel) {
        static final Condition NONE = new Condition(Set.of(), Set.of(), null);

        Condition {
            caps = Set.copyOf(caps);
            arches = Set.copyOf(arches);
        }

        static Condition caps(String... caps) {
            return new Condition(Set.of(caps), Set.of(), null);
        }

        static Condition arches(String... arches) {
            return new Condition(Set.of(), Set.of(arches), null);
        }
    }

    /** One rule: these calls get this action, when the arguments match and the conditions hold. */
    record Rule(List<String> names, String action, Integer errnoRet, List<Arg> args, Condition includes, Condition excludes) {
        Rule {
            names = List.copyOf(names);
            args = List.copyOf(args);
        }

        static Rule allow(Collection<String> names) {
            return new Rule(List.copyOf(names), "SCMP_ACT_ALLOW", null, List.of(), Condition.NONE, Condition.NONE);
        }

        static Rule allow(String... names) {
            return allow(List.of(names));
        }

        Rule withArgs(Arg... a) {
            return new Rule(names, action, errnoRet, List.of(a), includes, excludes);
        }

        Rule onlyWith(Condition c) {
            return new Rule(names, action, errnoRet, args, c, excludes);
        }

        Rule except(Condition c) {
            return new Rule(names, action, errnoRet, args, includes, c);
        }

        /** Whether Docker would keep this rule for a container with these (normalized) caps on this arch and kernel. */
        boolean applies(Set<String> caps, String nativeArch, KernelVersion kernel) {
            if (nativeArch != null && excludes.arches().contains(nativeArch)) return false;
            for (String c : excludes.caps()) {
                if (caps.contains(c)) return false;
            }
            if (excludes.minKernel() != null && kernel.compareTo(excludes.minKernel()) >= 0) return false;
            if (!includes.arches().isEmpty() && (nativeArch == null || !includes.arches().contains(nativeArch))) return false;
            for (String c : includes.caps()) {
                if (!caps.contains(c)) return false;
            }
            return includes.minKernel() == null || kernel.compareTo(includes.minKernel()) >= 0;
        }

        Map<String, Object> toOci() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("names", names);
            m.put("action", action);
            if (errnoRet != null) m.put("errnoRet", errnoRet);
            if (!args.isEmpty()) m.put("args", args.stream().map(Arg::toOci).toList());
            return m;
        }
    }

    /** A profile in Docker's format, before it is resolved for one container. */
    record Profile(String defaultAction, Integer defaultErrnoRet, List<String> architectures,
                   Map<String, List<String>> archMap, List<Rule> syscalls, Map<String, Object> passThrough) {

        Map<String, Object> resolve(Set<String> effectiveCapabilities, String goArch, KernelVersion kernel) {
            if ((defaultAction == null || defaultAction.isEmpty()) && syscalls.isEmpty()) return null;
            if (defaultAction == null || defaultAction.isEmpty()) {
                throw new IllegalArgumentException("seccomp profile has no \"defaultAction\"");
            }
            Set<String> caps = normalizeCaps(effectiveCapabilities);
            String nativeArch = GO_TO_NATIVE.get(goArch);
            List<String> arches = new ArrayList<>(architectures);
            if (nativeArch != null && archMap.containsKey(NATIVE_TO_SCMP.get(nativeArch))) {
                String main = NATIVE_TO_SCMP.get(nativeArch);
                arches.add(main);
                arches.addAll(archMap.get(main));
            }
            Map<String, Object> oci = new LinkedHashMap<>();
            oci.put("defaultAction", defaultAction);
            if (defaultErrnoRet != null) oci.put("defaultErrnoRet", defaultErrnoRet);
            if (!arches.isEmpty()) oci.put("architectures", List.copyOf(arches));
            oci.putAll(passThrough);
            List<Map<String, Object>> calls = new ArrayList<>();
            for (Rule r : syscalls) {
                if (r.applies(caps, nativeArch, kernel)) calls.add(r.toOci());
            }
            oci.put("syscalls", calls);
            return oci;
        }

        static Profile parse(JsonNode root) {
            if (root == null || !root.isObject()) throw new IllegalArgumentException("a seccomp profile must be a JSON object");
            String defaultAction = optText(root, "defaultAction", "");
            if (!defaultAction.isEmpty()) checkAction(defaultAction, "defaultAction");
            Integer defaultErrnoRet = optErrno(root, "defaultErrnoRet", "defaultErrnoRet");

            List<String> architectures = textList(root.get("architectures"), "architectures");
            Map<String, List<String>> archMap = new LinkedHashMap<>();
            JsonNode map = root.get("archMap");
            if (map != null && !map.isNull()) {
                if (!map.isArray()) throw new IllegalArgumentException("\"archMap\" must be a list");
                int i = 0;
                for (JsonNode entry : map) {
                    String where = "archMap[" + i++ + "]";
                    if (!entry.isObject()) throw new IllegalArgumentException(where + " must be an object");
                    String arch = optText(entry, "architecture", "");
                    if (arch.isEmpty()) throw new IllegalArgumentException(where + " has no \"architecture\"");
                    archMap.putIfAbsent(arch, textList(entry.get("subArchitectures"), where + ".subArchitectures"));
                }
            }
            if (!architectures.isEmpty() && !archMap.isEmpty()) {
                throw new IllegalArgumentException(
                        "'architectures' and 'archMap' were both given in the seccomp profile: use one or the other");
            }

            Map<String, Object> passThrough = new LinkedHashMap<>();
            for (String key : List.of("listenerPath", "listenerMetadata")) {
                String v = optText(root, key, "");
                if (!v.isEmpty()) passThrough.put(key, v);
            }
            List<String> flags = textList(root.get("flags"), "flags");
            if (!flags.isEmpty()) passThrough.put("flags", flags);

            List<Rule> rules = new ArrayList<>();
            JsonNode calls = root.get("syscalls");
            if (calls != null && !calls.isNull()) {
                if (!calls.isArray()) throw new IllegalArgumentException("\"syscalls\" must be a list");
                int i = 0;
                for (JsonNode call : calls) rules.add(parseRule(call, "syscalls[" + i++ + "]"));
            }
            return new Profile(defaultAction, defaultErrnoRet, architectures, archMap, rules, passThrough);
        }

        private static Rule parseRule(JsonNode call, String where) {
            if (!call.isObject()) throw new IllegalArgumentException(where + " must be an object");
            String name = optText(call, "name", "");
            List<String> names = textList(call.get("names"), where + ".names");
            if (!name.isEmpty() && !names.isEmpty()) {
                throw new IllegalArgumentException(where + ": 'name' and 'names' were both given: use one or the other");
            }
            if (!name.isEmpty()) names = List.of(name);
            if (names.isEmpty()) throw new IllegalArgumentException(where + " names no system call");
            String action = optText(call, "action", "");
            if (action.isEmpty()) throw new IllegalArgumentException(where + " (" + names.getFirst() + ") has no \"action\"");
            checkAction(action, where + ".action");
            Integer errnoRet = optErrno(call, "errnoRet", where + ".errnoRet");
            List<Arg> args = new ArrayList<>();
            JsonNode a = call.get("args");
            if (a != null && !a.isNull()) {
                if (!a.isArray()) throw new IllegalArgumentException(where + ".args must be a list");
                int j = 0;
                for (JsonNode arg : a) args.add(parseArg(arg, where + ".args[" + j++ + "]"));
            }
            return new Rule(names, action, errnoRet, args,
                    parseCondition(call.get("includes"), where + ".includes"),
                    parseCondition(call.get("excludes"), where + ".excludes"));
        }

        private static Arg parseArg(JsonNode arg, String where) {
            if (!arg.isObject()) throw new IllegalArgumentException(where + " must be an object");
            BigInteger index = u64(arg.get("index"), where + ".index");
            if (index == null || index.compareTo(BigInteger.valueOf(5)) > 0) {
                throw new IllegalArgumentException(where + ".index must be 0 to 5");
            }
            String op = optText(arg, "op", "");
            if (!OPERATORS.contains(op)) {
                throw new IllegalArgumentException(where + ".op \"" + op + "\" is not one of " + new TreeSet<>(OPERATORS));
            }
            BigInteger value = u64(arg.get("value"), where + ".value");
            BigInteger valueTwo = u64(arg.get("valueTwo"), where + ".valueTwo");
            return new Arg(index.intValue(), value == null ? BigInteger.ZERO : value, valueTwo, op);
        }

        private static Condition parseCondition(JsonNode node, String where) {
            if (node == null || node.isNull()) return Condition.NONE;
            if (!node.isObject()) throw new IllegalArgumentException(where + " must be an object");
            Set<String> caps = new LinkedHashSet<>();
            for (String c : textList(node.get("caps"), where + ".caps")) caps.add(normalizeCap(c));
            Set<String> arches = new LinkedHashSet<>(textList(node.get("arches"), where + ".arches"));
            String min = optText(node, "minKernel", "");
            KernelVersion minKernel = null;
            if (!min.isEmpty()) {
                minKernel = KernelVersion.parse(min);
                if (minKernel == null) throw new IllegalArgumentException(where + ".minKernel \"" + min + "\" is no kernel version");
            }
            return new Condition(caps, arches, minKernel);
        }

        private static void checkAction(String action, String where) {
            if (!ACTIONS.contains(action)) {
                throw new IllegalArgumentException(where + " \"" + action + "\" is not one of " + new TreeSet<>(ACTIONS));
            }
        }

        private static String optText(JsonNode node, String key, String fallback) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) return fallback;
            if (!v.isString()) throw new IllegalArgumentException("\"" + key + "\" must be a string");
            return v.asString();
        }

        private static Integer optErrno(JsonNode node, String key, String where) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) return null;
            BigInteger b = v.isIntegralNumber() ? v.bigIntegerValue() : null;
            if (b == null || b.signum() < 0 || b.compareTo(BigInteger.valueOf(4095)) > 0) {
                throw new IllegalArgumentException(where + " must be an errno number (0 to 4095)");
            }
            return b.intValue();
        }

        private static BigInteger u64(JsonNode v, String where) {
            if (v == null || v.isNull()) return null;
            if (!v.isIntegralNumber()) throw new IllegalArgumentException(where + " must be a whole number, not " + v);
            BigInteger b = v.bigIntegerValue();
            if (b.signum() < 0 || b.compareTo(MAX_U64) > 0) {
                throw new IllegalArgumentException(where + " must be between 0 and 2^64-1");
            }
            return b;
        }

        private static List<String> textList(JsonNode node, String where) {
            if (node == null || node.isNull()) return List.of();
            if (!node.isArray()) throw new IllegalArgumentException(where + " must be a list of strings");
            List<String> out = new ArrayList<>();
            for (JsonNode n : node) {
                if (!n.isString()) throw new IllegalArgumentException(where + " must be a list of strings");
                out.add(n.asString());
            }
            return List.copyOf(out);
        }
    }

    static Set<String> normalizeCaps(Set<String> caps) {
        Set<String> out = new LinkedHashSet<>();
        if (caps != null) for (String c : caps) out.add(normalizeCap(c));
        return out;
    }

    static String normalizeCap(String cap) {
        String c = cap.trim().toUpperCase(Locale.ROOT);
        return c.startsWith("CAP_") ? c : "CAP_" + c;
    }

    /** A kernel release compared by major, minor and patch, as Docker compares "minKernel". */
    record KernelVersion(int major, int minor, int patch) implements Comparable<KernelVersion> {
        private static final Pattern RELEASE = Pattern.compile("^(\\d+)\\.(\\d+)(?:\\.(\\d+))?.*");

        static KernelVersion parse(String release) {
            Matcher m = RELEASE.matcher(release.trim());
            if (!m.matches()) return null;
            try {
                return new KernelVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                        m.group(3) == null ? 0 : Integer.parseInt(m.group(3)));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        /** The running kernel (uname's release); 0.0.0 where it cannot be read, so no minKernel rule applies. */
        static KernelVersion host() {
            String release = null;
            try {
                release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
            } catch (IOException | RuntimeException e) {
                release = System.getProperty("os.version", "");
            }
            KernelVersion v = parse(release);
            return v == null ? new KernelVersion(0, 0, 0) : v;
        }

        @Override
        public int compareTo(KernelVersion o) {
            if (major != o.major) return Integer.compare(major, o.major);
            if (minor != o.minor) return Integer.compare(minor, o.minor);
            return Integer.compare(patch, o.patch);
        }
    }

    // ---------------------------------------------------------------- Docker's default

    /** The default profile, written as Docker-format rules and resolved by the same code as profile files. */
    static final class DockerDefault {
        private DockerDefault() {}

        /** Reading, writing, moving data between descriptors. */
        static final List<String> FILE_IO = List.of(
                "read", "readv", "pread64", "preadv", "preadv2",
                "write", "writev", "pwrite64", "pwritev", "pwritev2",
                "open", "openat", "openat2", "creat", "close", "close_range",
                "lseek", "_llseek", "dup", "dup2", "dup3", "fcntl", "fcntl64", "flock",
                "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
                "fallocate", "truncate", "truncate64", "ftruncate", "ftruncate64",
                "sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range",
                "readahead", "fadvise64", "fadvise64_64", "cachestat", "ioctl",
                "pipe", "pipe2");

        /** Names, directories, attributes, extended attributes, watches. */
        static final List<String> FILE_SYSTEM = List.of(
                "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx",
                "statfs", "statfs64", "fstatfs", "fstatfs64",
                "access", "faccessat", "faccessat2",
                "chmod", "fchmod", "fchmodat", "fchmodat2",
                "chown", "chown32", "fchown", "fchown32", "lchown", "lchown32", "fchownat",
                "utime", "utimes", "utimensat", "utimensat_time64", "futimesat", "umask",
                "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "mknod", "mknodat",
                "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat",
                "rename", "renameat", "renameat2", "readlink", "readlinkat",
                "getdents", "getdents64", "name_to_handle_at",
                "getxattr", "lgetxattr", "fgetxattr", "getxattrat",
                "setxattr", "lsetxattr", "fsetxattr", "setxattrat",
                "listxattr", "llistxattr", "flistxattr", "listxattrat",
                "removexattr", "lremovexattr", "fremovexattr", "removexattrat",
                "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark",
                "listmount", "statmount");

        /** Waiting on many descriptors, event and timer descriptors, Linux AIO. */
        static final List<String> EVENTS = List.of(
                "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
                "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
                "epoll_wait", "epoll_wait_old", "epoll_pwait", "epoll_pwait2",
                "eventfd", "eventfd2", "signalfd", "signalfd4",
                "timerfd_create", "timerfd_settime", "timerfd_settime64", "timerfd_gettime", "timerfd_gettime64",
                "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents",
                "io_pgetevents", "io_pgetevents_time64");

        /** The process's own memory. */
        static final List<String> MEMORY = List.of(
                "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
                "mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages",
                "membarrier", "memfd_create", "memfd_secret", "mseal", "map_shadow_stack",
                "pkey_alloc", "pkey_free", "pkey_mprotect", "process_mrelease");

        /** Starting, ending and inspecting processes and threads, scheduling, limits. */
        static final List<String> PROCESSES = List.of(
                "execve", "execveat", "fork", "vfork", "exit", "exit_group", "wait4", "waitid", "waitpid",
                "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
                "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal",
                "prctl", "seccomp", "capget", "capset", "set_tid_address", "set_robust_list", "get_robust_list",
                "rseq", "restart_syscall", "set_thread_area", "get_thread_area",
                "getpriority", "setpriority", "ioprio_get", "ioprio_set",
                "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
                "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
                "sched_get_priority_max", "sched_get_priority_min",
                "sched_rr_get_interval", "sched_rr_get_interval_time64",
                "getrlimit", "setrlimit", "ugetrlimit", "prlimit64", "getrusage", "times",
                "uname", "sysinfo", "getcpu", "getrandom",
                "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self");

        /** User and group ids; the kernel checks CAP_SETUID / CAP_SETGID itself. */
        static final List<String> IDENTITY = List.of(
                "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
                "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
                "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
                "setresuid", "setresuid32", "setresgid", "setresgid32",
                "setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32");

        static final List<String> SIGNALS = List.of(
                "rt_sigaction", "rt_sigprocmask", "rt_sigpending", "rt_sigsuspend",
                "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                "rt_sigreturn", "sigreturn", "sigprocmask", "sigaltstack", "pause", "alarm");

        /** Reading clocks, sleeping, timers (setting the clock is CAP_SYS_TIME's). */
        static final List<String> TIME = List.of(
                "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
                "clock_nanosleep", "clock_nanosleep_time64", "nanosleep",
                "adjtimex", "clock_adjtime", "clock_adjtime64",
                "getitimer", "setitimer", "timer_create", "timer_delete", "timer_getoverrun",
                "timer_settime", "timer_settime64", "timer_gettime", "timer_gettime64");

        /** Futexes and System V / POSIX IPC (isolated by the IPC namespace). */
        static final List<String> SYNC_AND_IPC = List.of(
                "futex", "futex_time64", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue",
                "ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semtimedop_time64",
                "semctl", "shmget", "shmat", "shmdt", "shmctl",
                "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64",
                "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr");

        /** Sockets other than creating one (socket() has its own rule on the address family). */
        static final List<String> SOCKETS = List.of(
                "socketpair", "socketcall", "bind", "connect", "listen", "accept", "accept4",
                "getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown",
                "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64");

        static final Profile PROFILE = build();

        private static Profile build() {
            List<String> everyone = new ArrayList<>();
            for (List<String> group : List.of(FILE_IO, FILE_SYSTEM, EVENTS, MEMORY, PROCESSES, IDENTITY, SIGNALS,
                    TIME, SYNC_AND_IPC, SOCKETS)) {
                everyone.addAll(group);
            }
            List<Rule> rules = new ArrayList<>();
            rules.add(Rule.allow(everyone));
            rules.add(Rule.allow("ptrace", "process_vm_readv", "process_vm_writev")
                    .onlyWith(new Condition(Set.of(), Set.of(), new KernelVersion(4, 8, 0))));

            // socket(): every family but AF_ALG (38) and AF_VSOCK (40). Conditions in one rule are
            // and-ed, rules are or-ed: < 38, == 39, > 40.
            rules.add(Rule.allow("socket").withArgs(Arg.of(0, AF_ALG, "SCMP_CMP_LT")));
            rules.add(Rule.allow("socket").withArgs(Arg.of(0, AF_ALG + 1, "SCMP_CMP_EQ")));
            rules.add(Rule.allow("socket").withArgs(Arg.of(0, AF_VSOCK, "SCMP_CMP_GT")));

            for (long p : SAFE_PERSONALITIES) {
                rules.add(Rule.allow("personality").withArgs(Arg.of(0, p, "SCMP_CMP_EQ")));
            }

            // Calls that exist only on some architectures.
            rules.add(Rule.allow("arch_prctl").onlyWith(Condition.arches("amd64", "x32")));
            rules.add(Rule.allow("modify_ldt").onlyWith(Condition.arches("amd64", "x32", "x86")));
            rules.add(Rule.allow("uretprobe").onlyWith(Condition.arches("amd64")));
            rules.add(Rule.allow("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                    "cacheflush", "set_tls").onlyWith(Condition.arches("arm", "arm64")));
            rules.add(Rule.allow("sync_file_range2", "swapcontext").onlyWith(Condition.arches("ppc64le")));
            rules.add(Rule.allow("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr")
                    .onlyWith(Condition.arches("s390", "s390x")));
            rules.add(Rule.allow("riscv_flush_icache", "riscv_hwprobe").onlyWith(Condition.arches("riscv64")));

            // clone(): no new namespaces without CAP_SYS_ADMIN. s390 passes the flags second.
            rules.add(Rule.allow("clone").withArgs(Arg.masked(0, CLONE_NAMESPACE_FLAGS, 0))
                    .except(new Condition(Set.of("CAP_SYS_ADMIN"), Set.of("s390", "s390x"), null)));
            rules.add(Rule.allow("clone").withArgs(Arg.masked(1, CLONE_NAMESPACE_FLAGS, 0))
                    .onlyWith(Condition.arches("s390", "s390x")).except(Condition.caps("CAP_SYS_ADMIN")));
            // clone3(): its flags are in memory the filter cannot read; ENOSYS makes libc use clone().
            rules.add(new Rule(List.of("clone3"), "SCMP_ACT_ERRNO", ENOSYS, List.of(), Condition.NONE,
                    Condition.caps("CAP_SYS_ADMIN")));

            // What each capability opens.
            rules.add(Rule.allow("open_by_handle_at").onlyWith(Condition.caps("CAP_DAC_READ_SEARCH")));
            rules.add(Rule.allow(
                    "clone", "clone3", "unshare", "setns",
                    "mount", "umount", "umount2", "pivot_root", "mount_setattr", "move_mount", "open_tree",
                    "fsopen", "fsconfig", "fsmount", "fspick",
                    "sethostname", "setdomainname", "quotactl", "quotactl_fd",
                    "bpf", "perf_event_open", "fanotify_init", "lookup_dcookie", "syslog",
                    "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules")
                    .onlyWith(Condition.caps("CAP_SYS_ADMIN")));
            rules.add(Rule.allow("reboot").onlyWith(Condition.caps("CAP_SYS_BOOT")));
            rules.add(Rule.allow("chroot").onlyWith(Condition.caps("CAP_SYS_CHROOT")));
            rules.add(Rule.allow("init_module", "finit_module", "delete_module").onlyWith(Condition.caps("CAP_SYS_MODULE")));
            rules.add(Rule.allow("acct").onlyWith(Condition.caps("CAP_SYS_PACCT")));
            rules.add(Rule.allow("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
                    "process_madvise").onlyWith(Condition.caps("CAP_SYS_PTRACE")));
            rules.add(Rule.allow("iopl", "ioperm").onlyWith(Condition.caps("CAP_SYS_RAWIO")));
            rules.add(Rule.allow("settimeofday", "stime", "clock_settime", "clock_settime64")
                    .onlyWith(Condition.caps("CAP_SYS_TIME")));
            rules.add(Rule.allow("vhangup").onlyWith(Condition.caps("CAP_SYS_TTY_CONFIG")));
            rules.add(Rule.allow("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node")
                    .onlyWith(Condition.caps("CAP_SYS_NICE")));
            rules.add(Rule.allow("syslog").onlyWith(Condition.caps("CAP_SYSLOG")));
            rules.add(Rule.allow("bpf").onlyWith(Condition.caps("CAP_BPF")));
            rules.add(Rule.allow("perf_event_open").onlyWith(Condition.caps("CAP_PERFMON")));

            Map<String, List<String>> archMap = new LinkedHashMap<>();
            archMap.put("SCMP_ARCH_X86_64", List.of("SCMP_ARCH_X86", "SCMP_ARCH_X32"));
            archMap.put("SCMP_ARCH_AARCH64", List.of("SCMP_ARCH_ARM"));
            archMap.put("SCMP_ARCH_PPC64LE", List.of("SCMP_ARCH_PPC64", "SCMP_ARCH_PPC"));
            archMap.put("SCMP_ARCH_S390X", List.of("SCMP_ARCH_S390"));
            archMap.put("SCMP_ARCH_RISCV64", List.of());
            return new Profile("SCMP_ACT_ERRNO", EPERM, List.of(), archMap, rules, Map.of());
        }
    }
}
