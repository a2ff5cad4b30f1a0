package io.berth.image;

import io.berth.content.Digest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ManifestParserTest {
    static final String H1 = "1111111111111111111111111111111111111111111111111111111111111111";
    static final String H2 = "2222222222222222222222222222222222222222222222222222222222222222";
    static final String H3 = "3333333333333333333333333333333333333333333333333333333333333333";

    static final String DOCKER_MANIFEST = """
            {
               "schemaVersion": 2,
               "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
               "config": {
                  "mediaType": "application/vnd.docker.container.image.v1+json",
                  "size": 1457,
                  "digest": "sha256:%s"
               },
               "layers": [
                  {
                     "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                     "size": 2152262,
                     "digest": "sha256:%s"
                  },
                  {
                     "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                     "size": 100,
                     "digest": "sha256:%s",
                     "urls": ["https://example.com/layer"]
                  }
               ]
            }""".formatted(H1, H2, H3);

    static final String OCI_MANIFEST = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":581},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:%s","size":3000,
                        "annotations":{"org.opencontainers.image.title":"layer"}}],
             "annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"},
             "futureField":{"ignored":true}}""".formatted(H1, H2);

    static final String OCI_INDEX = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":100,
               "platform":{"architecture":"amd64","os":"linux"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":100,
               "platform":{"architecture":"unknown","os":"unknown"},
               "annotations":{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"sha256:%s"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":100,
               "platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.5329","os.features":["win32k"]}}
            ]}""".formatted(H1, H2, H1, H3);

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parsesDockerSchema2Manifest() {
        ParsedManifest pm = ManifestParser.parse(b(DOCKER_MANIFEST), "application/vnd.docker.distribution.manifest.v2+json");
        assertThat(pm).isInstanceOf(ParsedManifest.Image.class);
        ImageManifest m = ((ParsedManifest.Image) pm).manifest();
        assertThat(pm.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        assertThat(m.schemaVersion()).isEqualTo(2);
        assertThat(m.config()).isEqualTo(Descriptor.of(MediaTypes.DOCKER_CONFIG, Digest.parse("sha256:" + H1), 1457));
        assertThat(m.layers()).hasSize(2);
        assertThat(m.layers().get(0).size()).isEqualTo(2152262);
        assertThat(LayerMediaType.of(m.layers().get(0).mediaType())).get()
                .extracting(LayerMediaType::compression, LayerMediaType::foreign).containsExactly(LayerMediaType.Compression.GZIP, false);
        assertThat(LayerMediaType.of(m.layers().get(1).mediaType())).get().extracting(LayerMediaType::foreign).isEqualTo(true);
        assertThat(m.layers().get(1).urls()).containsExactly("https://example.com/layer");
        // the digest is of the exact bytes, whitespace and all
        assertThat(pm.digest()).isEqualTo(Digest.sha256(b(DOCKER_MANIFEST)));
        assertThat(pm.bytes()).isEqualTo(b(DOCKER_MANIFEST));
        assertThat(pm.children()).extracting(Descriptor::digest).containsExactly(
                Digest.parse("sha256:" + H1), Digest.parse("sha256:" + H2), Digest.parse("sha256:" + H3));
        assertThat(pm.descriptor()).isEqualTo(Descriptor.of(MediaTypes.DOCKER_MANIFEST, pm.digest(), b(DOCKER_MANIFEST).length));
    }

    @Test
    void parsesOciManifest() {
        ParsedManifest pm = ManifestParser.parse(b(OCI_MANIFEST), "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
        ImageManifest m = ((ParsedManifest.Image) pm).manifest();
        assertThat(pm.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(m.config().mediaType()).isEqualTo(MediaTypes.OCI_CONFIG);
        assertThat(m.layers()).singleElement().satisfies(l -> {
            assertThat(LayerMediaType.of(l.mediaType())).get().extracting(LayerMediaType::compression).isEqualTo(LayerMediaType.Compression.ZSTD);
            assertThat(l.annotations()).containsEntry("org.opencontainers.image.title", "layer");
        });
        assertThat(m.annotations()).containsKey("org.opencontainers.image.created");
    }

    @Test
    void parsesIndexWithPlatforms() {
        ParsedManifest pm = ManifestParser.parse(b(OCI_INDEX), null);
        assertThat(pm).isInstanceOf(ParsedManifest.Index.class);
        ManifestIndex idx = ((ParsedManifest.Index) pm).index();
        assertThat(idx.manifests()).hasSize(3);
        Platform win = idx.manifests().get(2).platform();
        assertThat(win.osVersion()).isEqualTo("10.0.17763.5329");
        assertThat(win.osFeatures()).containsExactly("win32k");
        assertThat(idx.manifests().get(1).isAttestation()).isTrue();
        assertThat(idx.manifests().get(0).isAttestation()).isFalse();
    }

    @Test
    void sniffsMediaTypeWhenMissing() {
        String noTypeManifest = OCI_MANIFEST.replace("\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",", "");
        assertThat(noTypeManifest).doesNotContain("image.manifest.v1");
        assertThat(ManifestParser.parse(b(noTypeManifest), "application/json").mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(ManifestParser.parse(b(noTypeManifest), null)).isInstanceOf(ParsedManifest.Image.class);
        // a specific Content-Type is believed when the body has no mediaType
        assertThat(ManifestParser.parse(b(noTypeManifest), MediaTypes.DOCKER_MANIFEST).mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);

        String noTypeIndex = OCI_INDEX.replace("\"mediaType\":\"application/vnd.oci.image.index.v1+json\",", "");
        assertThat(ManifestParser.parse(b(noTypeIndex), "text/plain").mediaType()).isEqualTo(MediaTypes.OCI_INDEX);
        // the body's own mediaType wins over a generic header
        assertThat(ManifestParser.parse(b(DOCKER_MANIFEST), "application/octet-stream").mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
    }

    @Test
    void dockerManifestList() {
        String list = """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
                 {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:%s","size":527,
                  "platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}""".formatted(H1);
        ParsedManifest pm = ManifestParser.parse(b(list), null);
        assertThat(pm.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
        assertThat(((ParsedManifest.Index) pm).index().manifests().get(0).platform().variant()).isEqualTo("v7");
    }

    @Test
    void refusesSchema1AndGarbage() {
        String schema1 = """
                {"schemaVersion":1,"name":"library/busybox","tag":"latest","architecture":"amd64","fsLayers":[],"history":[]}""";
        assertThatThrownBy(() -> ManifestParser.parse(b(schema1), null))
                .isInstanceOf(InvalidManifestException.class).hasMessageContaining("schema 1");
        assertThatThrownBy(() -> ManifestParser.parse(b(schema1), MediaTypes.DOCKER_SCHEMA1_SIGNED_MANIFEST))
                .hasMessageContaining("schema 1");
        assertThatThrownBy(() -> ManifestParser.parse(b("not json"), null))
                .isInstanceOf(InvalidManifestException.class).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> ManifestParser.parse(b("{\"schemaVersion\":2}"), null))
                .isInstanceOf(InvalidManifestException.class).hasMessageContaining("cannot tell");
        assertThatThrownBy(() -> ManifestParser.parse(b("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.foo\"}"), null))
                .isInstanceOf(InvalidManifestException.class).hasMessageContaining("unsupported manifest media type \"application/vnd.foo\"");
        assertThatThrownBy(() -> ManifestParser.parse(b(DOCKER_MANIFEST.replace("sha256:" + H2, "sha256:nothex")), null))
                .isInstanceOf(InvalidManifestException.class).hasMessageContaining("invalid sha256 digest");
        assertThatThrownBy(() -> ManifestParser.parse(b("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"layers\":[]}"), null))
                .isInstanceOf(InvalidManifestException.class).hasMessageContaining("no \"config\"");
    }

    @Test
    void writesDigestsAsStringsAndLeavesNullsOut() {
        ImageManifest m = ImageManifest.of(MediaTypes.OCI_MANIFEST,
                Descriptor.of(MediaTypes.OCI_CONFIG, Digest.parse("sha256:" + H1), 10),
                List.of(Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.parse("sha256:" + H2), 20).withAnnotations(Map.of("a", "b"))));
        String json = new String(ImageJson.toBytes(m), StandardCharsets.UTF_8);
        assertThat(json).contains("\"digest\":\"sha256:" + H1 + "\"").doesNotContain("null").doesNotContain("\"urls\"");
        ParsedManifest back = ManifestParser.parse(b(json), null);
        assertThat(((ParsedManifest.Image) back).manifest()).isEqualTo(m);
    }

    @Test
    void layerMediaTypes() {
        assertThat(LayerMediaType.of(MediaTypes.DOCKER_LAYER)).get().extracting(LayerMediaType::compression).isEqualTo(LayerMediaType.Compression.NONE);
        assertThat(LayerMediaType.of(MediaTypes.DOCKER_LAYER_ZSTD)).get().extracting(LayerMediaType::compression).isEqualTo(LayerMediaType.Compression.ZSTD);
        assertThat(LayerMediaType.of(MediaTypes.OCI_LAYER)).get().extracting(LayerMediaType::oci).isEqualTo(true);
        assertThat(LayerMediaType.of(MediaTypes.OCI_NONDISTRIBUTABLE_LAYER_ZSTD)).get()
                .extracting(LayerMediaType::foreign, LayerMediaType::compression).containsExactly(true, LayerMediaType.Compression.ZSTD);
        assertThat(LayerMediaType.of(MediaTypes.DOCKER_FOREIGN_LAYER)).get().extracting(LayerMediaType::foreign).isEqualTo(true);
        assertThat(LayerMediaType.of(MediaTypes.OCI_CONFIG)).isEmpty();
        assertThat(LayerMediaType.of(null)).isEmpty();
        assertThat(MediaTypes.isLayer(MediaTypes.OCI_LAYER_GZIP)).isTrue();
        assertThat(LayerMediaType.forCompression(LayerMediaType.Compression.GZIP, false)).isEqualTo(MediaTypes.DOCKER_LAYER_GZIP);
        assertThat(LayerMediaType.forCompression(LayerMediaType.Compression.ZSTD, true)).isEqualTo(MediaTypes.OCI_LAYER_ZSTD);
    }
}
