package io.berth.api;

import io.berth.api.http.HttpExchange;
import io.berth.api.http.HttpRequest;
import java.io.IOException;
import java.util.Map;
import tools.jackson.core.JacksonException;

/** One routed request: the HTTP exchange, the path's parameters and the negotiated version. */
public record ApiCall(HttpRequest request, HttpExchange exchange, Map<String, String> pathParams, ApiVersion version) {

    public String path(String name) {
        return pathParams.get(name);
    }

    public String query(String name) {
        return request.query(name);
    }

    /** Docker's boolean query values: 1, true, True, yes count as true; absent is {@code fallback}. */
    public boolean queryBool(String name, boolean fallback) {
        String v = request.query(name);
        if (v == null) return fallback;
        return switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "1", "true", "yes" -> true;
            case "", "0", "false", "no" -> false;
            default -> throw ApiException.badRequest("invalid boolean value for \"" + name + "\": " + v);
        };
    }

    /**
     * JSON bodies above this are refused with 413 before they are buffered: a create or
     * connect body is a few KiB, and a 100 MB one cost +390 MB of heap before its 400.
     */
    static final int MAX_JSON_BODY = 16 << 20;

    /** Reads the body as JSON; malformed JSON is a 400 naming what was wrong and where. */
    public <T> T readJson(Class<T> type) throws IOException {
        byte[] body = jsonBody();
        if (body.length == 0) throw ApiException.badRequest("empty request body: a JSON object was expected");
        try {
            return Json.MAPPER.readValue(body, type);
        } catch (JacksonException e) {
            throw ApiException.badRequest("malformed JSON in request body: " + JsonErrors.describe(e));
        }
    }

    /** The body of a JSON route, at most {@link #MAX_JSON_BODY} bytes; larger is a 413 and the connection closes. */
    public byte[] jsonBody() throws IOException {
        String declared = request.header("Content-Length");
        if (declared != null && Long.parseLong(declared) > MAX_JSON_BODY) throw bodyTooLarge();
        byte[] body = request.body().readNBytes(MAX_JSON_BODY + 1);
        if (body.length > MAX_JSON_BODY) throw bodyTooLarge();
        return body;
    }

    private ApiException bodyTooLarge() {
        exchange.closeWithoutBody();
        return new ApiException(413, "request body too large: a JSON body may be at most " + (MAX_JSON_BODY >> 20) + " MiB");
    }

    public void json(int status, Object value) throws IOException {
        exchange.send(status, "application/json", Json.bytes(value));
    }
}
