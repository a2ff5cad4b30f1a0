package io.berth.engine;

import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Docker's event filters: values of one key are alternatives (OR), different keys must
 * all match (AND). Keys: type, event, container, image, label, volume, network, daemon, scope.
 */
public record EventFilter(Map<String, Set<String>> terms) implements Predicate<Event> {
    public static final Set<String> KEYS = Set.of(
            "type", "event", "container", "image", "label", "volume", "network", "daemon", "scope",
            "plugin", "node", "service", "secret", "config");

    public EventFilter {
        terms = Map.copyOf(terms);
    }

    @Override
    public boolean test(Event e) {
        for (Map.Entry<String, Set<String>> term : terms.entrySet()) {
            if (term.getValue().isEmpty()) continue;
            if (!matches(term.getKey(), term.getValue(), e)) return false;
        }
        return true;
    }

    private static boolean matches(String key, Set<String> values, Event e) {
        return switch (key) {
            case "type" -> values.contains(e.type());
            case "event" -> values.contains(e.action()) || values.stream().anyMatch(v -> e.action().startsWith(v + ":"));
            case "scope" -> values.contains(e.scope());
            case "container" -> e.type().equals("container") && actorMatches(values, e);
            case "volume" -> e.type().equals("volume") && actorMatches(values, e);
            case "network" -> e.type().equals("network") && actorMatches(values, e);
            case "daemon" -> e.type().equals("daemon") && actorMatches(values, e);
            case "plugin", "node", "service", "secret", "config" -> e.type().equals(key) && actorMatches(values, e);
            case "image" -> values.stream().anyMatch(v -> imageMatches(v, e));
            case "label" -> values.stream().allMatch(v -> labelMatches(v, e));
            default -> false;
        };
    }

    /** An actor is named by its ID, an ID prefix, or its name attribute. */
    private static boolean actorMatches(Set<String> values, Event e) {
        String name = e.attributes().get("name");
        for (String v : values) {
            if (v.equals(name) || e.actorId().equals(v) || (v.length() >= 1 && e.actorId().startsWith(v))) return true;
        }
        return false;
    }

    private static boolean imageMatches(String value, Event e) {
        String image = e.type().equals("image") ? e.actorId() : e.attributes().get("image");
        if (image == null) return false;
        if (image.equals(value) || e.actorId().equals(value)) return true;
        String bare = value.contains(":") ? value : value + ":latest";
        return image.equals(bare) || (e.type().equals("image") && e.attributes().getOrDefault("name", "").equals(value));
    }

    private static boolean labelMatches(String value, Event e) {
        int eq = value.indexOf('=');
        if (eq < 0) return e.attributes().containsKey(value);
        return value.substring(eq + 1).equals(e.attributes().get(value.substring(0, eq)));
    }
}
