package io.berth.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyscallsTest {
    @TempDir Path dir;

    @Test
    void aSignalGoesOnlyToAProcessOfTheNamedCgroup() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            long pid = sleeper.pid();
            assertThat(Syscalls.signalIfInCgroup(pid, "no-such-cgroup-mark", 9)).isFalse();
            assertThat(sleeper.isAlive()).isTrue();
            String line = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).getFirst();
            String mark = line.substring(line.lastIndexOf(':') + 1); // its own cgroup path, as a container's names its ID
            assertThat(Syscalls.signalIfInCgroup(pid, mark, 9)).isTrue();
            assertThat(sleeper.waitFor()).isEqualTo(137);
            assertThat(Syscalls.signalIfInCgroup(pid, mark, 9)).as("a process gone").isFalse();
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void makedevRoundTrips() {
        long dev = Syscalls.makedev(259, 70000);
        assertThat(Syscalls.major(dev)).isEqualTo(259);
        assertThat(Syscalls.minor(dev)).isEqualTo(70000);
        assertThat(Syscalls.makedev(1, 3)).isEqualTo(0x103);
    }

    @Test
    void binaryXattrsSurvive() throws Exception {
        Path f = Files.createFile(dir.resolve("f"));
        byte[] value = {0, (byte) 0xff, 1, 0, (byte) 0x80};
        Syscalls.lsetxattr(f, "user.bin", value);
        assertThat(Syscalls.lgetxattr(f, "user.bin")).containsExactly(value);
        assertThat(Syscalls.llistxattr(f)).contains("user.bin");
        assertThat(Syscalls.lgetxattr(f, "user.none")).isNull();
        Syscalls.lsetxattr(f, "trusted.overlay.opaque", "y".getBytes());
        assertThat(Syscalls.lgetxattr(f, "trusted.overlay.opaque")).containsExactly('y');
    }

    @Test
    void errorsNamePathAndErrno() {
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> Syscalls.lchown(missing, 1, 1))
                .isInstanceOf(Syscalls.ErrnoException.class)
                .hasMessageContaining("chown " + missing)
                .hasMessageContaining("No such file or directory");
        assertThatThrownBy(() -> Syscalls.umount2(dir.toString(), 0))
                .hasMessageContaining("umount " + dir).hasMessageContaining("Invalid argument");
    }

    @Test
    void mknodChownAndSymlinkTimes() throws Exception {
        Path fifo = dir.resolve("fifo");
        Syscalls.mknod(fifo, Syscalls.S_IFIFO | 0640, 0);
        assertThat(Files.isRegularFile(fifo)).isFalse();
        Path wh = dir.resolve("wh");
        Syscalls.mknod(wh, Syscalls.S_IFCHR, Syscalls.makedev(0, 0));
        assertThat(Files.getAttribute(wh, "unix:rdev")).isEqualTo(0L);
        Syscalls.lchown(fifo, 1234, 5678);
        assertThat(Files.getAttribute(fifo, "unix:uid")).isEqualTo(1234);
        Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("/nonexistent"));
        Instant t = Instant.parse("2001-02-03T04:05:06.123456789Z");
        Syscalls.utimensat(link, null, t);
        assertThat(Files.getLastModifiedTime(link, LinkOption.NOFOLLOW_LINKS)).isEqualTo(FileTime.from(t));
    }

    @Test
    void bindMountAndUnmount() throws Exception {
        Path src = Files.createDirectory(dir.resolve("src"));
        Files.writeString(src.resolve("hello"), "hi");
        Path tgt = Files.createDirectory(dir.resolve("tgt"));
        Syscalls.mount(src.toString(), tgt.toString(), null, Syscalls.MS_BIND, null);
        try {
            assertThat(Files.readString(tgt.resolve("hello"))).isEqualTo("hi");
        } finally {
            Syscalls.umount2(tgt.toString(), Syscalls.MNT_DETACH);
        }
        assertThat(Files.exists(tgt.resolve("hello"))).isFalse();
    }
}
