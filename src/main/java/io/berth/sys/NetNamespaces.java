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
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Named network namespaces: a file that holds a bind mount of a namespace, the way
 * {@code ip netns add} makes them, but in a folder of our choosing. A new namespace is made
 * by unshare(CLONE_NEWNET) on a platform thread of its own that ends right after, so no
 * other thread of the JVM ever runs in it.
 */
public final class NetNamespaces {
    private NetNamespaces() {}

    private static final int CLONE_NEWNET = 0x40000000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle UNSHARE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("unshare").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle SOCKET = LINKER.downcallHandle(
            LINKER.defaultLookup().find("socket").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle IOCTL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("ioctl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
            Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM_CLOEXEC = 2 | 0x80000;
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final short IFF_UP = 0x1;
    /** struct ifreq: a 16-byte name, then a union whose first member here is the short flags. */
    private static final long IFREQ_SIZE = 40;
    private static final long IFREQ_FLAGS = 16;

    /**
     * Makes a new network namespace, brings its loopback up (as every container expects,
     * and in-process: a CNI loopback plugin or an {@code ip} run cost 15-30 ms a start), and
     * pins it at {@code file} (which must not exist).
     */
    public static void create(Path file) throws IOException {
        PrivateFiles.createDirectories(file.toAbsolutePath().getParent());
        Files.createFile(file);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("netns-" + file.getFileName()).unstarted(() -> {
            try {
                unshareNet(file);
                loopbackUp(file);
                Syscalls.mount("/proc/thread-self/ns/net", file.toString(), null, Syscalls.MS_BIND, null);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating network namespace " + file, e);
        }
        Throwable f = failure.get();
        if (f != null) {
            Files.deleteIfExists(file);
            if (f instanceof IOException io) throw io;
            throw new IOException("create network namespace " + file + ": " + f, f);
        }
    }

    private static void unshareNet(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) UNSHARE.invokeExact(state, CLONE_NEWNET);
            if (rc != 0) {
                throw new Syscalls.ErrnoException("unshare(CLONE_NEWNET) for " + file, (int) ERRNO.get(state, 0L));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets IFF_UP on "lo" of the namespace the calling thread is in. */
    private static void loopbackUp(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) SOCKET.invokeExact(state, AF_INET, SOCK_DGRAM_CLOEXEC, 0);
            if (fd < 0) throw new Syscalls.ErrnoException("socket() in the namespace of " + file, (int) ERRNO.get(state, 0L));
            try {
                MemorySegment ifreq = arena.allocate(IFREQ_SIZE);
                ifreq.setString(0, "lo");
                if ((int) IOCTL.invokeExact(state, fd, SIOCGIFFLAGS, ifreq) != 0) {
                    throw new Syscalls.ErrnoException("SIOCGIFFLAGS of lo in " + file, (int) ERRNO.get(state, 0L));
                }
                short flags = ifreq.get(ValueLayout.JAVA_SHORT, IFREQ_FLAGS);
                ifreq.set(ValueLayout.JAVA_SHORT, IFREQ_FLAGS, (short) (flags | IFF_UP));
                if ((int) IOCTL.invokeExact(state, fd, SIOCSIFFLAGS, ifreq) != 0) {
                    throw new Syscalls.ErrnoException("bringing lo up in " + file, (int) ERRNO.get(state, 0L));
                }
            } finally {
                Syscalls.closeQuietly(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** True when {@code file} holds a pinned namespace (is a mount point). */
    public static boolean isPinned(Path file) {
        String p = file.toAbsolutePath().normalize().toString();
        for (MountTable.Entry e : MountTable.read()) {
            if (e.mountPoint().equals(p) && "nsfs".equals(e.fsType())) return true;
        }
        return false;
    }

    /** Unpins and deletes a namespace file; a missing file or a file no longer mounted is fine. */
    public static void remove(Path file) throws IOException {
        try {
            Syscalls.umount2(file.toString(), Syscalls.MNT_DETACH);
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() != Syscalls.EINVAL && e.errno() != Syscalls.ENOENT) throw e;
        }
        try {
            Files.deleteIfExists(file);
        } catch (NoSuchFileException ignored) {
            // gone already
        }
    }
}
