package io.berth.testing;

import io.berth.network.NetworkService;
import io.berth.sys.FileTrees;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real berthd in its own JVM, on a temp data root and a temp unix socket, started from the
 * test class path. Closing it stops the daemon (SIGTERM, then SIGKILL) and deletes its files.
 */
public final class BerthdProcess implements AutoCloseable {
    private final Path dir;
    private final Path socket;
    private final Path log;
    private final Process process;
    private boolean closed;

    /** Daemons of this JVM not yet closed: the last one alive to close hands the default bridge back. */
    private static final Set<BerthdProcess> OPEN = ConcurrentHashMap.newKeySet();
    /** Whether the host had Berth's default bridge before the first daemon of this JVM. */
    private static final boolean DEFAULT_BRIDGE_BEFORE = Files.exists(Path.of("/sys/class/net", NetworkService.Options.DEFAULT_BRIDGE));
    /** Whether the host had the CNI portmap plugin's shared nat chains before the first daemon of this JVM. */
    private static final boolean PORTMAP_CHAINS_BEFORE = HostNet.iptables().stream().anyMatch(l -> l.startsWith(":CNI-HOSTPORT-DNAT"));
    /** The cgroup folders (controller/name) the host had before the first daemon of this JVM. */
    private static final Set<Path> CGROUPS_BEFORE = topCgroups();

    private BerthdProcess(Path dir, Path socket, Path log, Process process) {
        this.dir = dir;
        this.socket = socket;
        this.log = log;
        this.process = process;
    }

    /** Starts a daemon with default flags plus {@code extraArgs}, and waits for /_ping. */
    public static BerthdProcess start(String... extraArgs) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("berthd-test");
        return start(dir, extraArgs);
    }

    public static BerthdProcess start(Path dir, String... extraArgs) throws IOException, InterruptedException {
        BerthdProcess p = launch(dir, extraArgs);
        p.awaitPing(Duration.ofSeconds(20));
        return p;
    }

    /** Starts the daemon without waiting: for tests of daemons that must refuse to start. */
    public static BerthdProcess launch(Path dir, String... extraArgs) throws IOException {
        Path socket = dir.resolve("berth.sock");
        Path log = dir.resolve("berthd.log");
        List<String> command = new ArrayList<>(javaCommand());
        command.addAll(List.of("daemon",
                "--data-root", dir.resolve("root").toString(),
                "--exec-root", dir.resolve("run").toString(),
                "--config-file", emptyConfig(dir).toString(),
                "-H", "unix://" + socket));
        command.addAll(List.of(extraArgs));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        BerthdProcess p = new BerthdProcess(dir, socket, log, process);
        OPEN.add(p);
        return p;
    }

    /** The command that runs io.berth.Main from the class path these tests run on. */
    public static List<String> javaCommand() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return List.of(java.toString(), "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.berth.Main");
    }

    private static Path emptyConfig(Path dir) throws IOException {
        Path config = dir.resolve("daemon.json");
        if (!Files.exists(config)) Files.writeString(config, "{}\n");
        return config;
    }

    public void awaitPing(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IOException("berthd exited with " + process.exitValue() + ":\n" + log());
            if (Files.exists(socket)) {
                try {
                    if (httpGet("/_ping").startsWith("HTTP/1.1 200")) return;
                } catch (IOException notYet) {
                    // not listening yet
                }
            }
            Thread.sleep(20);
        }
        throw new IOException("berthd did not answer /_ping in " + timeout + ":\n" + log());
    }

    /** A raw HTTP/1.0-style GET over the socket; returns the whole answer, head and body. */
    public String httpGet(String path) throws IOException {
        return raw("GET " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n");
    }

    /** Sends {@code request} as is and reads the answer until the daemon closes. */
    public String raw(String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            OutputStream out = Channels.newOutputStream(ch);
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = Channels.newInputStream(ch);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    public SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    public String dockerHost() {
        return "unix://" + socket;
    }

    public DockerCli docker() {
        return new DockerCli(dockerHost(), dir.resolve("docker-config"));
    }

    public Path dir() {
        return dir;
    }

    public Path socket() {
        return socket;
    }

    public Path dataRoot() {
        return dir.resolve("root");
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        kill.waitFor();
    }

    /** SIGTERM and wait; returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) stop();
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        OPEN.remove(this);
        if (OPEN.stream().noneMatch(p -> p.process.isAlive())) {
            if (!DEFAULT_BRIDGE_BEFORE) removeDefaultBridge();
            if (!PORTMAP_CHAINS_BEFORE) removePortmapChains();
            removeNewCgroups();
        }
        unmountLeftovers();
        deleteTree(dir);
    }

    /**
     * The default bridge and its rules outlive a daemon, as docker0's outlive dockerd; the
     * tests hand them back when the host had none. The daemon's own network box does it,
     * from the records of this daemon's data root.
     */
    private void removeDefaultBridge() {
        try (NetworkService networks = new NetworkService(NetworkService.Options.defaults(dir.resolve("root"), dir.resolve("run")))) {
            networks.removeDefaultBridge();
        } catch (Exception e) {
            System.err.println("cannot hand the default bridge back: " + e.getMessage());
        }
    }

    /**
     * What a failed test left mounted under the daemon's folder (a pinned namespace, a
     * rootfs), deepest first: the host is handed back as it was even then.
     */
    private void unmountLeftovers() {
        java.util.List<String> left = new java.util.ArrayList<>(HostNet.mountsUnder(dir));
        java.util.Collections.reverse(left);
        for (String mountPoint : left) {
            try {
                io.berth.sys.Syscalls.umount2(mountPoint, io.berth.sys.Syscalls.MNT_DETACH);
            } catch (IOException e) {
                System.err.println("cannot unmount " + mountPoint + ": " + e.getMessage());
            }
        }
    }

    private static Set<Path> topCgroups() {
        Set<Path> out = new java.util.HashSet<>();
        try (var controllers = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"), Files::isDirectory)) {
            for (Path c : controllers) {
                try (var children = Files.newDirectoryStream(c, Files::isDirectory)) {
                    for (Path child : children) out.add(child);
                }
            }
        } catch (IOException e) {
            // no cgroup tree to look at: nothing to hand back either
        }
        return out;
    }

    /**
     * The cgroup parents (such as /berth, or a test's --cgroup-parent) that the daemons made
     * and runc leaves behind once their last container is gone, as dockerd leaves /docker:
     * removed, deepest first, when empty.
     */
    /**
     * The portmap plugin makes its nat chains (CNI-HOSTPORT-*) at its first published port and
     * keeps them, as the plugin does under containerd; the tests hand the host back without them
     * once no port is published (no rule left that names an address or a container).
     */
    private static void removePortmapChains() {
        for (String tool : java.util.List.of("iptables", "ip6tables")) {
            String[] nat = HostNet.run(tool + "-save", "-t", "nat").out().split("\n");
            if (java.util.Arrays.stream(nat).noneMatch(l -> l.startsWith(":CNI-HOSTPORT-DNAT"))) continue;
            if (java.util.Arrays.stream(nat).anyMatch(l -> l.startsWith(":CNI-DN-"))) continue; // a port still published
            for (String[] jump : new String[][] {{"PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"},
                    {"OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"},
                    {"POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"}}) {
                java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(tool, "-w", "-t", "nat", "-D"));
                cmd.addAll(java.util.List.of(jump));
                HostNet.run(cmd.toArray(String[]::new));
            }
            for (String chain : java.util.List.of("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK")) {
                HostNet.run(tool, "-w", "-t", "nat", "-F", chain);
                HostNet.run(tool, "-w", "-t", "nat", "-X", chain);
            }
        }
    }

    private static void removeNewCgroups() {
        for (Path top : topCgroups()) {
            if (CGROUPS_BEFORE.contains(top)) continue;
            try (var walk = Files.walk(top)) {
                for (Path d : walk.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(d); // rmdir: refused while a process is in it
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                System.err.println("cannot remove cgroup " + top + ": " + e.getMessage());
            }
        }
    }

    public static void deleteTree(Path root) throws IOException {
        FileTrees.deleteTree(root);
    }
}
