package io.berth.registry;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reads the JSON bodies registries and token servers answer with. */
final class ErrorBodies {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ErrorBodies() {}

    record TokenAnswer(String token, long expiresIn, String refreshToken) {}

    /**
     * The registry's {@code errors[]}; failing that a top-level {@code details}, {@code message},
     * {@code error_description} or {@code error} (token servers); failing that the body's text.
     */
    static List<RegistryError> parse(byte[] body) {
        if (body == null || body.length == 0) return List.of();
        JsonNode root = null;
        try {
            root = JSON.readTree(body);
        } catch (JacksonException e) {
            // not JSON: fall through to the text
        }
        List<RegistryError> out = new ArrayList<>();
        if (root != null && root.isObject()) {
            JsonNode errors = root.path("errors");
            if (errors.isArray()) {
                for (JsonNode e : errors) {
                    JsonNode detail = e.path("detail");
                    String d = detail.isMissingNode() || detail.isNull() ? "" : detail.isString() ? detail.asString("") : detail.toString();
                    out.add(new RegistryError(e.path("code").asString(""), e.path("message").asString(""), d));
                }
                if (!out.isEmpty()) return out;
            }
            for (String field : List.of("details", "message", "error_description", "error")) {
                JsonNode n = root.path(field);
                if (n.isString() && !n.asString("").isBlank()) {
                    String code = field.equals("error_description") ? root.path("error").asString("") : "";
                    return List.of(new RegistryError(code, n.asString(""), ""));
                }
            }
            return List.of();
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) return List.of();
        if (text.length() > 200) text = text.substring(0, 200) + "...";
        return List.of(new RegistryError("", text, ""));
    }

    /** The token answer: {@code token} or {@code access_token}, {@code expires_in}, {@code refresh_token}; null if not JSON. */
    static TokenAnswer parseToken(byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JacksonException e) {
            return null;
        }
        if (root == null || !root.isObject()) return null;
        String token = root.path("token").asString("");
        if (token.isEmpty()) token = root.path("access_token").asString("");
        return new TokenAnswer(token, root.path("expires_in").asLong(0), root.path("refresh_token").asString(""));
    }
}
