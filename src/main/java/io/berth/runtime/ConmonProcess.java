package io.berth.runtime;

import io.berth.sys.Syscalls;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Starts one conmon and talks to it over its sync and start pipes.
 *
 * <p>conmon wants two extra descriptors: fd 3, where it reports JSON messages
 * ({@code {"data": N, "message": "..."}}: the container's pid, an error, an exec's exit
 * code), and fd 4, from which it reads a byte before it goes on. Java's ProcessBuilder
 * passes only stdin, stdout and stderr, and the JDK closes a child's pipes the moment the
 * child exits, which conmon's first process does at once (it double-forks to outlive us).
 * So the pipes are named FIFOs in the bundle: this JVM opens each one read-write first (an
 * open that never blocks, and it keeps the FIFO alive), starts {@code sh -c 'exec conmon ...
 * 3>SYNC 4<START'} (the JDK's spawn closes every other descriptor of the JVM, so conmon
 * inherits nothing else), opens the sync FIFO read-only for reading, and closes its own
 * read-write end of it once conmon's first process has exited: from then on only conmon
 * holds a writing end, so its death reads as end-of-file rather than a hang.
 */
final class ConmonProcess implements AutoCloseable {
    /** One message from conmon's sync pipe; {@code data} is a pid, an exit code, or negative on failure. */
    record Message(long data, String message) {
        static final Message EOF = new Message(Long.MIN_VALUE, null);

        boolean isEof() {
            return this == EOF;
        }
    }

    /** A line this JVM writes into the sync FIFO to end its own reader. */
    private static final String STOP = "{\"berth\": \"stop reading\"}";

    private final Path dir;
    private final Path syncFifo;
    private final Path startFifo;
    private FileChannel syncHold;
    private FileChannel start;
    private final LinkedBlockingQueue<Message> messages = new LinkedBlockingQueue<>();
    private Process wrapper;

    private ConmonProcess(Path dir) {
        this.dir = dir;
        String tag = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
        this.syncFifo = dir.resolve(".sync-" + tag);
        this.startFifo = dir.resolve(".start-" + tag);
    }

    /**
     * Starts conmon with {@code args}, in {@code dir} (its working directory, where it writes
     * an "oom" file), with the given extra environment, and sends the first start byte.
     */
    static ConmonProcess start(Path conmon, List<String> args, Path dir, Map<String, String> env) throws IOException {
        ConmonProcess p = new ConmonProcess(dir);
        try {
            p.launch(conmon, args, env);
            return p;
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private void launch(Path conmon, List<String> args, Map<String, String> env) throws IOException {
        Syscalls.mknod(syncFifo, Syscalls.S_IFIFO | 0600, 0);
        Syscalls.mknod(startFifo, Syscalls.S_IFIFO | 0600, 0);
        syncHold = FileChannel.open(syncFifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
        start = FileChannel.open(startFifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileInputStream syncIn = new FileInputStream(syncFifo.toFile());
        // A platform thread: a read of a FIFO pins a virtual thread's carrier, and a few such
        // readers at once (parallel starts) starved every other virtual thread of the daemon.
        Thread.ofPlatform().daemon().name("conmon-sync " + dir.getFileName()).start(() -> readMessages(syncIn));

        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c",
                "sync=$1; start=$2; shift 2; exec \"$@\" 3>\"$sync\" 4<\"$start\"", "berth-conmon",
                syncFifo.toString(), startFifo.toString(), conmon.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("conmon.out").toFile()))
                .redirectErrorStream(true);
        pb.environment().put("_OCI_SYNCPIPE", "3");
        pb.environment().put("_OCI_STARTPIPE", "4");
        pb.environment().putAll(env);
        try {
            wrapper = pb.start();
        } catch (IOException e) {
            throw new OciRuntimeException("cannot start conmon (" + conmon + "): " + e.getMessage(), e);
        }
        sendStart();
    }

    private void readMessages(FileInputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) continue;
                if (line.equals(STOP)) break;
                try {
                    JsonNode n = OciSpec.JSON.readTree(line);
                    JsonNode data = n.has("data") ? n.get("data") : n.has("pid") ? n.get("pid") : n.get("exit_code");
                    messages.add(new Message(data == null ? -1 : data.asLong(), n.has("message") ? n.get("message").asString() : null));
                } catch (JacksonException e) {
                    messages.add(new Message(-1, "conmon sent an unreadable message: " + line));
                }
            }
        } catch (IOException ignored) {
            // treated as the end
        } finally {
            messages.add(Message.EOF);
        }
    }

    /** Writes one byte to the start pipe: conmon goes on (first: starts; with --exec-attach, second: runs the exec). */
    void sendStart() throws IOException {
        start.write(ByteBuffer.wrap(new byte[] {'s'}));
    }

    /**
     * Waits for conmon's first process to exit (it exits once it has forked the monitor),
     * then lets go of this JVM's writing end of the sync pipe.
     */
    void awaitForked(Duration timeout) throws IOException {
        try {
            if (!wrapper.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                wrapper.destroyForcibly();
                throw new OciRuntimeException("conmon did not fork within " + timeout.toSeconds() + " s" + outputHint());
            }
        } catch (InterruptedException e) {
            wrapper.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new OciRuntimeException("interrupted while starting conmon");
        } finally {
            closeQuietly(syncHold);
            syncHold = null;
        }
        if (wrapper.exitValue() != 0) {
            throw new OciRuntimeException("conmon failed (exit status " + wrapper.exitValue() + ")" + outputHint());
        }
    }

    /** The next sync message, {@link Message#EOF} when conmon closed the pipe, or null on timeout. */
    Message next(Duration timeout) throws IOException {
        try {
            Message m = messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (m != null && m.isEof()) messages.add(m);
            return m;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OciRuntimeException("interrupted while waiting for conmon");
        }
    }

    /** Waits for the next message with no time limit. */
    Message next() throws InterruptedException {
        Message m = messages.take();
        if (m.isEof()) messages.add(m);
        return m;
    }

    /** What conmon printed before it detached (option errors and the like), as " : text". */
    String outputHint() {
        try {
            Path out = dir.resolve("conmon.out");
            if (!Files.exists(out)) return "";
            String text = Files.readString(out).trim();
            if (text.isEmpty()) return "";
            if (text.length() > 2000) text = text.substring(text.length() - 2000);
            return ": " + text;
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Stops reading the sync pipe, closes the start pipe and removes the FIFOs' names (conmon
     * keeps its ends). Call it once no more messages are wanted.
     */
    @Override
    public void close() {
        try (FileChannel w = FileChannel.open(syncFifo, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            w.write(ByteBuffer.wrap(("\n" + STOP + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException ignored) {
            // the reader is gone already
        }
        closeQuietly(syncHold);
        closeQuietly(start);
        syncHold = null;
        start = null;
        try {
            Files.deleteIfExists(syncFifo);
            Files.deleteIfExists(startFifo);
        } catch (IOException ignored) {
            // leftovers in the bundle only
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception ignored) {
            // nothing to do
        }
    }
}
