package io.berth.image;

import io.berth.content.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageReferenceTest {
    static final String HEX = "9b0f3d0d6a3a2cbd2f6f8d3c9e0b5a4f1e2d3c4b5a69788796a5b4c3d2e1f0a1";
    static final String D = "sha256:" + HEX;

    @ParameterizedTest(name = "{0}")
    @CsvSource(nullValues = "-", delimiter = '|', textBlock = """
            # input                                  | domain           | path                     | tag      | digest | familiar name           | familiar string
            busybox                                  | docker.io        | library/busybox          | -        | -      | busybox                 | busybox
            busybox:latest                           | docker.io        | library/busybox          | latest   | -      | busybox                 | busybox:latest
            library/busybox:1.36                     | docker.io        | library/busybox          | 1.36     | -      | busybox                 | busybox:1.36
            docker.io/busybox                        | docker.io        | library/busybox          | -        | -      | busybox                 | busybox
            docker.io/library/busybox:1              | docker.io        | library/busybox          | 1        | -      | busybox                 | busybox:1
            index.docker.io/library/ubuntu           | docker.io        | library/ubuntu           | -        | -      | ubuntu                  | ubuntu
            index.docker.io/ubuntu                   | docker.io        | library/ubuntu           | -        | -      | ubuntu                  | ubuntu
            user/app                                 | docker.io        | user/app                 | -        | -      | user/app                | user/app
            library/a/b                              | docker.io        | library/a/b              | -        | -      | library/a/b             | library/a/b
            localhost/app                            | localhost        | app                      | -        | -      | localhost/app           | localhost/app
            localhost:5000/team/app:v2               | localhost:5000   | team/app                 | v2       | -      | localhost:5000/team/app | localhost:5000/team/app:v2
            127.0.0.1:5000/app                       | 127.0.0.1:5000   | app                      | -        | -      | 127.0.0.1:5000/app      | 127.0.0.1:5000/app
            [::1]:5000/app                           | [::1]:5000       | app                      | -        | -      | [::1]:5000/app          | [::1]:5000/app
            ghcr.io/owner/repo/sub:tag_1.0-rc        | ghcr.io          | owner/repo/sub           | tag_1.0-rc | -    | ghcr.io/owner/repo/sub  | ghcr.io/owner/repo/sub:tag_1.0-rc
            Foo/bar                                  | Foo              | bar                      | -        | -      | Foo/bar                 | Foo/bar
            a.b-c.d/f                                | a.b-c.d          | f                        | -        | -      | a.b-c.d/f               | a.b-c.d/f
            foo/a.b_c__d---e                         | docker.io        | foo/a.b_c__d---e         | -        | -      | foo/a.b_c__d---e        | foo/a.b_c__d---e
            busybox:_x                               | docker.io        | library/busybox          | _x       | -      | busybox                 | busybox:_x
            """)
    void parsesAndNormalises(String input, String domain, String path, String tag, String digest, String familiarName, String familiar) {
        ImageReference ref = ImageReference.parse(input);
        assertThat(ref.domain()).isEqualTo(domain);
        assertThat(ref.path()).isEqualTo(path);
        assertThat(ref.tag()).isEqualTo(Optional.ofNullable(tag));
        assertThat(ref.digest()).isEqualTo(Optional.ofNullable(digest).map(Digest::parse));
        assertThat(ref.familiarName()).isEqualTo(familiarName);
        assertThat(ref.toString()).isEqualTo(familiar);
        assertThat(ref.fullName()).isEqualTo(domain + "/" + path);
        // the familiar form parses back to the same reference
        assertThat(ImageReference.parse(ref.toString())).isEqualTo(ref);
        assertThat(ImageReference.parse(ref.canonicalString())).isEqualTo(ref);
    }

    @Test
    void digests() {
        ImageReference r = ImageReference.parse("localhost:5000/team/app@" + D);
        assertThat(r.domain()).isEqualTo("localhost:5000");
        assertThat(r.path()).isEqualTo("team/app");
        assertThat(r.tag()).isEmpty();
        assertThat(r.digest()).contains(Digest.parse(D));
        assertThat(r.toString()).isEqualTo("localhost:5000/team/app@" + D);

        ImageReference both = ImageReference.parse("busybox:1.36@" + D);
        assertThat(both.tag()).contains("1.36");
        assertThat(both.digest()).contains(Digest.parse(D));
        assertThat(both.toString()).isEqualTo("busybox:1.36@" + D);
        assertThat(both.canonicalString()).isEqualTo("docker.io/library/busybox:1.36@" + D);
    }

    @Test
    void dockerRefDefaultsTagAndDropsTagBesideDigest() {
        assertThat(ImageReference.parseDockerRef("busybox").canonicalString()).isEqualTo("docker.io/library/busybox:latest");
        assertThat(ImageReference.parseDockerRef("busybox").toString()).isEqualTo("busybox:latest");
        assertThat(ImageReference.parseDockerRef("busybox:1").toString()).isEqualTo("busybox:1");
        assertThat(ImageReference.parseDockerRef("busybox:1@" + D).toString()).isEqualTo("busybox@" + D);
        assertThat(ImageReference.parseDockerRef("busybox@" + D).toString()).isEqualTo("busybox@" + D);
    }

    @Test
    void withTagWithDigestNameOnly() {
        ImageReference r = ImageReference.parse("busybox");
        assertThat(r.withTag("x").toString()).isEqualTo("busybox:x");
        assertThat(r.withDigest(Digest.parse(D)).toString()).isEqualTo("busybox@" + D);
        assertThat(r.withTag("x").withDigest(Digest.parse(D)).nameOnly()).isEqualTo(r);
        assertThatThrownBy(() -> r.withTag("-bad")).isInstanceOf(InvalidReferenceException.class);
        assertThatThrownBy(() -> r.withTag("a".repeat(129))).isInstanceOf(InvalidReferenceException.class);
        assertThat(r.withTag("a".repeat(128)).tag()).contains("a".repeat(128));
        assertThat(r.repository()).isEqualTo("library/busybox");
        assertThat(r.isDockerHub()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                                | invalid reference format
            Busybox                           | invalid reference format: repository name (library/Busybox) must be lowercase
            foo/Bar                           | invalid reference format: repository name (foo/Bar) must be lowercase
            localhost:5000/Team/app           | invalid reference format: repository name (Team/app) must be lowercase
            busybox:                          | invalid reference format
            busybox:-tag                      | invalid reference format
            :tag                              | invalid reference format
            /busybox                          | invalid reference format
            busybox/                          | invalid reference format
            a//b                              | invalid reference format
            foo/-bar                          | invalid reference format
            foo/bar-                          | invalid reference format
            foo/b...r                         | invalid reference format
            foo/b___r                         | invalid reference format
            foo bar                           | invalid reference format
            busybox@sha256:abc                | invalid reference format
            busybox@sha256:0123456789abcdef0123456789abcdef0123 | invalid checksum digest length
            busybox@md5:0123456789abcdef0123456789abcdef | unsupported digest algorithm
            -host/app                         | invalid reference format
            host-:5000/app                    | invalid reference format
            a.b_c/f                           | invalid reference format
            """)
    void rejectsWithDockersMessages(String input, String message) {
        assertThatThrownBy(() -> ImageReference.parse(input))
                .isInstanceOf(InvalidReferenceException.class)
                .hasMessage(message);
    }

    @Test
    void rejectsTagTooLongAndNameTooLong() {
        assertThatThrownBy(() -> ImageReference.parse("busybox:" + "a".repeat(129))).hasMessage("invalid reference format");
        assertThat(ImageReference.parse("busybox:" + "a".repeat(128)).tag()).contains("a".repeat(128));
        // docker.io/ + library/ + name counts toward the 255 characters of the name
        String name = "a".repeat(255 - "docker.io/library/".length());
        assertThat(ImageReference.parse(name).fullName()).hasSize(255);
        assertThatThrownBy(() -> ImageReference.parse(name + "a"))
                .isInstanceOf(InvalidReferenceException.class)
                .hasMessage("repository name must not be more than 255 characters");
    }

    @Test
    void rejects64HexAsRepositoryName() {
        assertThatThrownBy(() -> ImageReference.parse(HEX))
                .hasMessage("invalid repository name (" + HEX + "), cannot specify 64-byte hexadecimal strings");
    }

    @Test
    void uppercaseDigestHexIsRefused() {
        assertThatThrownBy(() -> ImageReference.parse("busybox@sha256:" + HEX.toUpperCase()))
                .hasMessage("invalid checksum digest format");
    }

    @Test
    void tryParse() {
        assertThat(ImageReference.tryParse("busybox")).isPresent();
        assertThat(ImageReference.tryParse("Busy box")).isEmpty();
    }

    @Test
    void lookupTellsIdsFromReferences() {
        assertThat(ImageLookup.parse(HEX)).isEqualTo(new ImageLookup.ById(Digest.parse(D)));
        assertThat(ImageLookup.parse(D)).isEqualTo(new ImageLookup.ById(Digest.parse(D)));
        assertThat(ImageLookup.parse("abc123")).isEqualTo(
                new ImageLookup.ByReference(ImageReference.parse("abc123"), Optional.of("abc123")));
        assertThat(ImageLookup.parse("sha256:abc123")).isEqualTo(
                new ImageLookup.ByReference(ImageReference.parse("sha256:abc123"), Optional.of("abc123")));
        assertThat(ImageLookup.parse("busybox:1")).isEqualTo(
                new ImageLookup.ByReference(ImageReference.parse("busybox:1"), Optional.empty()));
        assertThat(ImageLookup.isFullId(HEX)).isTrue();
        assertThat(ImageLookup.isFullId("abc")).isFalse();
        assertThat(ImageLookup.isIdOrPrefix("abc")).isTrue();
        assertThat(ImageLookup.isIdOrPrefix("busybox")).isFalse();
        assertThatThrownBy(() -> ImageLookup.parse("Not Valid")).isInstanceOf(InvalidReferenceException.class);
    }
}
