package io.berth.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.sys.MountTable;
import io.berth.testing.BerthdProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Volumes with driver options are real mounts. Needs: root. */
class VolumeStoreTest {
    Path dir;
    VolumeStore store;

    @BeforeEach
    void open() throws Exception {
        dir = Files.createTempDirectory("volumes");
        store = new VolumeStore(dir);
    }

    @AfterEach
    void clean() throws Exception {
        for (String m : MountTable.mountsUnder(dir)) io.berth.sys.Syscalls.umount2(m, io.berth.sys.Syscalls.MNT_DETACH);
        BerthdProcess.deleteTree(dir);
    }

    @Test
    void tmpfsVolumeIsMountedWhileUsedAndUnmountedAfter() throws Exception {
        Volume v = store.create("scratch", Map.of(), Map.of("type", "tmpfs", "device", "tmpfs", "o", "size=8m"));
        Path data = store.acquire("scratch", "c1");
        store.acquire("scratch", "c2");
        MountTable.Entry mount = MountTable.read().stream().filter(e -> e.mountPoint().equals(data.toString())).findFirst().orElseThrow();
        assertThat(mount.fsType()).isEqualTo("tmpfs");
        assertThatThrownBy(() -> store.remove("scratch", false)).hasMessageContaining("volume is in use - [c1, c2]");
        store.release("scratch", "c1");
        assertThat(MountTable.mountsUnder(v.mountpoint())).containsExactly(data.toString());
        store.release("scratch", "c2");
        assertThat(MountTable.mountsUnder(v.mountpoint())).isEmpty();
        store.remove("scratch", false);
        assertThat(v.mountpoint().getParent()).doesNotExist();
    }

    @Test
    void bindVolumeShowsTheHostFolderReadOnlyWhenAsked() throws Exception {
        Path host = Files.createDirectory(dir.resolve("host"));
        Files.writeString(host.resolve("hello"), "hi");
        store.create("bound", Map.of(), Map.of("type", "none", "device", host.toString(), "o", "bind,ro"));
        Path data = store.acquire("bound", "c1");
        try {
            assertThat(Files.readString(data.resolve("hello"))).isEqualTo("hi");
            assertThatThrownBy(() -> Files.writeString(data.resolve("new"), "x")).hasMessageContaining("Read-only file system");
        } finally {
            store.release("bound", "c1");
        }
        assertThat(Files.exists(data.resolve("hello"))).isFalse();
    }

    @Test
    void aCrashMidCreateLeavesNothingAfterReload() throws Exception {
        Files.createDirectories(dir.resolve("volumes/half/_data"));
        VolumeStore reopened = new VolumeStore(dir);
        assertThat(reopened.list()).isEmpty();
        assertThat(dir.resolve("volumes/half")).doesNotExist();
    }
}
