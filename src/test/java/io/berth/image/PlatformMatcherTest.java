package io.berth.image;

import io.berth.content.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlatformMatcherTest {
    private static Descriptor entry(int n, Platform p) {
        return Descriptor.of(MediaTypes.OCI_MANIFEST, Digest.sha256(new byte[] {(byte) n}), 100).withPlatform(p);
    }

    private static final Descriptor AMD64 = entry(1, Platform.of("linux", "amd64", null));
    private static final Descriptor ARM64_V8 = entry(2, Platform.of("linux", "arm64", "v8"));
    private static final Descriptor ARM_V7 = entry(3, Platform.of("linux", "arm", "v7"));
    private static final Descriptor WINDOWS = entry(4, new Platform("amd64", "windows", "10.0.17763.5329", null, null, null));
    private static final ManifestIndex INDEX = ManifestIndex.of(MediaTypes.OCI_INDEX, List.of(WINDOWS, AMD64, ARM64_V8, ARM_V7));

    @ParameterizedTest(name = "{0} picks entry {1}")
    @CsvSource(textBlock = """
            linux/amd64,    1
            linux/x86_64,   1
            linux/arm64,    2
            linux/arm64/v8, 2
            linux/aarch64,  2
            linux/arm/v7,   3
            linux/arm,      3
            linux/armhf,    3
            linux/arm64/v9, 2
            windows/amd64,  4
            """)
    void picksTheRightManifest(String wanted, int entry) {
        Descriptor picked = PlatformMatcher.of(Platform.parse(wanted)).select(INDEX);
        assertThat(picked.digest()).isEqualTo(Digest.sha256(new byte[] {(byte) entry}));
    }

    @Test
    void armV8WithoutVariantInIndexMatchesArm64V8Host() {
        Descriptor noVariant = entry(9, Platform.of("linux", "arm64", null));
        var idx = ManifestIndex.of(MediaTypes.OCI_INDEX, List.of(AMD64, noVariant));
        assertThat(PlatformMatcher.of(Platform.parse("linux/arm64/v8")).select(idx)).isEqualTo(noVariant);
    }

    @Test
    void fallsBackToOlderVariantsAnd32Bit() {
        Descriptor armV6 = entry(5, Platform.of("linux", "arm", "v6"));
        Descriptor armV5 = entry(6, Platform.of("linux", "arm", "v5"));
        Descriptor i386 = entry(7, Platform.of("linux", "386", null));
        var idx = ManifestIndex.of(MediaTypes.OCI_INDEX, List.of(armV5, armV6, i386));
        assertThat(PlatformMatcher.of(Platform.parse("linux/arm/v7")).select(idx)).isEqualTo(armV6);
        assertThat(PlatformMatcher.of(Platform.parse("linux/arm64")).select(idx)).isEqualTo(armV6);
        assertThat(PlatformMatcher.of(Platform.parse("linux/amd64")).select(idx)).isEqualTo(i386);
        // but never upward: an arm/v6 machine cannot run v7
        var onlyV7 = ManifestIndex.of(MediaTypes.OCI_INDEX, List.of(ARM_V7));
        assertThat(PlatformMatcher.of(Platform.parse("linux/arm/v6")).trySelect(onlyV7)).isEmpty();
        // amd64 levels: a v3 machine takes v2 before v1
        Descriptor v2 = entry(8, Platform.of("linux", "amd64", "v2"));
        var levels = ManifestIndex.of(MediaTypes.OCI_INDEX, List.of(AMD64, v2));
        assertThat(PlatformMatcher.of(Platform.parse("linux/amd64/v3")).select(levels)).isEqualTo(v2);
        assertThat(PlatformMatcher.of(Platform.parse("linux/amd64")).select(levels)).isEqualTo(AMD64);
    }

    @Test
    void skipsAttestationsAndEntriesWithoutPlatform() {
        Descriptor attestation = entry(10, Platform.of("linux", "amd64", null))
                .withAnnotations(Map.of(Descriptor.DOCKER_REFERENCE_TYPE, "attestation-manifest"));
        Descriptor noPlatform = Descriptor.of(MediaTypes.OCI_MANIFEST, Digest.sha256(new byte[] {11}), 1);
        var idx = ManifestIndex.of(MediaTypes.OCI_INDEX, List.of(attestation, noPlatform, AMD64));
        assertThat(PlatformMatcher.of(Platform.parse("linux/amd64")).select(idx)).isEqualTo(AMD64);
    }

    @Test
    void noMatchListsWhatIsAvailable() {
        var idx = ManifestIndex.of(MediaTypes.OCI_INDEX, List.of(AMD64, WINDOWS));
        assertThatThrownBy(() -> PlatformMatcher.of(Platform.parse("linux/arm64")).select(idx))
                .isInstanceOf(NoMatchingPlatformException.class)
                .hasMessage("no matching manifest for linux/arm64 in the manifest list entries; the image is available for: "
                        + "linux/amd64, windows/amd64 (os.version 10.0.17763.5329); pass --platform to choose one")
                .satisfies(e -> assertThat(((NoMatchingPlatformException) e).available()).hasSize(2));
    }

    @Test
    void hostPlatformIsLinuxAndNormalised() {
        Platform host = Platform.host();
        assertThat(host.os()).isEqualTo("linux");
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64") || arch.equals("x86_64")) assertThat(host).isEqualTo(Platform.of("linux", "amd64", null));
        if (arch.equals("aarch64")) assertThat(host).isEqualTo(Platform.of("linux", "arm64", null));
        assertThat(PlatformMatcher.forHost().wanted()).isEqualTo(host);
    }

    @Test
    void normalisesAndParses() {
        assertThat(Platform.parse("linux/arm64/v8")).isEqualTo(Platform.of("linux", "arm64", null));
        assertThat(Platform.parse("linux/arm")).isEqualTo(Platform.of("linux", "arm", "v7"));
        assertThat(Platform.parse("linux/armel")).isEqualTo(Platform.of("linux", "arm", "v6"));
        assertThat(Platform.parse("Linux/X86_64")).isEqualTo(Platform.of("linux", "amd64", null));
        assertThat(Platform.parse("linux/i686")).isEqualTo(Platform.of("linux", "386", null));
        assertThat(Platform.parse("linux/arm/v7").toString()).isEqualTo("linux/arm/v7");
        List<String> bad = new ArrayList<>(List.of("linux", "linux/", "/amd64", "a/b/c/d", "linux/arm/"));
        for (String b : bad) {
            assertThatThrownBy(() -> Platform.parse(b)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("want os/arch");
        }
    }
}
