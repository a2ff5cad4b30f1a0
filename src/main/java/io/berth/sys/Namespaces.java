package io.berth.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * UTS and IPC namespaces held by files (a bind mount of their nsfs entry), as a pod's are:
 * made by unshare() on a platform thread of their own that ends right after, so no other
 * thread of the JVM ever runs in them. The same thread sets the pod's hostname and writes
 * its namespaced sysctls (the IPC ones in the new IPC namespace; the network ones after
 * joining the pod's network namespace), since /proc/sys answers for the namespaces of the
 * thread that opens it.
 */
public final class Namespaces {
    private Namespaces() {}

    private static final int CLONE_NEWUTS = 0x04000000;
    private static final int CLONE_NEWIPC = 0x08000000;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle UNSHARE = call("unshare", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SETNS = call("setns",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SETHOSTNAME = call("sethostname",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle OPEN = call("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    /** A sysctl name: dotted words, nothing that could leave /proc/sys. */
    private static final Pattern SYSCTL = Pattern.compile("[a-z0-9_]+(\\.[a-zA-Z0-9_\\-]+)+");

    private static MethodHandle call(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d, Linker.Option.captureCallState("errno"));
    }

    /** Which namespace a sysctl belongs to, as the kernel scopes it; null: the host's alone. */
    public enum SysctlScope { NETWORK, IPC }

    /**
     * The namespace a sysctl is scoped to, or null when it is the host's (those a pod may not set):
     * {@code net.*} and the System V IPC and POSIX message queue ones, as runc allows them.
     */
    public static SysctlScope scopeOf(String name) {
        if (!SYSCTL.matcher(name).matches()) return null;
        if (name.startsWith("net.")) return SysctlScope.NETWORK;
        if (name.startsWith("fs.mqueue.") || name.equals("kernel.sem") || name.startsWith("kernel.shm") || name.startsWith("kernel.msg")) {
            return SysctlScope.IPC;
        }
        return null;
    }

    /**
     * What {@link #pin} makes.
     *
     * @param uts the file to hold a new UTS namespace, or null for none
     * @param ipc the file to hold a new IPC namespace, or null for none
     * @param hostname set in the new UTS namespace (empty: left as the host's name)
     * @param netns a pinned network namespace the {@code net.*} sysctls are written in, or null
     * @param sysctls namespaced sysctls (see {@link #scopeOf}), written in order
     */
    public record Pin(Path uts, Path ipc, String hostname, Path netns, Map<String, String> sysctls) {}

    /** Makes and pins the namespaces {@code p} asks for; on failure nothing is left pinned. */
    public static void pin(Pin p) throws IOException {
        List<Path> files = new ArrayList<>();
        if (p.uts() != null) files.add(p.uts());
        if (p.ipc() != null) files.add(p.ipc());
        for (Path f : files) {
            PrivateFiles.createDirectories(f.toAbsolutePath().getParent());
            Files.deleteIfExists(f);
            Files.createFile(f);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("pin-namespaces").unstarted(() -> {
            try {
                inThread(p);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure.compareAndSet(null, e);
        }
        Throwable f = failure.get();
        if (f != null) {
            for (Path file : files) unpin(file);
            if (f instanceof IOException io) throw io;
            throw new IOException("pinning namespaces: " + f, f);
        }
    }

    private static void inThread(Pin p) throws Throwable {
        int flags = (p.uts() != null ? CLONE_NEWUTS : 0) | (p.ipc() != null ? CLONE_NEWIPC : 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            if (flags != 0 && (int) UNSHARE.invokeExact(state, flags) != 0) {
                throw new Syscalls.ErrnoException("unshare(UTS|IPC)", (int) ERRNO.get(state, 0L));
            }
            if (p.uts() != null && p.hostname() != null && !p.hostname().isEmpty()) {
                byte[] name = p.hostname().getBytes(StandardCharsets.UTF_8);
                MemorySegment s = arena.allocateFrom(p.hostname());
                if ((int) SETHOSTNAME.invokeExact(state, s, (long) name.length) != 0) {
                    throw new Syscalls.ErrnoException("sethostname(" + p.hostname() + ")", (int) ERRNO.get(state, 0L));
                }
            }
            // IPC sysctls first: the thread is in the new IPC namespace, and still in the host's network one.
            writeSysctls(p.sysctls(), SysctlScope.IPC, p.ipc() != null);
            if (p.uts() != null) Syscalls.mount("/proc/thread-self/ns/uts", p.uts().toString(), null, Syscalls.MS_BIND, null);
            if (p.ipc() != null) Syscalls.mount("/proc/thread-self/ns/ipc", p.ipc().toString(), null, Syscalls.MS_BIND, null);
            if (p.netns() != null) {
                int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(p.netns().toString()), O_RDONLY_CLOEXEC);
                if (fd < 0) throw new Syscalls.ErrnoException("open " + p.netns(), (int) ERRNO.get(state, 0L));
                try {
                    if ((int) SETNS.invokeExact(state, fd, CLONE_NEWNET) != 0) {
                        throw new Syscalls.ErrnoException("setns into " + p.netns(), (int) ERRNO.get(state, 0L));
                    }
                } finally {
                    Syscalls.closeQuietly(fd);
                }
            }
            writeSysctls(p.sysctls(), SysctlScope.NETWORK, p.netns() != null);
        }
    }

    private static void writeSysctls(Map<String, String> sysctls, SysctlScope scope, boolean ownNamespace) throws IOException {
        for (Map.Entry<String, String> e : sysctls.entrySet()) {
            SysctlScope s = scopeOf(e.getKey());
            if (s == null) throw new IllegalArgumentException("sysctl " + e.getKey() + " is not namespaced: a pod cannot set it");
            if (s != scope) continue;
            // without a namespace of its own the write would change the host
            if (!ownNamespace) throw new IllegalArgumentException("sysctl " + e.getKey() + " needs the pod's own namespace");
            Path file = Path.of("/proc/sys", e.getKey().replace('.', '/'));
            try {
                Files.writeString(file, e.getValue());
            } catch (IOException x) {
                throw new IOException("sysctl " + e.getKey() + "=" + e.getValue() + ": " + x.getMessage(), x);
            }
        }
    }

    /**
     * A TCP connection made from inside the network namespace pinned at {@code netns} (a
     * socket belongs to the namespace it was made in, wherever it is used afterwards), by a
     * platform thread that joins the namespace and ends right after.
     */
    public static java.nio.channels.SocketChannel connectIn(Path netns, java.net.InetSocketAddress address) throws IOException {
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("connect-in-netns").unstarted(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(CAPTURE);
                int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(netns.toString()), O_RDONLY_CLOEXEC);
                if (fd < 0) throw new Syscalls.ErrnoException("open " + netns, (int) ERRNO.get(state, 0L));
                try {
                    if ((int) SETNS.invokeExact(state, fd, CLONE_NEWNET) != 0) {
                        throw new Syscalls.ErrnoException("setns into " + netns, (int) ERRNO.get(state, 0L));
                    }
                } finally {
                    Syscalls.closeQuietly(fd);
                }
                result.set(java.nio.channels.SocketChannel.open(address));
            } catch (Throwable e) {
                result.set(e);
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while connecting in " + netns);
        }
        return switch (result.get()) {
            case java.nio.channels.SocketChannel c -> c;
            case IOException e -> throw e;
            case Throwable e -> throw new IOException("connect to " + address + " in " + netns + ": " + e, e);
            default -> throw new IOException("connect to " + address + " in " + netns + ": no result");
        };
    }

    /** Unpins and deletes a namespace file; a missing file or one no longer mounted is fine. */
    public static void unpin(Path file) throws IOException {
        try {
            Syscalls.umount2(file.toString(), Syscalls.MNT_DETACH);
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() != Syscalls.EINVAL && e.errno() != Syscalls.ENOENT) throw e;
        }
        Files.deleteIfExists(file);
    }
}
