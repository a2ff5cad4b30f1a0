package io.berth.api;

import io.berth.BuildInfo;
import io.berth.api.http.ClientGoneException;
import io.berth.api.http.HttpExchange;
import io.berth.api.http.HttpProtocolException;
import io.berth.api.http.HttpRequest;
import io.berth.api.http.HttpServer;
import io.berth.engine.Engine;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Docker Engine API over the HTTP layer: strips and checks the /vX.Y prefix, sets the
 * headers dockerd sets on every answer, routes, and turns errors into {"message": ...}.
 */
public final class ApiHandler implements HttpServer.Handler {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    private static final Pattern VERSIONED = Pattern.compile("^/v([0-9]+(?:\\.[0-9]+)?)(/.*)$");

    private final Router router = new Router();
    private final CountDownLatch shutdown = new CountDownLatch(1);

    public ApiHandler(Engine engine) {
        new SystemRoutes(engine).register(router);
        new EventRoutes(engine, shutdown).register(router);
        new VolumeRoutes(engine).register(router);
        new ImageRoutes(engine).register(router);
        new ContainerRoutes(engine).register(router);
        new ExecRoutes(engine).register(router);
        new ArchiveRoutes(engine).register(router);
        new NetworkRoutes(engine).register(router);
        new BuildRoutes(engine).register(router);
        new SwarmRoutes().register(router);
        new PluginRoutes(engine.plugins()).register(router);
    }

    /** Ends long-lived streams (events) so the daemon can stop. */
    public void shutdown() {
        shutdown.countDown();
    }

    @Override
    public void handle(HttpRequest request, HttpExchange exchange) throws IOException {
        exchange.setHeader("Api-Version", ApiVersion.CURRENT.toString());
        exchange.setHeader("Docker-Experimental", "false");
        exchange.setHeader("Ostype", "linux");
        exchange.setHeader("Server", "Berth/" + BuildInfo.VERSION + " (linux)");
        String path = request.path();
        ApiVersion version = ApiVersion.CURRENT;
        try {
            Matcher m = VERSIONED.matcher(path);
            if (m.matches()) {
                version = ApiVersion.parse(m.group(1));
                path = m.group(2);
                if (version.compareTo(ApiVersion.CURRENT) > 0) {
                    throw ApiException.badRequest("client version " + version + " is too new. Maximum supported API version is " + ApiVersion.CURRENT);
                }
                if (version.compareTo(ApiVersion.MINIMUM) < 0) {
                    throw ApiException.badRequest("client version " + version + " is too old. Minimum supported API version is "
                            + ApiVersion.MINIMUM + ", please upgrade your client to a newer version");
                }
            }
            Router.Match match = router.find(request.method(), path);
            if (match == null) {
                log.debug("no route for {} {}", request.method(), path);
                throw ApiException.notFound("page not found");
            }
            long started = System.nanoTime();
            match.handler().handle(new ApiCall(request, exchange, match.params(), version));
            if (log.isDebugEnabled()) {
                log.debug("{} {} took {} ms", request.method(), path, (System.nanoTime() - started) / 1_000_000);
            }
        } catch (Throwable e) { // Errors too (a stack overflow, out of memory): every request gets a status line
            fail(request, exchange, e);
        }
    }

    private static void fail(HttpRequest request, HttpExchange exchange, Throwable e) throws IOException {
        if (ApiErrors.clientGone(e)) {
            log.debug("{} {}: the client left: {}", request.method(), request.path(), e.getMessage());
            throw e instanceof IOException io ? io : new ClientGoneException("client left", new IOException(e));
        }
        HttpProtocolException framing = ApiErrors.framingError(e);
        if (framing != null) throw framing; // the HTTP layer answers it and closes the connection
        ApiErrors.Answer answer = ApiErrors.answer(e);
        if (e instanceof Error) {
            log.error("{} {} failed", request.method(), request.path(), e);
        } else if (answer.status() >= 500) {
            log.warn("{} {} failed: {}", request.method(), request.path(), answer.message(), log.isDebugEnabled() ? e : null);
        } else {
            log.debug("{} {}: {} {}", request.method(), request.path(), answer.status(), answer.message());
        }
        if (answer.status() == 304) {
            if (!exchange.isCommitted()) exchange.sendEmpty(304);
            return;
        }
        answer(exchange, answer.status(), answer.message());
    }

    private static void answer(HttpExchange exchange, int status, String message) throws IOException {
        if (exchange.isCommitted()) {
            // A stream has begun; dockerd puts the error into the stream as a JSON line then.
            throw new IOException("error after the response began: " + message);
        }
        exchange.send(status, "application/json", HttpServer.errorJson(message));
    }
}
