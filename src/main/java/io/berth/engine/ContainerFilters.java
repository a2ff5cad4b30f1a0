package io.berth.engine;

import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerStatus;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** docker ps filters: status, name, id, label, ancestor, exited, before, since, health. */
final class ContainerFilters {
    static final Set<String> KEYS = Set.of("status", "name", "id", "label", "ancestor", "exited", "before", "since", "health",
            "volume", "network", "publish", "expose", "is-task", "isolation");

    private final Map<String, Set<String>> f;
    private final Instant before;
    private final Instant since;

    ContainerFilters(Map<String, Set<String>> filters, Function<String, ContainerRecord> lookup, java.util.List<ContainerRecord> all) {
        this.f = filters;
        for (String k : filters.keySet()) if (!KEYS.contains(k)) throw ContainerException.invalid("invalid filter '" + k + "'");
        for (String s : filters.getOrDefault("status", Set.of())) ContainerStatus.parse(s);
        this.before = pivot(filters.get("before"), lookup, "before");
        this.since = pivot(filters.get("since"), lookup, "since");
    }

    private static Instant pivot(Set<String> refs, Function<String, ContainerRecord> lookup, String key) {
        if (refs == null || refs.isEmpty()) return null;
        String ref = refs.iterator().next();
        ContainerRecord r = lookup.apply(ref);
        if (r == null) throw ContainerException.notFound("No such container: " + ref);
        return r.created();
    }

    boolean matches(ContainerRecord r, Function<String, String> imageIdOf) {
        Set<String> v;
        if ((v = f.get("status")) != null && !v.isEmpty() && !v.contains(r.state().status().word())) return false;
        if ((v = f.get("id")) != null && !v.isEmpty() && v.stream().noneMatch(p -> r.id().startsWith(p))) return false;
        if ((v = f.get("name")) != null && !v.isEmpty() && v.stream().noneMatch(p -> nameMatches(p, r.name()))) return false;
        if (!matchesLabels(r, f)) return false;
        if ((v = f.get("exited")) != null && !v.isEmpty()) {
            if (r.state().status() != ContainerStatus.EXITED) return false;
            boolean any = false;
            for (String code : v) {
                try {
                    if (Integer.parseInt(code) == r.state().exitCode()) any = true;
                } catch (NumberFormatException e) {
                    throw ContainerException.invalid("invalid filter 'exited=" + code + "'");
                }
            }
            if (!any) return false;
        }
        if ((v = f.get("ancestor")) != null && !v.isEmpty()) {
            boolean any = false;
            for (String a : v) {
                if (a.equals(r.imageName()) || r.image().equals(a) || r.image().startsWith("sha256:" + a)) any = true;
                else {
                    String id = imageIdOf.apply(a);
                    if (id != null && id.equals(r.image())) any = true;
                }
            }
            if (!any) return false;
        }
        if ((v = f.get("health")) != null && !v.isEmpty()) {
            String h = r.state().health() == null ? "none" : r.state().health();
            if (!v.contains(h)) return false;
        }
        if (before != null && !r.created().isBefore(before)) return false;
        if (since != null && !r.created().isAfter(since)) return false;
        return true;
    }

    private static boolean nameMatches(String pattern, String name) {
        try {
            return Pattern.compile(pattern).matcher(name).find();
        } catch (PatternSyntaxException e) {
            return name.contains(pattern);
        }
    }

    static boolean matchesLabels(ContainerRecord r, Map<String, Set<String>> f) {
        Set<String> v = f.get("label");
        if (v == null) return true;
        Map<String, String> labels = r.config().labels() == null ? Map.of() : r.config().labels();
        for (String term : v) {
            int eq = term.indexOf('=');
            if (eq < 0) {
                if (!labels.containsKey(term)) return false;
            } else if (!term.substring(eq + 1).equals(labels.get(term.substring(0, eq)))) {
                return false;
            }
        }
        return true;
    }

    static boolean matchesUntil(ContainerRecord r, Map<String, Set<String>> f) {
        Set<String> v = f.get("until");
        if (v == null || v.isEmpty()) return true;
        for (String u : v) {
            Instant t;
            try {
                t = Instant.ofEpochSecond(Long.parseLong(u));
            } catch (NumberFormatException e) {
                t = Instant.parse(u);
            }
            if (!r.created().isBefore(t)) return false;
        }
        return true;
    }
}
