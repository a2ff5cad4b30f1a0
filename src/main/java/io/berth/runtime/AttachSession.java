package io.berth.runtime;

import io.berth.sys.UnixSeqpacket;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;

/**
 * A client of conmon's attach socket ({@code BUNDLE/attach}, SOCK_SEQPACKET): the container's
 * output arrives as packets whose first byte names the stream (conmon's numbers: 2 stdout,
 * 3 stderr; with a tty everything is stdout), and each packet sent is written to the container's stdin
 * (only when conmon was started with stdin open).
 *
 * <p>{@link #closeStdin()} half-closes the socket: conmon then closes the container's stdin
 * unless the container keeps it open across attaches (stdinOnce false), and output keeps
 * coming. {@link #close()} detaches. conmon drops a client that does not read fast enough,
 * so read promptly; {@link #pump} does that on its own platform thread with a buffer.
 */
public final class AttachSession implements Closeable {
    /** conmon reads at most 32 KiB of stdin a packet; larger packets would be cut. */
    static final int MAX_STDIN_PACKET = 16 * 1024;
    private static final int MAX_OUTPUT_PACKET = 64 * 1024;
    /** conmon's stdpipe_t: NO_PIPE 0, STDIN_PIPE 1, STDOUT_PIPE 2, STDERR_PIPE 3. */
    private static final int CONMON_STDERR = 3;

    /** The container's standard streams; {@link #number()} is Docker's multiplexed-stream number. */
    public enum StdStream {
        STDIN, STDOUT, STDERR;

        public int number() {
            return ordinal();
        }
    }

    /** A piece of output. */
    public record Frame(StdStream stream, byte[] data) {
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** Where {@link #pump} delivers output; called from one thread, in order. */
    public interface Sink {
        void write(StdStream stream, byte[] data) throws IOException;

        /** Output ended (the container's streams closed, or the session was closed). */
        default void end() {}
    }

    private final UnixSeqpacket socket;
    private final Path dir;
    private final byte[] buf = new byte[MAX_OUTPUT_PACKET];

    private AttachSession(UnixSeqpacket socket, Path dir) {
        this.socket = socket;
        this.dir = dir;
    }

    /** Attaches to the conmon whose bundle (or exec session directory) is {@code dir}. */
    public static AttachSession open(Path dir) throws IOException {
        try {
            return new AttachSession(UnixSeqpacket.connect(dir.resolve("attach")), dir);
        } catch (IOException e) {
            throw new OciRuntimeException("cannot attach to the container: " + e.getMessage()
                    + " (is its conmon still running?)", e);
        }
    }

    /** The next piece of output, or null when the output has ended. Blocks. */
    public Frame read() throws IOException {
        while (true) {
            int n = socket.receive(buf);
            if (n < 0) return null;
            if (n < 2) continue;
            StdStream stream = buf[0] == CONMON_STDERR ? StdStream.STDERR : StdStream.STDOUT;
            return new Frame(stream, Arrays.copyOfRange(buf, 1, n));
        }
    }

    /** Writes to the container's stdin, in packets conmon takes whole. */
    public void writeStdin(byte[] data, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, data.length);
        while (len > 0) {
            int chunk = Math.min(len, MAX_STDIN_PACKET);
            socket.send(data, off, chunk);
            off += chunk;
            len -= chunk;
        }
    }

    public void writeStdin(byte[] data) throws IOException {
        writeStdin(data, 0, data.length);
    }

    /** Ends this client's input: conmon closes the container's stdin (when stdinOnce). */
    public void closeStdin() throws IOException {
        socket.shutdownOutput();
    }

    /** Resizes the container's terminal (tty mode) through conmon's ctl fifo. */
    public void resize(int rows, int cols) throws IOException {
        resize(dir, rows, cols);
    }

    /**
     * Resizes the terminal of the conmon whose bundle or exec directory is {@code dir}: writes
     * "1 ROWS COLS\n" (message 1, a window resize) to its ctl fifo. The fifo is opened read-write
     * so that this never blocks, even when conmon is gone.
     */
    public static void resize(Path dir, int rows, int cols) throws IOException {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("terminal size must be positive: " + rows + "x" + cols);
        byte[] msg = ("1 " + rows + " " + cols + "\n").getBytes(StandardCharsets.US_ASCII);
        try (FileChannel ch = FileChannel.open(dir.resolve("ctl"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(msg));
        }
    }

    /** Detaches: the container keeps running. */
    @Override
    public void close() {
        socket.close();
    }

    public boolean isClosed() {
        return socket.isClosed();
    }

    /**
     * Reads output on a platform thread into a buffer (up to {@code maxBuffered} bytes) that
     * another thread drains into {@code sink}, so a slow sink does not make conmon drop this
     * client. {@link Sink#end()} follows the last output. Returns the reading thread.
     */
    public Thread pump(Sink sink, int maxBuffered) {
        Buffer buffer = new Buffer(maxBuffered);
        Thread reader = Thread.ofPlatform().daemon().name("attach-read " + dir.getFileName()).start(() -> {
            try {
                Frame f;
                while ((f = read()) != null) buffer.put(f);
            } catch (IOException | InterruptedException ignored) {
                // the end
            } finally {
                buffer.finish();
            }
        });
        Thread.ofVirtual().name("attach-deliver " + dir.getFileName()).start(() -> {
            try {
                Frame f;
                while ((f = buffer.take()) != null) sink.write(f.stream(), f.data());
            } catch (IOException | InterruptedException e) {
                close();
            } finally {
                sink.end();
            }
        });
        return reader;
    }

    /** A queue of frames bounded by their total size. */
    private static final class Buffer {
        private final ArrayDeque<Frame> frames = new ArrayDeque<>();
        private final long max;
        private long size;
        private boolean finished;

        Buffer(long max) {
            this.max = max;
        }

        synchronized void put(Frame f) throws InterruptedException {
            while (size > 0 && size + f.data().length > max) wait();
            frames.add(f);
            size += f.data().length;
            notifyAll();
        }

        synchronized void finish() {
            finished = true;
            notifyAll();
        }

        synchronized Frame take() throws InterruptedException {
            while (frames.isEmpty() && !finished) wait();
            Frame f = frames.poll();
            if (f != null) {
                size -= f.data().length;
                notifyAll();
            }
            return f;
        }
    }
}
