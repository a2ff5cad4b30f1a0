package io.berth.sys;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An open file descriptor and the fd-relative calls made on it: the way to act inside a
 * directory tree that someone else controls (a container's root). Names handed to the
 * {@code ...At} methods are single path components and a final symlink is never followed;
 * longer paths go through {@link #resolve}, which is openat2 scoped to this directory as
 * its root. Nothing here opens, changes or lists a file by a path string from the host.
 */
public final class Fd implements AutoCloseable {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;

    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;

    public static final int ENOENT = 2;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int ELOOP = 40;
    public static final int ENOTEMPTY = 39;
    public static final int EXDEV = 18;

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int AT_REMOVEDIR = 0x200;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final long UTIME_OMIT = (1L << 30) - 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;

    private static final MethodHandle OPENAT = LINKER.downcallHandle(LIBC.find("openat").orElseThrow(),
            FunctionDescriptor.of(INT, INT, PTR, INT, INT), Linker.Option.firstVariadicArg(3), CAPTURE_ERRNO);
    private static final MethodHandle FSTATAT = call("fstatat", FunctionDescriptor.of(INT, INT, PTR, PTR, INT));
    private static final MethodHandle MKDIRAT = call("mkdirat", FunctionDescriptor.of(INT, INT, PTR, INT));
    private static final MethodHandle SYMLINKAT = call("symlinkat", FunctionDescriptor.of(INT, PTR, INT, PTR));
    private static final MethodHandle LINKAT = call("linkat", FunctionDescriptor.of(INT, INT, PTR, INT, PTR, INT));
    private static final MethodHandle UNLINKAT = call("unlinkat", FunctionDescriptor.of(INT, INT, PTR, INT));
    private static final MethodHandle RENAMEAT = call("renameat", FunctionDescriptor.of(INT, INT, PTR, INT, PTR));
    private static final MethodHandle READLINKAT = call("readlinkat", FunctionDescriptor.of(LONG, INT, PTR, PTR, LONG));
    private static final MethodHandle FCHMOD = call("fchmod", FunctionDescriptor.of(INT, INT, INT));
    private static final MethodHandle FCHOWNAT = call("fchownat", FunctionDescriptor.of(INT, INT, PTR, INT, INT, INT));
    private static final MethodHandle UTIMENSAT = call("utimensat", FunctionDescriptor.of(INT, INT, PTR, PTR, INT));
    private static final MethodHandle FUTIMENS = call("futimens", FunctionDescriptor.of(INT, INT, PTR));
    private static final MethodHandle GETDENTS64 = call("getdents64", FunctionDescriptor.of(LONG, INT, PTR, LONG));
    private static final MethodHandle LSEEK = call("lseek", FunctionDescriptor.of(LONG, INT, LONG, INT));
    private static final MethodHandle READ = call("read", FunctionDescriptor.of(LONG, INT, PTR, LONG));
    private static final MethodHandle WRITE = call("write", FunctionDescriptor.of(LONG, INT, PTR, LONG));
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(INT, INT));

    private static MethodHandle call(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new IllegalStateException("libc lacks " + name)), fd, CAPTURE_ERRNO);
    }

    /** What fstat tells; {@code mode} holds the file type bits and the 12 permission bits. */
    public record Stat(long dev, long ino, long nlink, int mode, int uid, int gid, long size, Instant mtime) {
        public boolean isDirectory() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        public boolean isSymlink() {
            return (mode & S_IFMT) == S_IFLNK;
        }

        public boolean isRegular() {
            return (mode & S_IFMT) == S_IFREG;
        }

        public int permissions() {
            return mode & 07777;
        }

        /** Whether {@code other} is the same inode, for checking an open against an earlier look. */
        public boolean sameFile(Stat other) {
            return other != null && dev == other.dev && ino == other.ino;
        }
    }

    private int fd;
    private final String name;

    private Fd(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /** The descriptor number (for mounting onto {@code /proc/self/fd/N} of an O_PATH descriptor). */
    public int number() {
        return fd;
    }

    /** The path this descriptor was opened as, for messages. */
    public String name() {
        return name;
    }

    /** Opens a host path the daemon trusts (the data root, {@code /proc/PID/root}). */
    public static Fd openHost(Path path, int flags) throws IOException {
        return open(AT_FDCWD, path.toString(), flags, 0, path.toString());
    }

    /**
     * Opens {@code path} as if this directory were "/": symlinks are followed but never leave
     * it (RESOLVE_IN_ROOT), and /proc magic links are refused (RESOLVE_NO_MAGICLINKS).
     */
    public Fd resolve(String path, int flags) throws IOException {
        String p = path.isEmpty() ? "." : path;
        int n = Syscalls.openat2(fd, p, flags | O_CLOEXEC, 0,
                Syscalls.RESOLVE_IN_ROOT | Syscalls.RESOLVE_NO_MAGICLINKS);
        return new Fd(n, path);
    }

    /** openat of one name in this directory, never following a final symlink. */
    public Fd openAt(String child, int flags, int mode) throws IOException {
        return open(fd, child, flags | O_NOFOLLOW, mode, join(child));
    }

    private static Fd open(int dirfd, String path, int flags, int mode, String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) OPENAT.invokeExact(state, dirfd, cstr(arena, path), flags | O_CLOEXEC, mode);
            if (rc < 0) throw fail(state, "open " + name);
            return new Fd(rc, name);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private String join(String child) {
        return name.endsWith("/") ? name + child : name + "/" + child;
    }

    /** fstat of this descriptor. */
    public Stat stat() throws IOException {
        return statAt("", AT_EMPTY_PATH, name);
    }

    /** fstatat of one name here, a symlink stat-ed itself. */
    public Stat statAt(String child) throws IOException {
        return statAt(child, AT_SYMLINK_NOFOLLOW, join(child));
    }

    /** Like {@link #statAt} but null when the name does not exist. */
    public Stat statAtOrNull(String child) throws IOException {
        try {
            return statAt(child);
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() == ENOENT) return null;
            throw e;
        }
    }

    private Stat statAt(String path, int flags, String what) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment st = arena.allocate(144, 8);
            int rc = (int) FSTATAT.invokeExact(state, fd, cstr(arena, path), st, flags);
            if (rc != 0) throw fail(state, "stat " + what);
            // struct stat on x86_64 and aarch64's generic layout differ; Berth runs on x86_64
            return new Stat(st.get(LONG, 0), st.get(LONG, 8), st.get(LONG, 16), st.get(INT, 24), st.get(INT, 28),
                    st.get(INT, 32), st.get(LONG, 48), Instant.ofEpochSecond(st.get(LONG, 88), st.get(LONG, 96)));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public void mkdirAt(String child, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) MKDIRAT.invokeExact(state, fd, cstr(arena, child), mode);
            if (rc != 0) throw fail(state, "mkdir " + join(child));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public void symlinkAt(String target, String child) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) SYMLINKAT.invokeExact(state, cstr(arena, target), fd, cstr(arena, child));
            if (rc != 0) throw fail(state, "symlink " + join(child));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** linkat(from, fromName, this, child, 0): a hard link to {@code fromName} itself (a symlink is not followed). */
    public void linkAt(Fd from, String fromName, String child) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) LINKAT.invokeExact(state, from.fd, cstr(arena, fromName), fd, cstr(arena, child), 0);
            if (rc != 0) throw fail(state, "link " + join(child) + " to " + from.join(fromName));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public void unlinkAt(String child, boolean directory) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) UNLINKAT.invokeExact(state, fd, cstr(arena, child), directory ? AT_REMOVEDIR : 0);
            if (rc != 0) throw fail(state, "remove " + join(child));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Removes {@code child} here and, when it is a directory, everything under it, without following any symlink. */
    public void removeTreeAt(String child) throws IOException {
        Stat s = statAtOrNull(child);
        if (s == null) return;
        if (!s.isDirectory()) {
            unlinkAt(child, false);
            return;
        }
        try (Fd dir = openAt(child, O_RDONLY | O_DIRECTORY, 0)) {
            for (String c : dir.list()) dir.removeTreeAt(c);
        }
        unlinkAt(child, true);
    }

    public void renameAt(String from, Fd toDir, String to) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) RENAMEAT.invokeExact(state, fd, cstr(arena, from), toDir.fd, cstr(arena, to));
            if (rc != 0) throw fail(state, "rename " + join(from) + " to " + toDir.join(to));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The target of the symlink {@code child} here. */
    public String readlinkAt(String child) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment buf = arena.allocate(4097);
            long n = (long) READLINKAT.invokeExact(state, fd, cstr(arena, child), buf, 4097L);
            if (n < 0) throw fail(state, "readlink " + join(child));
            if (n > 4096) throw new IOException("readlink " + join(child) + ": target longer than 4096 bytes");
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** fchmod with all 12 bits. Not on an O_PATH descriptor. */
    public void chmod(int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) FCHMOD.invokeExact(state, fd, mode & 07777);
            if (rc != 0) throw fail(state, "chmod " + name + " to 0" + Integer.toOctalString(mode & 07777));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** fchownat(fd, "", AT_EMPTY_PATH): the owner of this very file. */
    public void chown(int uid, int gid) throws IOException {
        chownAt("", uid, gid, AT_EMPTY_PATH, name);
    }

    /** fchownat of one name here, a symlink changed itself. */
    public void chownAt(String child, int uid, int gid) throws IOException {
        chownAt(child, uid, gid, AT_SYMLINK_NOFOLLOW, join(child));
    }

    private void chownAt(String path, int uid, int gid, int flags, String what) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) FCHOWNAT.invokeExact(state, fd, cstr(arena, path), uid, gid, flags);
            if (rc != 0) throw fail(state, "chown " + what + " to " + uid + ":" + gid);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** futimens: this file's modification time (the access time left alone). Not on an O_PATH descriptor. */
    public void setMtime(Instant mtime) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) FUTIMENS.invokeExact(state, fd, times(arena, mtime));
            if (rc != 0) throw fail(state, "set times of " + name);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** utimensat of one name here with AT_SYMLINK_NOFOLLOW: a symlink's own time. */
    public void setMtimeAt(String child, Instant mtime) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) UTIMENSAT.invokeExact(state, fd, cstr(arena, child), times(arena, mtime), AT_SYMLINK_NOFOLLOW);
            if (rc != 0) throw fail(state, "set times of " + join(child));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment times(Arena arena, Instant mtime) {
        MemorySegment t = arena.allocate(LONG, 4);
        t.setAtIndex(LONG, 0, 0);
        t.setAtIndex(LONG, 1, UTIME_OMIT);
        t.setAtIndex(LONG, 2, mtime.getEpochSecond());
        t.setAtIndex(LONG, 3, mtime.getNano());
        return t;
    }

    /** The names in this directory (getdents64 on this descriptor), without "." and "..". */
    public List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long pos = (long) LSEEK.invokeExact(state, fd, 0L, 0);
            if (pos < 0) throw fail(state, "rewind " + name);
            MemorySegment buf = arena.allocate(1 << 15, 8);
            while (true) {
                long n = (long) GETDENTS64.invokeExact(state, fd, buf, buf.byteSize());
                if (n < 0) throw fail(state, "list " + name);
                if (n == 0) break;
                long off = 0;
                while (off < n) {
                    int reclen = Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + 16));
                    String entry = buf.getString(off + 19, StandardCharsets.UTF_8);
                    if (!entry.equals(".") && !entry.equals("..")) names.add(entry);
                    off += reclen;
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        names.sort(null);
        return names;
    }

    /** Reads from this descriptor; the stream does not close it. */
    public InputStream inputStream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) return 0;
                int want = Math.min(len, 1 << 16);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment state = arena.allocate(CAPTURE);
                    MemorySegment buf = arena.allocate(want);
                    long n = (long) READ.invokeExact(state, fd, buf, (long) want);
                    if (n < 0) throw fail(state, "read " + name);
                    if (n == 0) return -1;
                    MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, b, off, (int) n);
                    return (int) n;
                } catch (IOException | RuntimeException | Error e) {
                    throw e;
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            }
        };
    }

    /** Writes to this descriptor; the stream does not close it. */
    public OutputStream outputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment state = arena.allocate(CAPTURE);
                    MemorySegment buf = arena.allocate(Math.max(1, len));
                    MemorySegment.copy(b, off, buf, ValueLayout.JAVA_BYTE, 0, len);
                    long done = 0;
                    while (done < len) {
                        long n = (long) WRITE.invokeExact(state, fd, buf.asSlice(done), (long) len - done);
                        if (n < 0) throw fail(state, "write " + name);
                        done += n;
                    }
                } catch (IOException | RuntimeException | Error e) {
                    throw e;
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            }
        };
    }

    @Override
    public void close() {
        if (fd < 0) return;
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CAPTURE), fd);
        } catch (Throwable ignored) {
            // nothing to do about a failed close
        }
        fd = -1;
    }

    private static MemorySegment cstr(Arena arena, String s) {
        return arena.allocateFrom(s, StandardCharsets.UTF_8);
    }

    private static Syscalls.ErrnoException fail(MemorySegment state, String doing) {
        return new Syscalls.ErrnoException(doing, (int) ERRNO.get(state, 0L));
    }
}
