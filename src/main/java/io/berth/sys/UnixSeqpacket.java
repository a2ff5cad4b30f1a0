package io.berth.sys;

import java.io.Closeable;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A client of a unix SOCK_SEQPACKET socket (conmon's attach socket), which the JDK's channels
 * cannot open. Each {@link #send} is one packet and each {@link #receive} returns one packet.
 *
 * <p>One thread may receive while another sends; {@link #close} from any thread wakes both
 * (it shuts the socket down first, then closes the descriptor once no call is inside it).
 * The calls block in native code: a virtual thread that receives is pinned to its carrier
 * while it waits, so run receive loops on a platform thread.
 */
public final class UnixSeqpacket implements Closeable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_SEQPACKET = 5;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int O_PATH = 010000000;
    private static final int O_CLOEXEC = 02000000;
    private static final int O_DIRECTORY = 0200000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SHUT_RD = 0;
    private static final int SHUT_WR = 1;
    private static final int SHUT_RDWR = 2;
    private static final int EINTR = 4;
    private static final int ECONNRESET = 104;
    private static final int SUN_PATH_MAX = 108;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;

    private static final MethodHandle SOCKET = call("socket", FunctionDescriptor.of(INT, INT, INT, INT));
    private static final MethodHandle CONNECT = call("connect", FunctionDescriptor.of(INT, INT, PTR, INT));
    private static final MethodHandle RECV = call("recv", FunctionDescriptor.of(LONG, INT, PTR, LONG, INT));
    private static final MethodHandle SEND = call("send", FunctionDescriptor.of(LONG, INT, PTR, LONG, INT));
    private static final MethodHandle SHUTDOWN = call("shutdown", FunctionDescriptor.of(INT, INT, INT));
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LIBC.find("open").orElseThrow(),
            FunctionDescriptor.of(INT, PTR, INT, INT), Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));

    private static MethodHandle call(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new IllegalStateException("libc lacks " + name)),
                fd, Linker.Option.captureCallState("errno"));
    }

    private final int fd;
    private final String path;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    private UnixSeqpacket(int fd, String path) {
        this.fd = fd;
        this.path = path;
    }

    /**
     * Connects to the socket at {@code path}. A path longer than a socket address holds (107
     * bytes) is reached through its directory's descriptor under /proc/self/fd.
     */
    public static UnixSeqpacket connect(Path path) throws IOException {
        String target = path.toAbsolutePath().toString();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int sock = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
            if (sock < 0) throw fail(state, "create a seqpacket socket for " + target);
            int dirFd = -1;
            boolean ok = false;
            try {
                String address = target;
                if (target.getBytes(StandardCharsets.UTF_8).length >= SUN_PATH_MAX) {
                    Path parent = path.toAbsolutePath().getParent();
                    dirFd = (int) OPEN.invokeExact(state, arena.allocateFrom(parent.toString(), StandardCharsets.UTF_8),
                            O_PATH | O_CLOEXEC | O_DIRECTORY, 0);
                    if (dirFd < 0) throw fail(state, "open " + parent + " to reach the socket " + target);
                    address = "/proc/self/fd/" + dirFd + "/" + path.getFileName();
                    if (address.getBytes(StandardCharsets.UTF_8).length >= SUN_PATH_MAX) {
                        throw new IOException("connect " + target + ": the socket's file name is too long");
                    }
                }
                MemorySegment addr = arena.allocate(2 + SUN_PATH_MAX);
                addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
                byte[] bytes = address.getBytes(StandardCharsets.UTF_8);
                MemorySegment.copy(bytes, 0, addr, ValueLayout.JAVA_BYTE, 2, bytes.length);
                int len = 2 + bytes.length + 1;
                int rc;
                do {
                    rc = (int) CONNECT.invokeExact(state, sock, addr, len);
                } while (rc != 0 && errno(state) == EINTR);
                if (rc != 0) throw fail(state, "connect to " + target);
                ok = true;
                return new UnixSeqpacket(sock, target);
            } finally {
                if (dirFd >= 0) {
                    int ignored = (int) CLOSE.invokeExact(state, dirFd);
                }
                if (!ok) {
                    int ignored = (int) CLOSE.invokeExact(state, sock);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Receives one packet into {@code buf}: its length, or -1 when the peer has closed (or this
     * socket was closed). A packet longer than {@code buf} is cut.
     */
    public int receive(byte[] buf) throws IOException {
        lock.readLock().lock();
        try {
            if (closed.get()) return -1;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(CAPTURE);
                MemorySegment seg = arena.allocate(buf.length);
                long n;
                boolean resetSeen = false;
                while (true) {
                    n = (long) RECV.invokeExact(state, fd, seg, (long) buf.length, 0);
                    if (n >= 0) break;
                    if (errno(state) == EINTR) continue;
                    // A peer that closes with our packets unread in its queue (conmon, when the
                    // container exits before reading all of its stdin) leaves ECONNRESET, which
                    // recv reports once and before the packets still queued for us: read on.
                    if (errno(state) == ECONNRESET && !resetSeen) {
                        resetSeen = true;
                        continue;
                    }
                    break;
                }
                if (n < 0) {
                    if (closed.get()) return -1;
                    throw fail(state, "receive from " + path);
                }
                if (n == 0) return -1;
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) n);
                return (int) n;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Sends {@code len} bytes as one packet. */
    public void send(byte[] data, int off, int len) throws IOException {
        lock.readLock().lock();
        try {
            if (closed.get()) throw new IOException("send to " + path + ": the socket is closed");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(CAPTURE);
                MemorySegment seg = arena.allocate(Math.max(1, len));
                MemorySegment.copy(data, off, seg, ValueLayout.JAVA_BYTE, 0, len);
                long n;
                do {
                    n = (long) SEND.invokeExact(state, fd, seg, (long) len, MSG_NOSIGNAL);
                } while (n < 0 && errno(state) == EINTR);
                if (n < 0) throw fail(state, "send to " + path);
                if (n != len) throw new IOException("send to " + path + ": sent " + n + " of " + len + " bytes");
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Half-closes the socket: the peer reads end-of-file, and packets still come this way. */
    public void shutdownOutput() throws IOException {
        shutdown(SHUT_WR, "shut down the sending side of " + path);
    }

    public void shutdownInput() throws IOException {
        shutdown(SHUT_RD, "shut down the receiving side of " + path);
    }

    private void shutdown(int how, String doing) throws IOException {
        lock.readLock().lock();
        try {
            if (closed.get()) return;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(CAPTURE);
                int rc = (int) SHUTDOWN.invokeExact(state, fd, how);
                if (rc != 0) throw fail(state, doing);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            lock.readLock().unlock();
        }
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** Shuts the socket down (waking a blocked receive or send), then closes its descriptor. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int ignored = (int) SHUTDOWN.invokeExact(state, fd, SHUT_RDWR);
            lock.writeLock().lock();
            try {
                ignored = (int) CLOSE.invokeExact(state, fd);
            } finally {
                lock.writeLock().unlock();
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static Syscalls.ErrnoException fail(MemorySegment state, String doing) {
        return new Syscalls.ErrnoException(doing, errno(state));
    }
}
