package io.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.content.Digest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a real registry will not do on demand: bad bytes, ignored ranges, redirects to another host,
 * a token server. A small fake on 127.0.0.1.
 */
class FakeRegistryTest {
    static final byte[] GOOD = RegistryClientTest.random(50_000, 1);
    static final Digest GOOD_DIGEST = Digest.sha256(GOOD);
    static final byte[] MANIFEST = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);

    HttpServer server;
    HttpServer storage;
    String host;
    boolean bearer;
    final List<String> tokenQueries = new CopyOnWriteArrayList<>();
    final List<String> tokenAuthorizations = new CopyOnWriteArrayList<>();
    final Map<String, Set<String>> granted = new ConcurrentHashMap<>();
    final AtomicInteger tokens = new AtomicInteger();
    final List<String> storageAuthorizations = new CopyOnWriteArrayList<>();
    final RegistryClient client = new RegistryClient(RegistryConfig.defaults());
    @TempDir
    Path tmp;

    @BeforeEach
    void start() throws IOException {
        storage = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        storage.createContext("/", ex -> {
            storageAuthorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            send(ex, 200, GOOD, Map.of());
        });
        storage.start();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        host = "127.0.0.1:" + server.getAddress().getPort();
        server.createContext("/token", this::token);
        server.createContext("/v2/", this::registry);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        storage.stop(0);
    }

    static void send(HttpExchange ex, int status, byte[] body, Map<String, String> headers) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) ex.getResponseBody().write(body);
        ex.close();
    }

    private void token(HttpExchange ex) throws IOException {
        String q = ex.getRequestMethod().equals("POST")
                ? "POST " + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)
                : String.valueOf(ex.getRequestURI().getRawQuery());
        tokenQueries.add(q);
        String authz = ex.getRequestHeaders().getFirst("Authorization");
        tokenAuthorizations.add(String.valueOf(authz));
        if (("Basic " + Base64.getEncoder().encodeToString("alice:wrong".getBytes(StandardCharsets.UTF_8))).equals(authz)) {
            send(ex, 401, "{\"details\":\"incorrect username or password\"}".getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        String t = "tok" + tokens.incrementAndGet();
        Set<String> scopes = ConcurrentHashMap.newKeySet();
        for (String part : q.split("&")) {
            if (part.startsWith("scope=")) scopes.add(java.net.URLDecoder.decode(part.substring(6), StandardCharsets.UTF_8));
        }
        granted.put(t, scopes);
        // Docker Hub answers both fields; some servers only access_token
        send(ex, 200, ("{\"access_token\":\"" + t + "\",\"expires_in\":300}").getBytes(StandardCharsets.UTF_8), Map.of());
    }

    private boolean allowed(HttpExchange ex, String scope) throws IOException {
        if (!bearer) return true;
        String authz = String.valueOf(ex.getRequestHeaders().getFirst("Authorization"));
        Set<String> g = authz.startsWith("Bearer ") ? granted.get(authz.substring(7)) : null;
        if (g != null && (scope == null || g.contains(scope))) return true;
        String challenge = "Bearer realm=\"http://" + host + "/token\",service=\"fake\"" + (scope == null ? "" : ",scope=\"" + scope + "\"");
        send(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}".getBytes(StandardCharsets.UTF_8),
                Map.of("WWW-Authenticate", challenge));
        return false;
    }

    private void registry(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        switch (path) {
            case "/v2/" -> {
                if (allowed(ex, null)) send(ex, 200, "{}".getBytes(StandardCharsets.UTF_8), Map.of());
            }
            case "/v2/app/manifests/latest" -> {
                if (allowed(ex, "repository:app:pull")) {
                    send(ex, 200, MANIFEST, Map.of("Content-Type", RegistryClient.OCI_MANIFEST + "; charset=utf-8",
                            "Docker-Content-Digest", Digest.sha256(MANIFEST).toString()));
                }
            }
            case "/v2/library/alpine/manifests/3" -> send(ex, 200, MANIFEST, Map.of("Content-Type", RegistryClient.OCI_MANIFEST));
            case "/v2/app/manifests/lying" -> send(ex, 200, MANIFEST, Map.of("Content-Type", RegistryClient.OCI_MANIFEST,
                    "Docker-Content-Digest", GOOD_DIGEST.toString()));
            case "/v2/app/blobs/uploads/" -> {
                if (allowed(ex, "repository:app:pull,push") && allowed(ex, "repository:other:pull")) {
                    send(ex, 201, new byte[0], Map.of("Location", "/v2/app/blobs/" + GOOD_DIGEST));
                }
            }
            default -> {
                if (path.equals("/v2/app/blobs/" + GOOD_DIGEST)) {
                    if (!allowed(ex, "repository:app:pull")) return;
                    // ignores Range: always the whole blob
                    send(ex, 200, GOOD, Map.of("X-Range-Asked", String.valueOf(range)));
                } else if (path.equals("/v2/redir/blobs/" + GOOD_DIGEST)) {
                    if (!allowed(ex, "repository:redir:pull")) return;
                    send(ex, 307, new byte[0], Map.of("Location", "http://127.0.0.1:" + storage.getAddress().getPort() + "/bucket/blob?sig=1"));
                } else if (path.startsWith("/v2/app/blobs/")) {
                    byte[] bad = GOOD.clone();
                    bad[100] ^= 1;
                    send(ex, 200, bad, Map.of());
                } else {
                    send(ex, 404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}"
                            .getBytes(StandardCharsets.UTF_8), Map.of());
                }
            }
        }
    }

    @Test
    void bytesThatDoNotHashToTheDigestAreRefused() {
        RepositoryRef repo = new RepositoryRef(host, "app");
        Digest claimed = Digest.sha256("something else".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> client.fetchBlob(repo, claimed, GOOD.length, BlobSink.ofFile(tmp.resolve("b")), 0, null))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessage("fetching blob " + repo + "@" + claimed + ": blob digest mismatch: expected " + claimed
                        + ", got " + Digest.sha256(Files.exists(tmp.resolve("b")) ? readQuietly(tmp.resolve("b")) : new byte[0]));
        // a blob longer than the manifest said is cut off
        assertThatThrownBy(() -> client.fetchBlob(repo, claimed, 1000, BlobSink.ofFile(tmp.resolve("c")), 0, null))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("larger than the expected 1000 bytes");
    }

    static byte[] readQuietly(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aManifestThatDoesNotMatchItsReportedDigestIsRefused() {
        RepositoryRef repo = new RepositoryRef(host, "app");
        assertThatThrownBy(() -> client.fetchManifest(repo, "lying"))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("manifest digest mismatch: expected " + GOOD_DIGEST);
        Digest other = Digest.sha256(new byte[1]);
        assertThatThrownBy(() -> client.fetchManifest(repo, other.toString()))
                .isInstanceOf(NotFoundException.class)
                .hasMessage("manifest for " + repo + "@" + other + " not found: name unknown: repository name not known to registry");
    }

    @Test
    void aRegistryThatIgnoresTheRangeStartsOver() throws IOException {
        RepositoryRef repo = new RepositoryRef(host, "app");
        Path f = tmp.resolve("partial");
        Files.write(f, java.util.Arrays.copyOf(GOOD, 20_000));
        List<Long> seen = new CopyOnWriteArrayList<>();
        client.fetchBlob(repo, GOOD_DIGEST, GOOD.length, BlobSink.ofFile(f), 20_000, (cur, total) -> seen.add(cur));
        assertThat(seen.getFirst()).isZero();
        assertThat(Files.readAllBytes(f)).isEqualTo(GOOD);
    }

    @Test
    void redirectsAreFollowedWithoutTheRegistrysToken() throws IOException {
        bearer = true;
        RepositoryRef repo = new RepositoryRef(host, "redir");
        Path out = tmp.resolve("redirected");
        long n = client.fetchBlob(repo, GOOD_DIGEST, GOOD.length, BlobSink.ofFile(out), 0, null);
        assertThat(n).isEqualTo(GOOD.length);
        assertThat(Files.readAllBytes(out)).isEqualTo(GOOD);
        assertThat(storageAuthorizations).containsExactly("null");
        assertThat(tokenQueries).hasSize(1);
    }

    @Test
    void bearerTokensAreFetchedOnceAndCachedPerScope() {
        bearer = true;
        RepositoryRef repo = new RepositoryRef(host, "app");
        FetchedManifest m = client.fetchManifest(repo, "latest");
        assertThat(m.bytes()).isEqualTo(MANIFEST);
        assertThat(m.mediaType()).isEqualTo(RegistryClient.OCI_MANIFEST);
        client.fetchManifest(repo, "latest");
        assertThat(tokenQueries).containsExactly("service=fake&scope=repository%3Aapp%3Apull");
        assertThat(tokenAuthorizations).containsExactly("null");

        // credentials go to the token server as basic auth, in a cache entry of their own
        RegistryClient alice = client.withAuth(RegistryAuth.basic("alice", "s3cret"));
        alice.fetchManifest(repo, "latest");
        assertThat(tokenQueries).hasSize(2);
        assertThat(tokenQueries.get(1)).contains("account=alice");
        assertThat(tokenAuthorizations.get(1)).isEqualTo("Basic " + Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void anIdentityTokenIsExchangedThroughOAuth() {
        bearer = true;
        RegistryClient c = client.withAuth(RegistryAuth.decodeHeader(
                new RegistryAuth("", "", host, "refresh-me", "").encodeHeader()));
        assertThat(c.fetchManifest(new RepositoryRef(host, "app"), "latest").bytes()).isEqualTo(MANIFEST);
        assertThat(tokenQueries).containsExactly(
                "POST grant_type=refresh_token&refresh_token=refresh-me&service=fake&client_id=berth&scope=repository%3Aapp%3Apull");
    }

    @Test
    void aRevokedTokenIsReplaced() {
        bearer = true;
        RepositoryRef repo = new RepositoryRef(host, "app");
        client.fetchManifest(repo, "latest");
        granted.clear(); // the registry no longer takes the cached token
        assertThat(client.fetchManifest(repo, "latest").bytes()).isEqualTo(MANIFEST);
        assertThat(tokenQueries).hasSize(2);
    }

    @Test
    void crossRepositoryMountAsksForPullOnTheSource() {
        bearer = true;
        RepositoryRef repo = new RepositoryRef(host, "app");
        assertThat(client.mountBlob(repo, GOOD_DIGEST, new RepositoryRef(host, "other"))).isTrue();
        assertThat(tokenQueries).hasSize(1);
        assertThat(tokenQueries.getFirst()).contains("scope=repository%3Aapp%3Apull%2Cpush", "scope=repository%3Aother%3Apull");
    }

    @Test
    void loginThroughTheTokenServer() {
        bearer = true;
        assertThat(client.login(host, RegistryAuth.basic("alice", "s3cret")).status()).isEqualTo("Login Succeeded");
        assertThat(tokenQueries.getFirst()).contains("offline_token=true");
        assertThatThrownBy(() -> client.login(host, RegistryAuth.basic("alice", "wrong")))
                .isInstanceOf(UnauthorizedException.class)
                .hasMessage("logging in to " + host + ": incorrect username or password");
    }

    @Test
    void aRegistryTokenIsSentAsItIs() {
        bearer = true;
        granted.put("given", Set.of("repository:app:pull"));
        RegistryClient c = client.withAuth(new RegistryAuth("", "", "", "", "given"));
        assertThat(c.fetchManifest(new RepositoryRef(host, "app"), "latest").bytes()).isEqualTo(MANIFEST);
        assertThat(tokenQueries).isEmpty();
    }

    @Test
    void dockerHubIsPulledThroughAMirror() {
        RegistryClient c = new RegistryClient(new RegistryConfig(List.of(), List.of("http://" + host + "/")));
        FetchedManifest m = c.fetchManifest(new RepositoryRef("docker.io", "library/alpine"), "3");
        assertThat(m.bytes()).isEqualTo(MANIFEST);
    }
}
