package io.berth.cri.stream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.function.Consumer;

/** What the streaming server needs from the engine: run, attach, and reach a pod's port. */
public interface StreamBackend {

    /** A terminal's size, as the client's resize stream sends it. */
    record TerminalSize(int width, int height) {}

    /**
     * The client's streams for one command.
     *
     * @param stdin null when the client sends none
     * @param stdout null when the client reads none
     * @param stderr null when the client reads none (always, with a terminal: it goes to stdout)
     * @param resizes calls its argument with each new terminal size, until the client stops
     *                sending them (returns at once when there is no terminal)
     */
    record Streams(InputStream stdin, OutputStream stdout, OutputStream stderr, Consumer<Consumer<TerminalSize>> resizes) {}

    /** Runs {@code command} in the container with the client's streams; returns its exit code. */
    int exec(String containerId, List<String> command, boolean tty, Streams streams) throws IOException, InterruptedException;

    /** Attaches the client's streams to the container's main process until it ends or the client leaves. */
    void attach(String containerId, boolean tty, Streams streams) throws IOException, InterruptedException;

    /** A connection to {@code port} on the loopback of the pod's network namespace. */
    SocketChannel connect(String podId, int port) throws IOException;
}
