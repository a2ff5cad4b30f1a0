package io.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Credentials go to a plain-http token server only for a registry marked insecure; a real token server on 127.0.0.1. */
class TokenRealmTest {
    HttpServer tokenServer;
    final List<String> authorizations = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        tokenServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        tokenServer.createContext("/token", exchange -> {
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            byte[] body = "{\"token\":\"t0k3n\",\"expires_in\":300}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        tokenServer.start();
    }

    @AfterEach
    void stop() {
        tokenServer.stop(0);
    }

    private AuthChallenge plainHttpRealm() {
        String realm = "http://127.0.0.1:" + tokenServer.getAddress().getPort() + "/token";
        return AuthChallenge.parse(List.of("Bearer realm=\"" + realm + "\",service=\"registry.example\"")).getFirst();
    }

    @Test
    void credentialsAreNotSentOverPlainHttpForASecureRegistry() {
        var tokens = new RegistryTokens(HttpClient.newHttpClient());
        RegistryAuth creds = RegistryAuth.basic("alice", "secret");
        assertThatThrownBy(() -> tokens.token("pulling registry.example/app", plainHttpRealm(), List.of("repository:app:pull"),
                List.of("repository:app:pull"), creds, false, false))
                .isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("refusing to send credentials to the token server http://127.0.0.1:")
                .hasMessageContaining("insecure registries");
        assertThat(authorizations).isEmpty(); // nothing at all reached the token server
    }

    @Test
    void anInsecureRegistryMayUseAPlainHttpTokenServer() {
        var tokens = new RegistryTokens(HttpClient.newHttpClient());
        RegistryAuth creds = RegistryAuth.basic("alice", "secret");
        var token = tokens.token("pulling 127.0.0.1/app", plainHttpRealm(), List.of("repository:app:pull"),
                List.of("repository:app:pull"), creds, false, true);
        assertThat(token.value()).isEqualTo("t0k3n");
        assertThat(authorizations).containsExactly(creds.basicHeader());
    }

    @Test
    void anonymousTokensMayStillComeOverPlainHttp() {
        var tokens = new RegistryTokens(HttpClient.newHttpClient());
        var token = tokens.token("pulling registry.example/app", plainHttpRealm(), List.of("repository:app:pull"),
                List.of("repository:app:pull"), RegistryAuth.ANONYMOUS, false, false);
        assertThat(token.value()).isEqualTo("t0k3n");
        assertThat(authorizations).containsExactly("null");
    }
}
