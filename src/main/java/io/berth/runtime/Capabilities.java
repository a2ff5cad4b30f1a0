package io.berth.runtime;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Linux capability names and Docker's rules for --cap-add, --cap-drop and --privileged. */
public final class Capabilities {
    private Capabilities() {}

    /** Every capability by number (capability.h): index i is capability i. */
    public static final List<String> ALL = List.of(
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
            "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
            "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
            "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");

    /** The 14 capabilities a Docker container gets by default, in Docker's order. */
    public static final List<String> DOCKER_DEFAULT = List.of(
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
            "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
            "CAP_AUDIT_WRITE");

    /** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name CAP_NET_ADMIN; "all" is ALL. */
    public static String normalize(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        if (n.equals("ALL")) return n;
        if (!n.startsWith("CAP_")) n = "CAP_" + n;
        if (!ALL.contains(n)) throw new IllegalArgumentException("unknown capability: \"" + n + "\"");
        return n;
    }

    /** The capabilities whose bits are set in a hex mask as /proc/PID/status shows them (CapBnd). */
    public static Set<String> fromMask(String hex) {
        long mask = Long.parseUnsignedLong(hex.trim(), 16);
        Set<String> caps = new LinkedHashSet<>();
        for (int i = 0; i < ALL.size() && i < 64; i++) {
            if ((mask & (1L << i)) != 0) caps.add(ALL.get(i));
        }
        return caps;
    }

    /**
     * Docker's TweakCapabilities: privileged gets all; cap-add ALL gets all but the dropped;
     * cap-drop ALL gets only the added; otherwise the defaults minus the dropped plus the added.
     * The result is cut to {@code available} (what the daemon itself holds: a runtime cannot
     * grant a capability its caller lacks); asking by name for a missing one is an error.
     */
    public static List<String> resolve(List<String> capAdd, List<String> capDrop, boolean privileged, Set<String> available) {
        List<String> add = capAdd.stream().map(Capabilities::normalize).toList();
        List<String> drop = capDrop.stream().map(Capabilities::normalize).toList();
        Set<String> caps = new LinkedHashSet<>();
        if (privileged) {
            caps.addAll(ALL);
        } else if (add.contains("ALL")) {
            for (String c : ALL) if (!drop.contains(c)) caps.add(c);
        } else if (drop.contains("ALL")) {
            caps.addAll(add);
        } else {
            for (String c : DOCKER_DEFAULT) if (!drop.contains(c)) caps.add(c);
            caps.addAll(add);
        }
        List<String> result = new ArrayList<>();
        for (String c : caps) {
            if (available.contains(c)) {
                result.add(c);
            } else if (add.contains(c)) {
                throw new IllegalArgumentException("capability " + c + " cannot be added: this daemon does not hold it");
            }
        }
        return result;
    }
}
