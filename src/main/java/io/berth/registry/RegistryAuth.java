package io.berth.registry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Credentials for one registry, as Docker clients send them in {@code X-Registry-Auth}.
 * Empty strings stand for absent values; {@link #ANONYMOUS} has none.
 *
 * @param identityToken an OAuth2 refresh token given by an earlier login, used at the token server
 * @param registryToken a bearer token sent to the registry as it is
 */
public record RegistryAuth(String username, String password, String serverAddress, String identityToken, String registryToken) {
    public static final RegistryAuth ANONYMOUS = new RegistryAuth("", "", "", "", "");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    public RegistryAuth {
        username = username == null ? "" : username;
        password = password == null ? "" : password;
        serverAddress = serverAddress == null ? "" : serverAddress;
        identityToken = identityToken == null ? "" : identityToken;
        registryToken = registryToken == null ? "" : registryToken;
    }

    public static RegistryAuth basic(String username, String password) {
        return new RegistryAuth(username, password, "", "", "");
    }

    public boolean isAnonymous() {
        return username.isEmpty() && password.isEmpty() && identityToken.isEmpty() && registryToken.isEmpty();
    }

    public boolean hasBasic() {
        return !username.isEmpty() || !password.isEmpty();
    }

    /** The value of an {@code Authorization: Basic ...} header for username and password. */
    String basicHeader() {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Decodes Docker's {@code X-Registry-Auth} header: base64 (URL-safe or standard, padded or not) of
     * {@code {"username","password","serveraddress","identitytoken","registrytoken"}}; keys match
     * case-insensitively, as Go's decoder does, and an {@code auth} field ({@code base64(user:pass)}) is
     * understood too. A null or blank header is anonymous.
     *
     * @throws IllegalArgumentException when the header is not base64 of a JSON object
     */
    public static RegistryAuth decodeHeader(String header) {
        if (header == null || header.isBlank()) return ANONYMOUS;
        String text = header.strip().replace('+', '-').replace('/', '_');
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '=') end--;
        byte[] json;
        try {
            json = Base64.getUrlDecoder().decode(text.substring(0, end));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid X-Registry-Auth header: not base64: " + e.getMessage(), e);
        }
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("invalid X-Registry-Auth header: not JSON: " + e.getOriginalMessage(), e);
        }
        if (node == null || node.isNull() || node.isMissingNode()) return ANONYMOUS;
        if (!node.isObject()) throw new IllegalArgumentException("invalid X-Registry-Auth header: not a JSON object");
        String user = "", pass = "", server = "", identity = "", registry = "", auth = "";
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String value = field.getValue().isString() ? field.getValue().asString("") : "";
            switch (field.getKey().toLowerCase(Locale.ROOT)) {
                case "username" -> user = value;
                case "password" -> pass = value;
                case "serveraddress" -> server = value;
                case "identitytoken" -> identity = value;
                case "registrytoken" -> registry = value;
                case "auth" -> auth = value;
                default -> { }
            }
        }
        if (user.isEmpty() && pass.isEmpty() && !auth.isEmpty()) {
            try {
                String pair = new String(Base64.getMimeDecoder().decode(auth), StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                if (colon >= 0) {
                    user = pair.substring(0, colon);
                    pass = pair.substring(colon + 1);
                }
            } catch (IllegalArgumentException ignored) {
                // an unreadable "auth" leaves the other fields as they are, as Docker does
            }
        }
        return new RegistryAuth(user, pass, server, identity, registry);
    }

    /** Encodes as Docker clients do (URL-safe base64 of the JSON); for tests and the CLI. */
    public String encodeHeader() {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        if (!username.isEmpty()) m.put("username", username);
        if (!password.isEmpty()) m.put("password", password);
        if (!serverAddress.isEmpty()) m.put("serveraddress", serverAddress);
        if (!identityToken.isEmpty()) m.put("identitytoken", identityToken);
        if (!registryToken.isEmpty()) m.put("registrytoken", registryToken);
        return Base64.getUrlEncoder().encodeToString(JSON.writeValueAsBytes(m));
    }

    @Override
    public String toString() {
        return "RegistryAuth[username=" + username + ", serverAddress=" + serverAddress
                + (password.isEmpty() ? "" : ", password=***")
                + (identityToken.isEmpty() ? "" : ", identityToken=***")
                + (registryToken.isEmpty() ? "" : ", registryToken=***") + "]";
    }
}
