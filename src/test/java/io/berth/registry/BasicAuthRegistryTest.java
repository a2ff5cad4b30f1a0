package io.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.content.Digest;
import io.berth.testing.RegistryProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A real docker-registry behind htpasswd basic auth (htpasswd comes from Debian's apache2-utils). */
class BasicAuthRegistryTest {
    static RegistryProcess registry;
    static final RegistryClient anonymous = new RegistryClient(RegistryConfig.defaults());

    @BeforeAll
    static void start() throws Exception {
        registry = RegistryProcess.start("alice", "s3cret");
    }

    @AfterAll
    static void stop() {
        if (registry != null) registry.close();
    }

    @Test
    void withoutCredentialsTheRegistrysMessageIsShown() {
        RepositoryRef repo = new RepositoryRef(registry.host(), "private/app");
        assertThatThrownBy(() -> anonymous.fetchManifest(repo, "latest"))
                .isInstanceOf(UnauthorizedException.class)
                .hasMessage("fetching manifest " + repo + ":latest: unauthorized: authentication required")
                .satisfies(e -> assertThat(((RegistryException) e).status()).isEqualTo(401));
    }

    @Test
    void withCredentialsPushAndPullWork() throws Exception {
        RegistryClient alice = anonymous.withAuth(RegistryAuth.decodeHeader(
                new RegistryAuth("alice", "s3cret", registry.host(), "", "").encodeHeader()));
        RepositoryRef repo = new RepositoryRef(registry.host(), "private/app");
        RegistryClientTest.Pushed p = RegistryClientTest.pushImage(alice, repo, "v1", 50);
        assertThat(alice.fetchManifest(repo, "v1").bytes()).isEqualTo(p.manifestBytes());
        byte[] layer = p.layers().get(1);
        java.nio.file.Path f = java.nio.file.Files.createTempFile("berth-basic", ".blob");
        try {
            alice.fetchBlob(repo, Digest.sha256(layer), layer.length, BlobSink.ofFile(f), 0, null);
            assertThat(java.nio.file.Files.readAllBytes(f)).isEqualTo(layer);
        } finally {
            java.nio.file.Files.deleteIfExists(f);
        }
    }

    @Test
    void loginChecksTheCredentials() {
        assertThat(anonymous.login(registry.host(), RegistryAuth.basic("alice", "s3cret")).status()).isEqualTo("Login Succeeded");
        assertThatThrownBy(() -> anonymous.login(registry.host(), RegistryAuth.basic("alice", "wrong")))
                .isInstanceOf(UnauthorizedException.class)
                .hasMessage("logging in to " + registry.host() + ": unauthorized: authentication required");
        assertThatThrownBy(() -> anonymous.login(registry.host(), RegistryAuth.ANONYMOUS))
                .isInstanceOf(UnauthorizedException.class);
    }
}
