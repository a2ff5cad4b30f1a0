package io.berth.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DiskFullTest {
    @Test
    void recognisesTheJdksWordsForENOSPCAndEDQUOT() {
        assertThat(DiskFull.causes(new IOException("No space left on device"))).isTrue();
        assertThat(DiskFull.causes(new FileSystemException("/x", null, "Disk quota exceeded"))).isTrue();
        assertThat(DiskFull.causes(new UncheckedIOException(new IOException("No space left on device")))).isTrue();
        assertThat(DiskFull.causes(new IOException("Permission denied"))).isFalse();
    }

    @Test
    void describesAsDockerdDoesAndLeavesOtherFailuresAlone() {
        IOException full = DiskFull.describe("write", Path.of("/d/config.json"), new IOException("No space left on device"));
        assertThat(full).hasMessage("write /d/config.json: no space left on device");
        IOException other = new IOException("Permission denied");
        assertThat(DiskFull.describe("write", Path.of("/d/x"), other)).isSameAs(other);
    }
}
