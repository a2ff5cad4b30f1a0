package io.berth.api;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The {@code filters} query parameter: a JSON object of key → values, either the current
 * form {"key": {"value": true}} or the old one {"key": ["value"]}; both are accepted.
 */
final class Filters {
    private Filters() {}

    static Map<String, Set<String>> parse(String raw, Set<String> allowedKeys) {
        Map<String, Set<String>> terms = new LinkedHashMap<>();
        if (raw == null || raw.isBlank()) return terms;
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(raw);
        } catch (JacksonException e) {
            throw ApiException.badRequest("invalid filters: malformed JSON: " + JsonErrors.describe(e));
        }
        if (!root.isObject()) throw ApiException.badRequest("invalid filters: want a JSON object of key to values");
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String key = e.getKey();
            if (!allowedKeys.contains(key)) throw ApiException.badRequest("invalid filter '" + key + "'");
            Set<String> values = new LinkedHashSet<>();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                for (Map.Entry<String, JsonNode> value : v.properties()) {
                    if (value.getValue().asBoolean()) values.add(value.getKey());
                }
            } else if (v.isArray()) {
                v.forEach(x -> values.add(x.asString()));
            } else {
                throw ApiException.badRequest("invalid filter '" + key + "': want an object or a list of values");
            }
            terms.put(key, values);
        }
        return terms;
    }
}
