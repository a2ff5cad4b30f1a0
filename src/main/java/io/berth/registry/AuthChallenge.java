package io.berth.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One challenge of a {@code WWW-Authenticate} header, e.g.
 * {@code Bearer realm="https://auth.example/token",service="registry",scope="repository:x:pull"}.
 *
 * @param scheme lower case: {@code bearer} or {@code basic} (others are kept but not answered)
 * @param params parameter names in lower case, values unquoted
 */
public record AuthChallenge(String scheme, Map<String, String> params) {
    public AuthChallenge {
        scheme = scheme.toLowerCase(Locale.ROOT);
        params = Map.copyOf(params);
    }

    public boolean isBearer() {
        return scheme.equals("bearer");
    }

    public boolean isBasic() {
        return scheme.equals("basic");
    }

    public String param(String name) {
        return params.getOrDefault(name, "");
    }

    /** Parses every challenge in the given header values; unparseable pieces are skipped. */
    public static List<AuthChallenge> parse(List<String> headerValues) {
        List<AuthChallenge> out = new ArrayList<>();
        for (String value : headerValues) parseOne(value, out);
        return out;
    }

    private static void parseOne(String s, List<AuthChallenge> out) {
        int i = 0, n = s.length();
        String scheme = null;
        Map<String, String> params = new LinkedHashMap<>();
        while (i < n) {
            while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == ',' || s.charAt(i) == '\t')) i++;
            if (i >= n) break;
            int start = i;
            while (i < n && isTokenChar(s.charAt(i))) i++;
            if (i == start) { // stray character
                i++;
                continue;
            }
            String token = s.substring(start, i);
            int j = i;
            while (j < n && s.charAt(j) == ' ') j++;
            if (j < n && s.charAt(j) == '=' && scheme != null) {
                // name=value
                j++;
                while (j < n && s.charAt(j) == ' ') j++;
                StringBuilder v = new StringBuilder();
                if (j < n && s.charAt(j) == '"') {
                    j++;
                    while (j < n && s.charAt(j) != '"') {
                        if (s.charAt(j) == '\\' && j + 1 < n) j++;
                        v.append(s.charAt(j++));
                    }
                    j++; // closing quote
                } else {
                    while (j < n && s.charAt(j) != ',' && s.charAt(j) != ' ') v.append(s.charAt(j++));
                }
                params.put(token.toLowerCase(Locale.ROOT), v.toString());
                i = j;
            } else {
                // a new scheme begins (token68 values are not used by registries and are ignored)
                if (scheme != null) out.add(new AuthChallenge(scheme, params));
                scheme = token;
                params = new LinkedHashMap<>();
            }
        }
        if (scheme != null) out.add(new AuthChallenge(scheme, params));
    }

    private static boolean isTokenChar(char c) {
        return c > ' ' && c < 127 && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }
}
