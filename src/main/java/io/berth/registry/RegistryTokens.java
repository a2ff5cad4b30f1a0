package io.berth.registry;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;


/** Gets tokens from token servers and keeps them per realm, service, scopes and credentials until they expire. */
final class RegistryTokens {
    record Token(String value, long expiresAtNanos, String refreshToken) {
        boolean fresh() {
            return System.nanoTime() - expiresAtNanos < 0;
        }
    }

    private record Key(String realm, String service, List<String> scopes, RegistryAuth auth) {}

    private final HttpClient http;
    private final Map<Key, Token> tokens = new ConcurrentHashMap<>();
    private final Map<Key, ReentrantLock> locks = new ConcurrentHashMap<>();

    RegistryTokens(HttpClient http) {
        this.http = http;
    }

    Optional<Token> cached(AuthChallenge ch, List<String> scopes, RegistryAuth creds) {
        return Optional.ofNullable(tokens.get(key(ch, scopes, creds)));
    }

    private static Key key(AuthChallenge ch, List<String> scopes, RegistryAuth creds) {
        return new Key(ch.param("realm"), ch.param("service"), List.copyOf(new TreeSet<>(scopes)), creds);
    }

    /**
     * A token for {@code scopes}, cached under them; when it must be fetched, {@code wanted} (scopes plus
     * what the registry's challenge asked for) is requested.
     */
    Token token(String operation, AuthChallenge ch, List<String> scopes, List<String> wanted, RegistryAuth creds, boolean renew,
                boolean plainHttpAllowed) {
        Key key = key(ch, scopes, creds);
        Token t = tokens.get(key);
        if (!renew && t != null && t.fresh()) return t;
        ReentrantLock lock = locks.computeIfAbsent(key, k -> new ReentrantLock());
        lock.lock();
        try {
            Token now = tokens.get(key);
            // another thread may have fetched one while this one waited
            if (now != null && now.fresh() && now != t) return now;
            if (!renew && now != null && now.fresh()) return now;
            Token fetched = fetch(operation, ch, wanted, creds, plainHttpAllowed);
            if (tokens.size() > 1000) tokens.values().removeIf(x -> !x.fresh());
            tokens.put(key, fetched);
            return fetched;
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param plainHttpAllowed whether the registry is marked insecure (or is on loopback); only
     *     then may credentials go to a token server over plain http, where anyone on the path reads them
     */
    private Token fetch(String operation, AuthChallenge ch, List<String> scopes, RegistryAuth creds, boolean plainHttpAllowed) {
        String realm = ch.param("realm");
        URI realmUri;
        try {
            realmUri = URI.create(realm);
        } catch (IllegalArgumentException e) {
            throw new UnauthorizedException(operation, 401, List.of(), "the registry named an invalid token realm \"" + realm + "\"");
        }
        if (realmUri.getScheme() == null || !(realmUri.getScheme().equals("https") || realmUri.getScheme().equals("http"))) {
            throw new UnauthorizedException(operation, 401, List.of(), "the registry named an invalid token realm \"" + realm + "\"");
        }
        boolean sendsCredentials = creds.hasBasic() || !creds.identityToken().isEmpty();
        if (sendsCredentials && realmUri.getScheme().equals("http") && !plainHttpAllowed) {
            throw new UnauthorizedException(operation, 401, List.of(), "refusing to send credentials to the token server "
                    + realmUri.getScheme() + "://" + realmUri.getRawAuthority() + " over plain http: the registry must name an https"
                    + " token realm, or be listed in the insecure registries");
        }
        String service = ch.param("service");
        boolean login = scopes.isEmpty();
        HttpRequest.Builder req;
        if (!creds.identityToken().isEmpty()) {
            Map<String, String> form = new LinkedHashMap<>();
            form.put("grant_type", "refresh_token");
            form.put("refresh_token", creds.identityToken());
            form.put("service", service);
            form.put("client_id", "berth");
            if (!scopes.isEmpty()) form.put("scope", String.join(" ", scopes));
            StringBuilder body = new StringBuilder();
            form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(RegistryClient.enc(k)).append('=').append(RegistryClient.enc(v)));
            req = HttpRequest.newBuilder(realmUri).POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                    .header("Content-Type", "application/x-www-form-urlencoded");
        } else {
            StringBuilder q = new StringBuilder();
            if (!service.isEmpty()) q.append("service=").append(RegistryClient.enc(service));
            for (String s : scopes) q.append(q.isEmpty() ? "" : "&").append("scope=").append(RegistryClient.enc(s));
            if (creds.hasBasic()) {
                q.append(q.isEmpty() ? "" : "&").append("account=").append(RegistryClient.enc(creds.username()));
                if (login) q.append("&offline_token=true&client_id=berth");
            }
            String sep = realmUri.getRawQuery() == null ? "?" : "&";
            req = HttpRequest.newBuilder(URI.create(realm + (q.isEmpty() ? "" : sep + q))).GET();
            if (creds.hasBasic()) req.header("Authorization", creds.basicHeader());
        }
        req.timeout(RegistryClient.SHORT_TIMEOUT);
        String what = operation + ": getting a token from " + realmUri.getScheme() + "://" + realmUri.getRawAuthority();
        HttpResponse<byte[]> r;
        try {
            r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw RegistryFailures.unreachable(what, realmUri, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnreachableException(what, "interrupted", e);
        }
        int s = r.statusCode();
        if (s == 401 || s == 403) {
            List<RegistryError> errors = ErrorBodies.parse(r.body());
            throw new UnauthorizedException(operation, s, errors, errors.isEmpty() ? "the token server refused the credentials" : null);
        }
        if (s != 200) {
            throw new RegistryException(what, s, ErrorBodies.parse(r.body()));
        }
        ErrorBodies.TokenAnswer answer = ErrorBodies.parseToken(r.body());
        if (answer == null || answer.token().isEmpty()) {
            throw new UnauthorizedException(operation, s, List.of(), "the token server at " + realmUri.getRawAuthority() + " sent no token");
        }
        long seconds = Math.max(60, answer.expiresIn());
        long keep = Math.max(seconds - 10, seconds / 2);
        return new Token(answer.token(), System.nanoTime() + Duration.ofSeconds(keep).toNanos(), answer.refreshToken());
    }
}
