package io.berth.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Thin bindings to the Linux system calls Berth needs, through java.lang.foreign.
 * Every failure is an {@link IOException} naming the call, the path and the errno text.
 */
public final class Syscalls {
    private Syscalls() {}

    // mount(2) flags
    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_REMOUNT = 32;
    public static final long MS_BIND = 4096;
    public static final long MS_MOVE = 8192;
    public static final long MS_REC = 16384;
    public static final long MS_PRIVATE = 1 << 18;
    public static final long MS_SLAVE = 1 << 19;
    public static final long MS_SHARED = 1 << 20;
    // umount2(2) flags
    public static final int MNT_FORCE = 1;
    public static final int MNT_DETACH = 2;
    // mknod(2) file types (st_mode bits)
    public static final int S_IFIFO = 0010000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFREG = 0100000;
    // errno values callers test
    public static final int ENOENT = 2;
    public static final int EPERM = 1;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int ENODATA = 61;
    public static final int ERANGE = 34;
    public static final int ENOTSUP = 95;

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final long UTIME_OMIT = (1L << 30) - 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;

    private static final MethodHandle MOUNT = errnoCall("mount", FunctionDescriptor.of(INT, PTR, PTR, PTR, LONG, PTR));
    private static final MethodHandle UMOUNT2 = errnoCall("umount2", FunctionDescriptor.of(INT, PTR, INT));
    private static final MethodHandle MKNOD = errnoCall("mknod", FunctionDescriptor.of(INT, PTR, INT, LONG));
    private static final MethodHandle LSETXATTR = errnoCall("lsetxattr", FunctionDescriptor.of(INT, PTR, PTR, PTR, LONG, INT));
    private static final MethodHandle LGETXATTR = errnoCall("lgetxattr", FunctionDescriptor.of(LONG, PTR, PTR, PTR, LONG));
    private static final MethodHandle LLISTXATTR = errnoCall("llistxattr", FunctionDescriptor.of(LONG, PTR, PTR, LONG));
    private static final MethodHandle FSOPEN = errnoCall("fsopen", FunctionDescriptor.of(INT, PTR, INT));
    private static final MethodHandle FSCONFIG = errnoCall("fsconfig", FunctionDescriptor.of(INT, INT, INT, PTR, PTR, INT));
    private static final MethodHandle FSMOUNT = errnoCall("fsmount", FunctionDescriptor.of(INT, INT, INT, INT));
    private static final MethodHandle MOVE_MOUNT = errnoCall("move_mount", FunctionDescriptor.of(INT, INT, PTR, INT, PTR, INT));
    private static final MethodHandle CLOSE = errnoCall("close", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle CHMOD = errnoCall("chmod", FunctionDescriptor.of(INT, PTR, INT));
    private static final MethodHandle LCHOWN = errnoCall("lchown", FunctionDescriptor.of(INT, PTR, INT, INT));
    private static final MethodHandle UTIMENSAT = errnoCall("utimensat", FunctionDescriptor.of(INT, INT, PTR, PTR, INT));
    /** syscall(2) with four arguments, for calls glibc may lack a wrapper of (pidfd_open, pidfd_send_signal). */
    private static final MethodHandle SYSCALL4 = LINKER.downcallHandle(LIBC.find("syscall").orElseThrow(),
            FunctionDescriptor.of(LONG, LONG, LONG, LONG, LONG, LONG), Linker.Option.firstVariadicArg(1), CAPTURE_ERRNO);
    /** The same number on every architecture: both came after the syscall tables were unified. */
    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final long SYS_PIDFD_OPEN = 434;
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.find("strerror").orElseThrow(), FunctionDescriptor.of(PTR, INT));

    private static MethodHandle errnoCall(String name, FunctionDescriptor fd) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new IllegalStateException("libc lacks " + name));
        return LINKER.downcallHandle(symbol, fd, CAPTURE_ERRNO);
    }

    /** An errno failure of a system call; {@link #errno()} lets callers tell ENOENT from EPERM. */
    public static final class ErrnoException extends IOException {
        private final int errno;

        public ErrnoException(String doing, int errno) {
            super(doing + ": " + strerror(errno) + " (errno " + errno + ")");
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    /** The C library's text for an errno value. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /**
     * Sends {@code signal} to process {@code pid} if its cgroup membership names {@code cgroupMark}:
     * through a pidfd, so a pid reused between the check and the signal is not hit. False when
     * the process is gone or is not the one meant; the caller then asks the runtime.
     */
    public static boolean signalIfInCgroup(long pid, String cgroupMark, int signal) {
        if (pid <= 0) return false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) (long) SYSCALL4.invokeExact(state, SYS_PIDFD_OPEN, pid, 0L, 0L, 0L);
            if (fd < 0) return false;
            try {
                String cgroups = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/cgroup"));
                if (!cgroups.contains(cgroupMark)) return false;
                long rc = (long) SYSCALL4.invokeExact(state, SYS_PIDFD_SEND_SIGNAL, (long) fd, (long) signal, 0L, 0L);
                return rc == 0;
            } finally {
                closeQuietly(fd);
            }
        } catch (Error e) {
            throw e;
        } catch (Throwable t) {
            return false; // the process went away with its /proc entry, or a call failed: the runtime tries
        }
    }

    /** close(2), its result ignored: for descriptors opened and dropped in one method. */
    static void closeQuietly(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CAPTURE), fd);
        } catch (Throwable ignored) {
            // nothing to do about a failed close
        }
    }

    public static long makedev(int major, int minor) {
        long ma = major & 0xffffffffL;
        long mi = minor & 0xffffffffL;
        return ((ma & 0x00000fffL) << 8) | ((ma & 0xfffff000L) << 32)
                | (mi & 0x000000ffL) | ((mi & 0xffffff00L) << 12);
    }

    public static int major(long dev) {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0x00000fffL));
    }

    public static int minor(long dev) {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0x000000ffL));
    }

    public static void mount(String source, String target, String fstype, long flags, String data) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment src = cstr(arena, source);
            MemorySegment tgt = cstr(arena, target);
            MemorySegment fs = cstr(arena, fstype);
            MemorySegment dat = cstr(arena, data);
            int rc = (int) MOUNT.invokeExact(state, src, tgt, fs, flags, dat);
            if (rc != 0) {
                throw fail(state, "mount " + (fstype == null ? "" : fstype + " ") + source + " on " + target
                        + (data == null || data.isEmpty() ? "" : " with options " + abbreviate(data)));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** umount2(2); off the carrier for a virtual thread (see {@link OffCarrier}). */
    public static void umount2(String target, int flags) throws IOException {
        OffCarrier.run(() -> umount2Here(target, flags));
    }

    private static void umount2Here(String target, int flags) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment tgt = cstr(arena, target);
            int rc = (int) UMOUNT2.invokeExact(state, tgt, flags);
            if (rc != 0) throw fail(state, "umount " + target);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Mounts a filesystem through the new mount API (fsopen, fsconfig, fsmount, move_mount),
     * which passes each option on its own and so has no 4096-byte limit on the option string:
     * overlayfs takes any number of {@code lowerdir+} options (Linux 6.8+). An option
     * {@code key=value} is set as a string, a bare {@code key} as a flag; values are not split
     * on commas. {@code readOnly} makes the mount read-only.
     */
    public static void fsmount(String fstype, String source, List<String> options, String target, boolean readOnly) throws IOException {
        final int setFlag = 0;
        final int setString = 1;
        final int cmdCreate = 6;
        final int cloexec = 1;
        final int mountAttrRdonly = 0x1;
        final int moveMountFEmptyPath = 0x4;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            String doing = "mount " + fstype + " on " + target;
            int fsfd = (int) FSOPEN.invokeExact(state, cstr(arena, fstype), cloexec);
            if (fsfd < 0) throw fail(state, doing + ": fsopen");
            int mfd = -1;
            try {
                List<String> all = new ArrayList<>();
                if (source != null) all.add("source=" + source);
                all.addAll(options);
                for (String o : all) {
                    int eq = o.indexOf('=');
                    MemorySegment key = cstr(arena, eq < 0 ? o : o.substring(0, eq));
                    MemorySegment value = eq < 0 ? MemorySegment.NULL : cstr(arena, o.substring(eq + 1));
                    int cmd = eq < 0 ? setFlag : setString;
                    int aux = 0;
                    int rc = (int) FSCONFIG.invokeExact(state, fsfd, cmd, key, value, aux);
                    if (rc != 0) throw fail(state, doing + ": option " + abbreviate(o));
                }
                MemorySegment none = MemorySegment.NULL;
                int zero = 0;
                int rc = (int) FSCONFIG.invokeExact(state, fsfd, cmdCreate, none, none, zero);
                if (rc != 0) throw fail(state, doing + " with " + all.size() + " options");
                int attrs = readOnly ? mountAttrRdonly : 0;
                mfd = (int) FSMOUNT.invokeExact(state, fsfd, cloexec, attrs);
                if (mfd < 0) throw fail(state, doing + ": fsmount");
                int atCwd = AT_FDCWD;
                int flags = moveMountFEmptyPath;
                rc = (int) MOVE_MOUNT.invokeExact(state, mfd, cstr(arena, ""), atCwd, cstr(arena, target), flags);
                if (rc != 0) throw fail(state, doing + ": move_mount");
            } finally {
                if (mfd >= 0) {
                    int ignored = (int) CLOSE.invokeExact(state, mfd);
                }
                int ignored = (int) CLOSE.invokeExact(state, fsfd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** mknod(2): {@code mode} holds the file type (S_IFCHR, S_IFBLK, S_IFIFO) and permission bits. */
    public static void mknod(Path path, int mode, long dev) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment p = cstr(arena, path.toString());
            int rc = (int) MKNOD.invokeExact(state, p, mode, dev);
            if (rc != 0) {
                throw fail(state, "mknod " + path + " (mode 0" + Integer.toOctalString(mode)
                        + ", device " + major(dev) + ":" + minor(dev) + ")");
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** lsetxattr(2) with flags 0 (create or replace); the value is written byte for byte. */
    public static void lsetxattr(Path path, String name, byte[] value) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment p = cstr(arena, path.toString());
            MemorySegment n = cstr(arena, name);
            MemorySegment v = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
            long len = value.length;
            int flags = 0;
            int rc = (int) LSETXATTR.invokeExact(state, p, n, v, len, flags);
            if (rc != 0) throw fail(state, "set xattr " + name + " on " + path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** lgetxattr(2): the value's bytes, or null when the file has no such attribute (ENODATA). */
    public static byte[] lgetxattr(Path path, String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = cstr(arena, path.toString());
            MemorySegment n = cstr(arena, name);
            for (int attempt = 0; attempt < 8; attempt++) {
                MemorySegment state = arena.allocate(CAPTURE);
                long size = (long) LGETXATTR.invokeExact(state, p, n, MemorySegment.NULL, 0L);
                if (size < 0) {
                    int errno = (int) ERRNO.get(state, 0L);
                    if (errno == ENODATA) return null;
                    throw new ErrnoException("get xattr " + name + " of " + path, errno);
                }
                MemorySegment buf = arena.allocate(Math.max(1, size));
                long got = (long) LGETXATTR.invokeExact(state, p, n, buf, size);
                if (got < 0) {
                    int errno = (int) ERRNO.get(state, 0L);
                    if (errno == ERANGE) continue; // grew in between
                    if (errno == ENODATA) return null;
                    throw new ErrnoException("get xattr " + name + " of " + path, errno);
                }
                return buf.asSlice(0, got).toArray(ValueLayout.JAVA_BYTE);
            }
            throw new IOException("get xattr " + name + " of " + path + ": value keeps changing size");
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** llistxattr(2): the attribute names of the file itself (a symlink is not followed). */
    public static List<String> llistxattr(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = cstr(arena, path.toString());
            for (int attempt = 0; attempt < 8; attempt++) {
                MemorySegment state = arena.allocate(CAPTURE);
                long size = (long) LLISTXATTR.invokeExact(state, p, MemorySegment.NULL, 0L);
                if (size < 0) throw fail(state, "list xattrs of " + path);
                if (size == 0) return List.of();
                MemorySegment buf = arena.allocate(size);
                long got = (long) LLISTXATTR.invokeExact(state, p, buf, size);
                if (got < 0) {
                    if ((int) ERRNO.get(state, 0L) == ERANGE) continue;
                    throw fail(state, "list xattrs of " + path);
                }
                byte[] raw = buf.asSlice(0, got).toArray(ValueLayout.JAVA_BYTE);
                List<String> names = new ArrayList<>();
                int start = 0;
                for (int i = 0; i < raw.length; i++) {
                    if (raw[i] == 0) {
                        if (i > start) names.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                        start = i + 1;
                    }
                }
                return names;
            }
            throw new IOException("list xattrs of " + path + ": list keeps changing size");
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** chmod(2) with all 12 mode bits (setuid, setgid, sticky), which java.nio cannot set. Follows symlinks. */
    public static void chmod(Path path, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment p = cstr(arena, path.toString());
            int m = mode & 07777;
            int rc = (int) CHMOD.invokeExact(state, p, m);
            if (rc != 0) throw fail(state, "chmod " + path + " to 0" + Integer.toOctalString(m));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void lchown(Path path, int uid, int gid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment p = cstr(arena, path.toString());
            int rc = (int) LCHOWN.invokeExact(state, p, uid, gid);
            if (rc != 0) throw fail(state, "chown " + path + " to " + uid + ":" + gid);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * utimensat(AT_FDCWD, path, {atime, mtime}, AT_SYMLINK_NOFOLLOW): sets the times of the
     * file itself, also of a symlink. A null {@code atime} leaves the access time alone.
     */
    public static void utimensat(Path path, java.time.Instant atime, java.time.Instant mtime) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment p = cstr(arena, path.toString());
            MemorySegment times = arena.allocate(LONG, 4);
            if (atime == null) {
                times.setAtIndex(LONG, 0, 0);
                times.setAtIndex(LONG, 1, UTIME_OMIT);
            } else {
                times.setAtIndex(LONG, 0, atime.getEpochSecond());
                times.setAtIndex(LONG, 1, atime.getNano());
            }
            times.setAtIndex(LONG, 2, mtime.getEpochSecond());
            times.setAtIndex(LONG, 3, mtime.getNano());
            int dirfd = AT_FDCWD;
            int flags = AT_SYMLINK_NOFOLLOW;
            int rc = (int) UTIMENSAT.invokeExact(state, dirfd, p, times, flags);
            if (rc != 0) throw fail(state, "set times of " + path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** openat2(2)'s resolve flags (struct open_how.resolve). */
    public static final long RESOLVE_NO_XDEV = 0x01;
    public static final long RESOLVE_NO_MAGICLINKS = 0x02;
    public static final long RESOLVE_NO_SYMLINKS = 0x04;
    public static final long RESOLVE_BENEATH = 0x08;
    public static final long RESOLVE_IN_ROOT = 0x10;
    private static final long SYS_OPENAT2 = 437; // x86_64 and aarch64 alike (unified numbering)
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;

    /**
     * openat2(2): opens {@code path} relative to {@code dirfd} with struct open_how
     * {flags, mode, resolve}; the new descriptor. EAGAIN (a rename or mount raced a scoped
     * lookup) and EINTR are retried, as the man page asks.
     */
    public static int openat2(int dirfd, String path, long flags, long mode, long resolve) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment p = cstr(arena, path);
            MemorySegment how = arena.allocate(LONG, 3);
            how.setAtIndex(LONG, 0, flags);
            how.setAtIndex(LONG, 1, mode);
            how.setAtIndex(LONG, 2, resolve);
            for (int attempt = 0; ; attempt++) {
                long rc = (long) SYSCALL4.invokeExact(state, SYS_OPENAT2, (long) dirfd, p.address(), how.address(), 24L);
                if (rc >= 0) return (int) rc;
                int errno = (int) ERRNO.get(state, 0L);
                if ((errno == EAGAIN || errno == EINTR) && attempt < 64) continue;
                throw new ErrnoException("open " + path, errno);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment cstr(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s, StandardCharsets.UTF_8);
    }

    private static ErrnoException fail(MemorySegment state, String doing) {
        return new ErrnoException(doing, (int) ERRNO.get(state, 0L));
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "... (" + s.length() + " bytes)";
    }
}
