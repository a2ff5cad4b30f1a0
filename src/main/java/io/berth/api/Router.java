package io.berth.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps method and path to a handler. Patterns name their parameters: {@code {id}} matches
 * one path segment, {@code {name*}} the rest of the path including slashes (image names).
 */
final class Router {
    interface Handler {
        void handle(ApiCall call) throws Exception;
    }

    record Route(String method, Pattern pattern, List<String> names, Handler handler) {}

    record Match(Handler handler, Map<String, String> params) {}

    private final List<Route> routes = new ArrayList<>();

    void add(String method, String pattern, Handler handler) {
        List<String> names = new ArrayList<>();
        StringBuilder regex = new StringBuilder("^");
        Matcher m = Pattern.compile("\\{([a-zA-Z]+)(\\*?)}").matcher(pattern);
        int last = 0;
        while (m.find()) {
            regex.append(Pattern.quote(pattern.substring(last, m.start())));
            regex.append(m.group(2).isEmpty() ? "([^/]+)" : "(.+)");
            names.add(m.group(1));
            last = m.end();
        }
        regex.append(Pattern.quote(pattern.substring(last))).append("/?$");
        routes.add(new Route(method, Pattern.compile(regex.toString()), names, handler));
    }

    /** The matching route, or null; HEAD falls back to GET's handler. */
    Match find(String method, String path) {
        Match m = findExact(method, path);
        if (m == null && method.equals("HEAD")) m = findExact("GET", path);
        return m;
    }

    private Match findExact(String method, String path) {
        for (Route r : routes) {
            if (!r.method().equals(method)) continue;
            Matcher m = r.pattern().matcher(path);
            if (!m.matches()) continue;
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 0; i < r.names().size(); i++) params.put(r.names().get(i), m.group(i + 1));
            return new Match(r.handler(), params);
        }
        return null;
    }
}
