package io.berth.engine;

import io.berth.snapshot.Mount;
import io.berth.snapshot.Snapshotter;
import io.berth.sys.MountTable;
import io.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What running a container does on the host besides the runtime's verbs: mounting its root
 * from its snapshot, bringing up the loopback device of a namespace the runtime made, and
 * signalling its process straight away. These need root; tests pass a fake.
 */
interface ContainerHost {
    /** Mounts the snapshot {@code snapshotKey} on {@code rootfs} unless something is mounted there already. */
    void mountRootfs(String snapshotKey, Path rootfs) throws IOException;

    /** Unmounts {@code rootfs} if it is mounted; a failure is logged. */
    void unmountRootfs(Path rootfs);

    /** Brings up {@code lo} in the network namespace of process {@code pid}; a failure is logged. */
    void loopbackUp(long pid);

    /**
     * Sends {@code signal} to {@code pid} if it still is the container's (its cgroup names
     * {@code containerId}); false when it is not, and the runtime must do it.
     */
    boolean signal(long pid, String containerId, int signal);

    /** The host itself: overlay mounts of the snapshotter, nsenter, kill(2). */
    static ContainerHost real(Supplier<Snapshotter> snapshots) {
        Logger log = LoggerFactory.getLogger(ContainerHost.class);
        return new ContainerHost() {
            @Override
            public void mountRootfs(String snapshotKey, Path rootfs) throws IOException {
                if (!MountTable.mountsUnder(rootfs).contains(rootfs.toString())) Mount.mountAll(snapshots.get().mounts(snapshotKey), rootfs);
            }

            @Override
            public void unmountRootfs(Path rootfs) {
                try {
                    if (MountTable.mountsUnder(rootfs).contains(rootfs.toString())) Mount.unmount(rootfs);
                } catch (IOException e) {
                    log.warn("cannot unmount {}: {}", rootfs, e.toString());
                }
            }

            @Override
            public void loopbackUp(long pid) {
                try {
                    Process p = new ProcessBuilder("nsenter", "-t", Long.toString(pid), "-n", "ip", "link", "set", "lo", "up")
                            .redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) log.warn("cannot bring up lo in container pid {}: {}", pid, out);
                } catch (IOException | InterruptedException e) {
                    log.warn("cannot bring up lo in container pid {}: {}", pid, e.toString());
                }
            }

            @Override
            public boolean signal(long pid, String containerId, int signal) {
                // What runc kill does (kill(2) on the init process), without its process run: 30-40 ms
                // a stop or rm -f. The cgroup check makes sure the pid is still this container's.
                return Syscalls.signalIfInCgroup(pid, containerId, signal);
            }
        };
    }
}
