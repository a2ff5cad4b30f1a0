package io.berth.api.http;

import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A parsed request head and its body stream (already de-chunked and length-bounded). */
public final class HttpRequest {
    private final String method;
    private final String target;
    private final String path;
    private final Map<String, List<String>> query;
    private final Map<String, String> headers;
    private final InputStream body;

    HttpRequest(String method, String target, Map<String, String> headers, InputStream body) {
        this.method = method;
        this.target = target;
        int q = target.indexOf('?');
        this.path = decode(q < 0 ? target : target.substring(0, q), false);
        this.query = parseQuery(q < 0 ? "" : target.substring(q + 1));
        this.headers = headers;
        this.body = body;
    }

    public String method() {
        return method;
    }

    /** The request target as sent, with its query string. */
    public String target() {
        return target;
    }

    /** The decoded path, without the query string. */
    public String path() {
        return path;
    }

    /** The first value of a query parameter (as Go's FormValue, so as dockerd reads a repeated one), or null. */
    public String query(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    public List<String> queryAll(String name) {
        return query.getOrDefault(name, List.of());
    }

    public Map<String, List<String>> queryParameters() {
        return query;
    }

    /** A header by case-insensitive name, or null. */
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public InputStream body() {
        return body;
    }

    private static Map<String, List<String>> parseQuery(String raw) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (raw.isEmpty()) return params;
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq), true);
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1), true);
            params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    private static String decode(String s, boolean plusIsSpace) {
        if (s.indexOf('%') < 0 && (!plusIsSpace || s.indexOf('+') < 0)) return s;
        try {
            return URLDecoder.decode(plusIsSpace ? s : s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HttpProtocolException(400, "malformed percent-encoding in \"" + s + "\"");
        }
    }
}
