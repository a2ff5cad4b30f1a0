package io.berth.registry;

import io.berth.content.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of the OCI distribution API (Docker registry v2): manifests and blobs, pull and push,
 * with Docker's token and basic authentication.
 *
 * <p>Thread-safe: one instance (and the views {@link #withAuth} makes of it) share one HTTP client,
 * the challenges learnt from each registry and the token cache, so many blobs can move at once on
 * virtual threads. Methods block; call them from virtual threads.
 *
 * <p>Failures are {@link RegistryException}s naming what was being done; a sink or source that fails
 * gives its own {@link IOException}.
 */
public final class RegistryClient {
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    /** Manifests larger than this are refused, as containerd does. */
    public static final int MAX_MANIFEST_BYTES = 4 << 20;

    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);
    private static final String ACCEPT_MANIFESTS = String.join(", ", OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST);
    private static final int BUFFER = 256 * 1024;
    private static final int MAX_REDIRECTS = 10;
    static final Duration SHORT_TIMEOUT = Duration.ofMinutes(2);

    private final Shared shared;
    private final RegistryAuth auth;

    /** State shared by every view of one client. */
    private record Shared(RegistryConfig config, HttpClient http, RegistryTokens tokens,
                          Map<String, AuthChallenge> challenges) {}

    /** An endpoint a request goes to: credentials are sent to the registry itself, never to a mirror. */
    private record Target(URI base, boolean credentials) {
        String authority() {
            return base.getRawAuthority();
        }
    }

    public RegistryClient(RegistryConfig config) {
        this(config, defaultHttpClient());
    }

    /** HTTP/1.1, no redirects followed, the JDK's trust store loaded at the first TLS connection. */
    static HttpClient defaultHttpClient() {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30))
                .sslContext(LazyTls.context())
                .sslParameters(new javax.net.ssl.SSLParameters()) // the context's defaults, read when a TLS connection opens
                .build();
    }

    /** With a given HTTP client, e.g. one with a custom TLS context; it must not follow redirects itself. */
    public RegistryClient(RegistryConfig config, HttpClient http) {
        this(new Shared(config, http, new RegistryTokens(http), new ConcurrentHashMap<>()), RegistryAuth.ANONYMOUS);
    }

    private RegistryClient(Shared shared, RegistryAuth auth) {
        this.shared = shared;
        this.auth = auth;
    }

    /** A view of this client that sends the given credentials to registries (not to mirrors). */
    public RegistryClient withAuth(RegistryAuth auth) {
        return new RegistryClient(shared, auth == null ? RegistryAuth.ANONYMOUS : auth);
    }

    public RegistryConfig config() {
        return shared.config();
    }

    public RegistryAuth auth() {
        return auth;
    }

    // ---------------------------------------------------------------- login

    /**
     * Checks credentials against {@code GET /v2/} of a registry, through its challenge (basic or token).
     *
     * @throws UnauthorizedException with the registry's or token server's message when refused
     */
    public LoginResult login(String registryHost, RegistryAuth credentials) {
        RegistryClient as = withAuth(credentials);
        Target target = new Target(shared.config().endpoint(registryHost), true);
        String operation = "logging in to " + registryHost;
        HttpResponse<InputStream> r = as.exchange(operation, target, List.of(), get(v2(target, "")), true);
        as.expect(operation, r, 200);
        String refresh = "";
        AuthChallenge ch = shared.challenges().get(target.authority());
        if (ch != null && ch.isBearer()) {
            refresh = shared.tokens().cached(ch, List.of(), credentials).map(RegistryTokens.Token::refreshToken).orElse("");
        }
        return new LoginResult("Login Succeeded", refresh);
    }

    // ---------------------------------------------------------------- pull

    /**
     * Fetches a manifest or index by tag or digest, accepting Docker schema 2 and OCI manifests and
     * indexes, and checks its bytes against the digest asked for or the one the registry reports.
     *
     * @throws NotFoundException       e.g. {@code manifest for localhost:5000/x:nope not found: manifest unknown: manifest unknown}
     * @throws DigestMismatchException when the bytes do not hash to the expected digest
     */
    public FetchedManifest fetchManifest(RepositoryRef repo, String reference) {
        String named = repo + (isDigest(reference) ? "@" : ":") + reference;
        return overPullEndpoints(repo, target -> fetchManifestFrom(target, repo, reference, named));
    }

    private FetchedManifest fetchManifestFrom(Target target, RepositoryRef repo, String reference, String named) {
        String operation = "fetching manifest " + named;
        HttpRequest.Builder req = get(v2(target, repo.repository() + "/manifests/" + reference))
                .header("Accept", ACCEPT_MANIFESTS)
                .timeout(SHORT_TIMEOUT);
        HttpResponse<InputStream> r = exchange(operation, target, pullScope(repo), req, true);
        if (r.statusCode() == 404) {
            throw new NotFoundException("manifest for " + named + " not found", readErrors(r));
        }
        expect(operation, r, 200);
        long declared = r.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (declared > MAX_MANIFEST_BYTES) {
            close(r);
            throw new RegistryException(operation, 200, List.of(), "manifest too large: " + declared + " bytes (limit " + MAX_MANIFEST_BYTES + ")", null);
        }
        byte[] bytes;
        try (InputStream in = r.body()) {
            bytes = in.readNBytes(MAX_MANIFEST_BYTES + 1);
        } catch (IOException e) {
            throw RegistryFailures.unreachable(operation, target.base(), e);
        }
        if (bytes.length > MAX_MANIFEST_BYTES) {
            throw new RegistryException(operation, 200, List.of(), "manifest larger than " + MAX_MANIFEST_BYTES + " bytes", null);
        }
        Digest actual = Digest.sha256(bytes);
        Digest expected = null;
        if (isDigest(reference)) {
            expected = Digest.parse(reference);
        } else {
            Optional<String> reported = r.headers().firstValue("Docker-Content-Digest");
            if (reported.isPresent() && reported.get().startsWith("sha256:")) expected = Digest.parse(reported.get().strip());
        }
        if (expected != null && !expected.equals(actual)) {
            throw new DigestMismatchException(operation, expected, actual,
                    "manifest digest mismatch: expected " + expected + ", got " + actual);
        }
        String type = r.headers().firstValue("Content-Type").map(RegistryClient::stripParams).orElse("");
        return new FetchedManifest(bytes, type, actual);
    }

    /**
     * Asks for a manifest's digest, media type and size without its body ({@code HEAD}), e.g. to see
     * whether a tag moved.
     *
     * @return empty when the registry holds no such manifest; also empty when it reports no digest
     */
    public Optional<ManifestInfo> headManifest(RepositoryRef repo, String reference) {
        String named = repo + (isDigest(reference) ? "@" : ":") + reference;
        return overPullEndpoints(repo, target -> {
            String operation = "checking manifest " + named;
            HttpRequest.Builder req = HttpRequest.newBuilder(v2(target, repo.repository() + "/manifests/" + reference))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .header("Accept", ACCEPT_MANIFESTS)
                    .timeout(SHORT_TIMEOUT);
            HttpResponse<InputStream> r = exchange(operation, target, pullScope(repo), req, true);
            if (r.statusCode() == 404) {
                close(r);
                return Optional.<ManifestInfo>empty();
            }
            expect(operation, r, 200);
            close(r);
            Optional<String> reported = r.headers().firstValue("Docker-Content-Digest").map(String::strip);
            Digest digest;
            if (reported.isPresent() && reported.get().startsWith("sha256:")) {
                digest = Digest.parse(reported.get());
            } else if (isDigest(reference)) {
                digest = Digest.parse(reference);
            } else {
                return Optional.<ManifestInfo>empty();
            }
            String type = r.headers().firstValue("Content-Type").map(RegistryClient::stripParams).orElse("");
            return Optional.of(new ManifestInfo(digest, type, r.headers().firstValueAsLong("Content-Length").orElse(-1)));
        });
    }

    /**
     * Streams a blob into a sink, resuming at {@code offset} with a Range request when the sink already
     * holds that many bytes (the registry may ignore the range: then it starts over), following
     * redirects, and verifying size and digest over the whole content.
     *
     * @param expectedSize the size from the manifest, or -1 when unknown
     * @return the blob's size
     * @throws DigestMismatchException when the bytes do not hash to {@code digest} or have the wrong size;
     *                                 the sink then holds bad bytes the caller must discard
     * @throws IOException             when the sink fails
     */
    public long fetchBlob(RepositoryRef repo, Digest digest, long expectedSize, BlobSink sink, long offset,
                          ProgressListener progress) throws IOException {
        if (offset < 0) throw new IllegalArgumentException("negative offset " + offset);
        ProgressListener listener = progress == null ? ProgressListener.NONE : progress;
        AtomicReference<IOException> sinkFailure = new AtomicReference<>();
        try {
            return overPullEndpoints(repo, target -> fetchBlobFrom(target, repo, digest, expectedSize, sink, offset, listener, sinkFailure));
        } catch (SinkFailed e) {
            throw sinkFailure.get();
        }
    }

    /** Carries a sink's IOException out of the endpoint loop. */
    private static final class SinkFailed extends RuntimeException {
        SinkFailed() {
            super(null, null, false, false);
        }
    }

    private long fetchBlobFrom(Target target, RepositoryRef repo, Digest digest, long expectedSize, BlobSink sink,
                               long offset, ProgressListener progress, AtomicReference<IOException> sinkFailure) {
        String operation = "fetching blob " + repo + "@" + digest;
        if (expectedSize >= 0 && offset > expectedSize) offset = 0;
        HttpRequest.Builder req = get(v2(target, repo.repository() + "/blobs/" + digest));
        if (offset > 0) req.header("Range", "bytes=" + offset + "-");
        HttpResponse<InputStream> r = exchange(operation, target, pullScope(repo), req, true);
        if (r.statusCode() == 416 && offset > 0) { // the range lies past the end: start over
            close(r);
            return fetchBlobFrom(target, repo, digest, expectedSize, sink, 0, progress, sinkFailure);
        }
        if (r.statusCode() == 404) {
            throw new NotFoundException(operation, readErrors(r));
        }
        long start;
        if (r.statusCode() == 206 && offset > 0) {
            start = parseContentRangeStart(r.headers().firstValue("Content-Range").orElse(""));
            if (start != offset) {
                close(r);
                throw new RegistryException(operation, 206, List.of(),
                        "registry answered range from " + start + " when asked for " + offset, null);
            }
        } else {
            expect(operation, r, 200);
            start = 0;
        }
        long total = expectedSize;
        if (total < 0) {
            long len = r.headers().firstValueAsLong("Content-Length").orElse(-1);
            if (len >= 0) total = start + len;
        }
        MessageDigest md = Digest.newSha256();
        long count = start;
        byte[] buf = new byte[BUFFER];
        try (InputStream in = r.body()) {
            OutputStream out;
            try {
                if (start > 0) {
                    long hashed = 0;
                    try (InputStream held = sink.existing(start)) {
                        int n;
                        while ((n = held.read(buf)) > 0) {
                            md.update(buf, 0, n);
                            hashed += n;
                        }
                    }
                    if (hashed != start) throw new IOException("sink holds " + hashed + " bytes, not " + start + " to resume from");
                }
                out = sink.open(start);
            } catch (IOException e) {
                sinkFailure.set(e);
                throw new SinkFailed();
            }
            try (out) {
                progress.progress(count, total);
                while (true) {
                    int n;
                    try {
                        n = in.read(buf);
                    } catch (IOException e) {
                        throw new RegistryUnreachableException(operation,
                                "connection to " + target.authority() + " lost after " + count + " bytes: " + RegistryFailures.describe(e), e);
                    }
                    if (n < 0) break;
                    if (expectedSize >= 0 && count + n > expectedSize) {
                        throw new DigestMismatchException(operation, digest, null,
                                "blob is larger than the expected " + expectedSize + " bytes");
                    }
                    md.update(buf, 0, n);
                    try {
                        out.write(buf, 0, n);
                    } catch (IOException e) {
                        sinkFailure.set(e);
                        throw new SinkFailed();
                    }
                    count += n;
                    progress.progress(count, total);
                }
            } catch (IOException e) { // closing the sink
                sinkFailure.set(e);
                throw new SinkFailed();
            }
        } catch (IOException e) { // closing the response: the content was read already
            log.debug("closing the response of {}: {}", operation, e.toString());
        }
        if (expectedSize >= 0 && count != expectedSize) {
            throw new DigestMismatchException(operation, digest, null,
                    "blob is " + count + " bytes, expected " + expectedSize);
        }
        Digest actual = Digest.ofSha256(md);
        if (!actual.equals(digest)) {
            throw new DigestMismatchException(operation, digest, actual,
                    "blob digest mismatch: expected " + digest + ", got " + actual);
        }
        return count;
    }

    // ---------------------------------------------------------------- push

    /** True when the repository holds the blob ({@code HEAD} answered 200). */
    public boolean blobExists(RepositoryRef repo, Digest digest) {
        String operation = "checking blob " + repo + "@" + digest;
        Target target = pushTarget(repo);
        HttpRequest.Builder req = HttpRequest.newBuilder(v2(target, repo.repository() + "/blobs/" + digest))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).timeout(SHORT_TIMEOUT);
        HttpResponse<InputStream> r = exchange(operation, target, pushScope(repo), req, true);
        if (r.statusCode() == 404) {
            close(r);
            return false;
        }
        expect(operation, r, 200);
        close(r);
        return true;
    }

    /**
     * Asks the registry to mount a blob from another repository on the same registry.
     *
     * @return true when mounted (201); false when the caller must upload it (202, or another registry)
     */
    public boolean mountBlob(RepositoryRef repo, Digest digest, RepositoryRef from) {
        if (!shared.config().apiHost(repo.registryHost()).equals(shared.config().apiHost(from.registryHost()))) return false;
        String operation = "mounting blob " + digest + " from " + from + " into " + repo;
        Target target = pushTarget(repo);
        URI uri = URI.create(v2(target, repo.repository() + "/blobs/uploads/") + "?mount=" + enc(digest.toString())
                + "&from=" + enc(from.repository()));
        List<String> scopes = List.of("repository:" + repo.repository() + ":pull,push", "repository:" + from.repository() + ":pull");
        HttpResponse<InputStream> r = exchange(operation, target, scopes,
                HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).timeout(SHORT_TIMEOUT), false);
        if (r.statusCode() == 201) {
            close(r);
            return true;
        }
        expect(operation, r, 202);
        close(r);
        // an upload session was opened instead: cancel it, the caller uploads in a session of its own
        r.headers().firstValue("Location").ifPresent(loc -> {
            try {
                HttpResponse<InputStream> d = exchange(operation, target, pushScope(repo),
                        HttpRequest.newBuilder(r.uri().resolve(loc)).DELETE().timeout(SHORT_TIMEOUT), false);
                close(d);
            } catch (RegistryException e) {
                log.debug("cancelling the upload session of {}: {}", operation, e.getMessage());
            }
        });
        return false;
    }

    /**
     * Uploads a blob: starts an upload session, then sends the whole body in one {@code PUT ?digest=},
     * streaming it from the source.
     *
     * @param size the blob's size, or -1 to send it chunked
     * @return the digest the registry reports
     * @throws IOException when the source fails
     */
    public Digest uploadBlob(RepositoryRef repo, Digest digest, long size, BlobSource source, ProgressListener progress)
            throws IOException {
        ProgressListener listener = progress == null ? ProgressListener.NONE : progress;
        String operation = "pushing blob " + repo + "@" + digest;
        Target target = pushTarget(repo);
        URI session = startUpload(operation, target, repo);
        URI put = withDigest(session, digest);

        AtomicReference<IOException> sourceFailure = new AtomicReference<>();
        Supplier<InputStream> opener = () -> {
            try {
                return new CountingInputStream(source.open(), size, listener, sourceFailure);
            } catch (IOException e) {
                sourceFailure.set(e);
                return InputStream.nullInputStream();
            }
        };
        HttpRequest.BodyPublisher body = size >= 0
                ? HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(opener), size)
                : HttpRequest.BodyPublishers.ofInputStream(opener);
        HttpRequest.Builder req = HttpRequest.newBuilder(put).PUT(body).header("Content-Type", "application/octet-stream");
        HttpResponse<InputStream> r = sendBody(operation, target, repo, req, sourceFailure, 201);
        return checkReported(operation, r, digest);
    }

    /**
     * Uploads a blob whose digest is known only once it is all sent (a layer compressed while it
     * goes out): the body streams in one chunked {@code PATCH}, then {@code PUT ?digest=} with
     * no body closes the session with the digest {@code digest} yields after the stream ended.
     *
     * @return the digest the registry reports
     */
    public Digest uploadStreamingBlob(RepositoryRef repo, InputStream body, BlobDigest digest, ProgressListener progress)
            throws IOException {
        ProgressListener listener = progress == null ? ProgressListener.NONE : progress;
        String operation = "pushing a blob to " + repo;
        Target target = pushTarget(repo);
        URI session = startUpload(operation, target, repo);

        AtomicReference<IOException> sourceFailure = new AtomicReference<>();
        InputStream counted = new CountingInputStream(body, -1, listener, sourceFailure);
        HttpRequest.Builder patch = HttpRequest.newBuilder(session)
                .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> counted))
                .header("Content-Type", "application/octet-stream");
        HttpResponse<InputStream> patched = sendBody(operation, target, repo, patch, sourceFailure, 202);
        URI next = patched.uri().resolve(patched.headers().firstValue("Location").orElse(session.toString()));
        Digest sent = digest.get();
        HttpResponse<InputStream> r = exchange(operation, target, pushScope(repo),
                HttpRequest.newBuilder(withDigest(next, sent))
                        .PUT(HttpRequest.BodyPublishers.noBody()).header("Content-Type", "application/octet-stream"), false);
        expect(operation, r, 201);
        close(r);
        return checkReported(operation, r, sent);
    }

    /** {@code POST /blobs/uploads/}: the upload session's address. */
    private URI startUpload(String operation, Target target, RepositoryRef repo) {
        HttpResponse<InputStream> started = exchange(operation, target, pushScope(repo),
                HttpRequest.newBuilder(v2(target, repo.repository() + "/blobs/uploads/"))
                        .POST(HttpRequest.BodyPublishers.noBody()).timeout(SHORT_TIMEOUT), false);
        expect(operation, started, 202);
        close(started);
        String location = started.headers().firstValue("Location").orElseThrow(() ->
                new RegistryException(operation, 202, List.of(), "the registry gave no upload location", null));
        return started.uri().resolve(location);
    }

    private static URI withDigest(URI session, Digest digest) {
        String sep = session.getRawQuery() == null ? "?" : "&";
        return URI.create(session + sep + "digest=" + enc(digest.toString()));
    }

    /**
     * Sends a request whose body reads a source that may fail: the source's failure is the one
     * reported (the registry then only saw a cut body); else the answer must have {@code status}.
     */
    private HttpResponse<InputStream> sendBody(String operation, Target target, RepositoryRef repo, HttpRequest.Builder request,
                                               AtomicReference<IOException> sourceFailure, int status) throws IOException {
        HttpResponse<InputStream> r;
        try {
            r = exchange(operation, target, pushScope(repo), request, false);
        } catch (RegistryUnreachableException e) {
            if (sourceFailure.get() != null) throw sourceFailure.get();
            throw e;
        }
        if (sourceFailure.get() != null) {
            close(r);
            throw sourceFailure.get();
        }
        expect(operation, r, status);
        close(r);
        return r;
    }

    /** The digest the registry says it stored, which must be the one sent. */
    private static Digest checkReported(String operation, HttpResponse<InputStream> r, Digest sent) {
        Digest reported = r.headers().firstValue("Docker-Content-Digest").map(x -> Digest.parse(x.strip())).orElse(sent);
        if (!reported.equals(sent)) {
            throw new DigestMismatchException(operation, sent, reported, "the registry stored the blob as " + reported + ", not " + sent);
        }
        return reported;
    }

    /** The digest of a streamed blob, known once the stream has ended. */
    @FunctionalInterface
    public interface BlobDigest {
        Digest get() throws IOException;
    }

    /**
     * Uploads a manifest or index under a tag or digest.
     *
     * @return the digest the registry reports (checked against the bytes' own)
     */
    public Digest putManifest(RepositoryRef repo, String reference, byte[] manifest, String mediaType) {
        String operation = "pushing manifest " + repo + (isDigest(reference) ? "@" : ":") + reference;
        Target target = pushTarget(repo);
        HttpRequest.Builder req = HttpRequest.newBuilder(v2(target, repo.repository() + "/manifests/" + reference))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest))
                .header("Content-Type", mediaType)
                .timeout(SHORT_TIMEOUT);
        HttpResponse<InputStream> r = exchange(operation, target, pushScope(repo), req, false);
        expect(operation, r, 201);
        close(r);
        Digest own = Digest.sha256(manifest);
        Optional<String> reported = r.headers().firstValue("Docker-Content-Digest");
        if (reported.isPresent() && reported.get().startsWith("sha256:")) {
            Digest d = Digest.parse(reported.get().strip());
            if (!d.equals(own)) {
                throw new DigestMismatchException(operation, own, d, "the registry stored the manifest as " + d + ", not " + own);
            }
        }
        return own;
    }

    // ---------------------------------------------------------------- the exchange

    @FunctionalInterface
    private interface EndpointCall<T> {
        T call(Target target);
    }

    /** Runs a pull-side call against each endpoint in turn (mirrors first), returning the first success. */
    private <T> T overPullEndpoints(RepositoryRef repo, EndpointCall<T> call) {
        List<URI> endpoints = shared.config().pullEndpoints(repo.registryHost());
        for (int i = 0; i < endpoints.size(); i++) {
            boolean last = i == endpoints.size() - 1;
            Target target = new Target(endpoints.get(i), last);
            if (last) return call.call(target);
            try {
                return call.call(target);
            } catch (DigestMismatchException e) {
                throw e;
            } catch (RegistryException e) {
                log.info("mirror {} failed, trying the next endpoint: {}", endpoints.get(i), e.getMessage());
            }
        }
        throw new IllegalStateException("no endpoint for " + repo);
    }

    private Target pushTarget(RepositoryRef repo) {
        return new Target(shared.config().endpoint(repo.registryHost()), true);
    }

    /**
     * Sends a request with the authorization the registry's known challenge calls for; on 401 learns the
     * challenge, gets a token (or uses basic credentials) and sends it once more. Redirects of GET and HEAD
     * are followed, without the Authorization header when they leave the registry's host.
     */
    private HttpResponse<InputStream> exchange(String operation, Target target, List<String> scopes,
                                               HttpRequest.Builder request, boolean followRedirects) {
        String authorization = authorization(operation, target, scopes, null);
        HttpResponse<InputStream> r = send(operation, target, request, authorization, followRedirects);
        if (r.statusCode() != 401) return r;
        List<RegistryError> errors = readErrors(r);
        AuthChallenge challenge = pick(AuthChallenge.parse(r.headers().allValues("WWW-Authenticate")));
        if (challenge == null) {
            throw new UnauthorizedException(operation, 401, errors, errors.isEmpty() ? "unauthorized, and the registry gave no usable challenge" : null);
        }
        if (!r.uri().getRawAuthority().equals(target.authority())) {
            throw new UnauthorizedException(operation, 401, errors, null); // a redirect target refused us
        }
        shared.challenges().put(target.authority(), challenge);
        String fresh = authorization(operation, target, scopes, challenge);
        if (fresh == null || (fresh.equals(authorization) && !challenge.isBearer())) {
            throw new UnauthorizedException(operation, 401, errors, errors.isEmpty() ? "authentication required" : null);
        }
        r = send(operation, target, request, fresh, followRedirects);
        if (r.statusCode() == 401) {
            List<RegistryError> again = readErrors(r);
            throw new UnauthorizedException(operation, 401, again, again.isEmpty() ? "unauthorized" : null);
        }
        return r;
    }

    /**
     * The Authorization header for a request, or null for none. With {@code challenge} null, uses the
     * challenge learnt before (and cached tokens); with one, a 401 just came: tokens are fetched anew.
     */
    private String authorization(String operation, Target target, List<String> scopes, AuthChallenge challenge) {
        if (target.credentials() && !auth.registryToken().isEmpty()) return "Bearer " + auth.registryToken();
        boolean renew = challenge != null;
        AuthChallenge ch = renew ? challenge : shared.challenges().get(target.authority());
        if (ch == null) return null;
        RegistryAuth creds = target.credentials() ? auth : RegistryAuth.ANONYMOUS;
        if (ch.isBasic()) return creds.hasBasic() ? creds.basicHeader() : null;
        if (ch.isBearer()) {
            List<String> wanted = scopes;
            if (renew && !ch.param("scope").isEmpty()) {
                TreeSet<String> union = new TreeSet<>(scopes);
                for (String s : ch.param("scope").split(" ")) if (!s.isBlank()) union.add(s);
                wanted = List.copyOf(union);
            }
            boolean plainHttpAllowed = shared.config().isInsecure(target.authority());
            return "Bearer " + shared.tokens().token(operation, ch, scopes, wanted, creds, renew, plainHttpAllowed).value();
        }
        return null;
    }

    private static AuthChallenge pick(List<AuthChallenge> challenges) {
        for (AuthChallenge c : challenges) if (c.isBearer() && !c.param("realm").isEmpty()) return c;
        for (AuthChallenge c : challenges) if (c.isBasic()) return c;
        return null;
    }

    private HttpResponse<InputStream> send(String operation, Target target, HttpRequest.Builder request,
                                           String authorization, boolean followRedirects) {
        HttpRequest req = request.copy().build();
        String registryAuthority = target.authority();
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(req, (name, value) -> !name.equalsIgnoreCase("Authorization"));
            if (authorization != null && registryAuthority.equals(req.uri().getRawAuthority())) {
                b.header("Authorization", authorization);
            }
            HttpRequest built = b.build();
            HttpResponse<InputStream> r;
            try {
                r = shared.http().send(built, HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw RegistryFailures.unreachable(operation, built.uri(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryUnreachableException(operation, "interrupted", e);
            }
            int s = r.statusCode();
            boolean redirect = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
            if (!redirect || !followRedirects || r.headers().firstValue("Location").isEmpty()) return r;
            close(r);
            if (hop >= MAX_REDIRECTS) {
                throw new RegistryException(operation, s, List.of(), "too many redirects (last to " + r.headers().firstValue("Location").get() + ")", null);
            }
            URI next = built.uri().resolve(r.headers().firstValue("Location").get());
            req = HttpRequest.newBuilder(built, (name, value) -> true).uri(next).build();
        }
    }

    /** Throws the fitting RegistryException unless the status is the one wanted. */
    private void expect(String operation, HttpResponse<InputStream> r, int wanted) {
        int s = r.statusCode();
        if (s == wanted) return;
        List<RegistryError> errors = readErrors(r);
        throw switch (s) {
            case 401, 403 -> new UnauthorizedException(operation, s, errors, errors.isEmpty() ? (s == 403 ? "access denied" : "unauthorized") : null);
            case 404 -> new NotFoundException(operation, errors);
            default -> new RegistryException(operation, s, errors);
        };
    }

    /** Reads (at most 64 KiB of) an error body: the registry's {@code errors[]}, or its text. */
    static List<RegistryError> readErrors(HttpResponse<InputStream> r) {
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readNBytes(64 * 1024);
        } catch (IOException e) {
            return List.of();
        }
        return ErrorBodies.parse(body);
    }

    private static void close(HttpResponse<InputStream> r) {
        try {
            r.body().close();
        } catch (IOException ignored) {
            // the connection is dropped; nothing to tell
        }
    }

    // ---------------------------------------------------------------- small helpers

    private static HttpRequest.Builder get(URI uri) {
        return HttpRequest.newBuilder(uri).GET();
    }

    private static URI v2(Target target, String path) {
        return URI.create(target.base() + "/v2/" + path);
    }

    private static List<String> pullScope(RepositoryRef repo) {
        return List.of("repository:" + repo.repository() + ":pull");
    }

    private static List<String> pushScope(RepositoryRef repo) {
        return List.of("repository:" + repo.repository() + ":pull,push");
    }

    static boolean isDigest(String reference) {
        return reference.contains(":");
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String stripParams(String contentType) {
        int semi = contentType.indexOf(';');
        return (semi >= 0 ? contentType.substring(0, semi) : contentType).strip().toLowerCase(Locale.ROOT);
    }

    private static long parseContentRangeStart(String header) {
        // bytes START-END/TOTAL
        String h = header.strip();
        if (!h.startsWith("bytes ")) return -1;
        int dash = h.indexOf('-');
        if (dash < 0) return -1;
        try {
            return Long.parseLong(h.substring(6, dash).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Counts bytes read from an upload source and reports them. */
    private static final class CountingInputStream extends java.io.FilterInputStream {
        private final long total;
        private final ProgressListener progress;
        private long count;

        private final AtomicReference<IOException> failure;

        CountingInputStream(InputStream in, long total, ProgressListener progress, AtomicReference<IOException> failure) {
            super(in);
            this.total = total;
            this.progress = progress;
            this.failure = failure;
            progress.progress(0, total);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n;
            try {
                n = super.read(b, off, len);
            } catch (IOException e) {
                failure.set(e);
                throw e;
            }
            if (n > 0) {
                count += n;
                progress.progress(count, total);
            }
            return n;
        }
    }
}
