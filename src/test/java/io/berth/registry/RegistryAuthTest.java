package io.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class RegistryAuthTest {
    static String b64url(String s) {
        return Base64.getUrlEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void decodesDockersHeaderInEveryBase64Variant() {
        String json = "{\"username\":\"bob\",\"password\":\"p>?>?\",\"serveraddress\":\"localhost:5000\"}";
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        for (String header : List.of(
                Base64.getUrlEncoder().encodeToString(bytes),
                Base64.getUrlEncoder().withoutPadding().encodeToString(bytes),
                Base64.getEncoder().encodeToString(bytes),
                Base64.getEncoder().withoutPadding().encodeToString(bytes) + "\n")) {
            RegistryAuth a = RegistryAuth.decodeHeader(header);
            assertThat(a.username()).isEqualTo("bob");
            assertThat(a.password()).isEqualTo("p>?>?");
            assertThat(a.serverAddress()).isEqualTo("localhost:5000");
            assertThat(a.isAnonymous()).isFalse();
        }
    }

    @Test
    void tokensCaseInsensitiveKeysAndTheAuthField() {
        RegistryAuth t = RegistryAuth.decodeHeader(b64url("{\"IdentityToken\":\"refresh\",\"registrytoken\":\"bearer\",\"extra\":1}"));
        assertThat(t.identityToken()).isEqualTo("refresh");
        assertThat(t.registryToken()).isEqualTo("bearer");
        RegistryAuth a = RegistryAuth.decodeHeader(b64url("{\"auth\":\"" + Base64.getEncoder().encodeToString("u:p:q".getBytes(StandardCharsets.UTF_8)) + "\"}"));
        assertThat(a.username()).isEqualTo("u");
        assertThat(a.password()).isEqualTo("p:q");
        assertThat(a.toString()).doesNotContain("p:q");
    }

    @Test
    void emptyHeadersAreAnonymousAndGarbageIsRefused() {
        assertThat(RegistryAuth.decodeHeader(null).isAnonymous()).isTrue();
        assertThat(RegistryAuth.decodeHeader("").isAnonymous()).isTrue();
        assertThat(RegistryAuth.decodeHeader(b64url("{}")).isAnonymous()).isTrue();
        assertThat(RegistryAuth.decodeHeader(b64url("null")).isAnonymous()).isTrue();
        assertThatThrownBy(() -> RegistryAuth.decodeHeader("!!!")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid X-Registry-Auth header");
        assertThatThrownBy(() -> RegistryAuth.decodeHeader(b64url("[1]"))).isInstanceOf(IllegalArgumentException.class);
        RegistryAuth round = RegistryAuth.decodeHeader(new RegistryAuth("a", "b", "c", "d", "e").encodeHeader());
        assertThat(round).isEqualTo(new RegistryAuth("a", "b", "c", "d", "e"));
    }

    @Test
    void parsesChallenges() {
        List<AuthChallenge> cs = AuthChallenge.parse(List.of(
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/a:pull repository:b:pull\"",
                "Basic realm=\"Registry Realm\", Other x=y"));
        assertThat(cs).hasSize(3);
        assertThat(cs.get(0).isBearer()).isTrue();
        assertThat(cs.get(0).param("realm")).isEqualTo("https://auth.docker.io/token");
        assertThat(cs.get(0).param("service")).isEqualTo("registry.docker.io");
        assertThat(cs.get(0).param("scope")).isEqualTo("repository:library/a:pull repository:b:pull");
        assertThat(cs.get(1).isBasic()).isTrue();
        assertThat(cs.get(1).param("realm")).isEqualTo("Registry Realm");
        assertThat(cs.get(2).scheme()).isEqualTo("other");
        assertThat(cs.get(2).param("x")).isEqualTo("y");
        assertThat(AuthChallenge.parse(List.of("bearer realm=unquoted, error=\"invalid_token\"")).getFirst().param("realm")).isEqualTo("unquoted");
    }

    @Test
    void choosesTheSchemeAndTheApiHost() {
        RegistryConfig c = new RegistryConfig(List.of("myreg:5000", "plain.example", "10.1.0.0/16", "fd00::/8"), List.of());
        assertThat(c.endpoint("localhost:5000")).isEqualTo(URI.create("http://localhost:5000"));
        assertThat(c.endpoint("127.0.0.2:5000")).isEqualTo(URI.create("http://127.0.0.2:5000"));
        assertThat(c.endpoint("[::1]:5000")).isEqualTo(URI.create("http://[::1]:5000"));
        assertThat(c.endpoint("myreg:5000")).isEqualTo(URI.create("http://myreg:5000"));
        assertThat(c.endpoint("myreg:5001")).isEqualTo(URI.create("https://myreg:5001"));
        assertThat(c.endpoint("plain.example:8080")).isEqualTo(URI.create("http://plain.example:8080"));
        assertThat(c.endpoint("10.1.2.3:5000")).isEqualTo(URI.create("http://10.1.2.3:5000"));
        assertThat(c.endpoint("10.2.0.1")).isEqualTo(URI.create("https://10.2.0.1"));
        assertThat(c.endpoint("[fd12::1]:5000")).isEqualTo(URI.create("http://[fd12::1]:5000"));
        assertThat(c.endpoint("ghcr.io")).isEqualTo(URI.create("https://ghcr.io"));
        assertThat(c.endpoint("docker.io")).isEqualTo(URI.create("https://registry-1.docker.io"));
        assertThat(c.endpoint("index.docker.io")).isEqualTo(URI.create("https://registry-1.docker.io"));
        assertThat(c.endpoint("128.0.0.1")).isEqualTo(URI.create("https://128.0.0.1"));

        RegistryConfig m = new RegistryConfig(List.of(), List.of("https://mirror.example/", "http://127.0.0.1:5001"));
        assertThat(m.pullEndpoints("docker.io")).containsExactly(URI.create("https://mirror.example"),
                URI.create("http://127.0.0.1:5001"), URI.create("https://registry-1.docker.io"));
        assertThat(m.pullEndpoints("ghcr.io")).containsExactly(URI.create("https://ghcr.io"));
        assertThatThrownBy(() -> new RegistryConfig(List.of("10.0.0.0/40"), List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RegistryConfig(List.of(), List.of("mirror.example"))).isInstanceOf(IllegalArgumentException.class);
    }
}
