package io.berth.image;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Dockerfile instructions applied to an image's runtime config, as {@code docker import
 * --change} and {@code docker commit --change} take them: CMD, ENTRYPOINT, ENV, EXPOSE,
 * LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD.
 */
public final class ConfigChanges {
    private ConfigChanges() {}

    /** Applies each change in order; throws IllegalArgumentException naming a change it cannot apply. */
    public static ImageConfig.ContainerConfig apply(ImageConfig.ContainerConfig base, List<String> changes) {
        ImageConfig.ContainerConfig c = base == null ? ImageConfig.ContainerConfig.empty() : base;
        for (String change : changes) {
            for (String line : change.split("\n")) {
                if (!line.isBlank()) c = applyOne(c, line.strip());
            }
        }
        return c;
    }

    private static ImageConfig.ContainerConfig applyOne(ImageConfig.ContainerConfig c, String line) {
        int sp = indexOfSpace(line);
        String word = (sp < 0 ? line : line.substring(0, sp)).toUpperCase(Locale.ROOT);
        String rest = sp < 0 ? "" : line.substring(sp + 1).strip();
        return switch (word) {
            case "CMD" -> with(c, "Cmd", command(rest, word));
            case "ENTRYPOINT" -> with(c, "Entrypoint", command(rest, word));
            case "ENV" -> with(c, "Env", env(c.env(), rest));
            case "EXPOSE" -> with(c, "ExposedPorts", expose(c.exposedPorts(), rest));
            case "LABEL" -> with(c, "Labels", labels(c.labels(), rest));
            case "USER" -> with(c, "User", required(rest, word));
            case "WORKDIR" -> with(c, "WorkingDir", workdir(c.workingDir(), required(rest, word)));
            case "VOLUME" -> with(c, "Volumes", volumes(c.volumes(), rest));
            case "STOPSIGNAL" -> with(c, "StopSignal", required(rest, word));
            case "ONBUILD" -> with(c, "OnBuild", append(c.onBuild(), required(rest, word)));
            default -> throw new IllegalArgumentException(word + " is not a valid change command");
        };
    }

    private static int indexOfSpace(String s) {
        for (int i = 0; i < s.length(); i++) if (Character.isWhitespace(s.charAt(i))) return i;
        return -1;
    }

    private static String required(String rest, String word) {
        if (rest.isEmpty()) throw new IllegalArgumentException(word + " requires exactly one argument");
        return rest;
    }

    /** JSON form as is; shell form wrapped in {@code /bin/sh -c}. */
    static List<String> command(String rest, String word) {
        List<String> json = jsonArray(rest);
        if (json != null) return json;
        if (rest.isEmpty()) throw new IllegalArgumentException(word + " requires at least one argument");
        return List.of("/bin/sh", "-c", rest);
    }

    private static List<String> jsonArray(String rest) {
        if (!rest.startsWith("[")) return null;
        try {
            JsonNode n = ImageJson.MAPPER.readTree(rest);
            if (!n.isArray()) return null;
            List<String> out = new ArrayList<>();
            for (JsonNode x : n) {
                if (!x.isString()) return null;
                out.add(x.asString());
            }
            return out;
        } catch (JacksonException e) {
            return null;
        }
    }

    private static List<String> env(List<String> old, String rest) {
        Map<String, String> vars = new LinkedHashMap<>();
        if (old != null) {
            for (String e : old) {
                int eq = e.indexOf('=');
                vars.put(eq < 0 ? e : e.substring(0, eq), eq < 0 ? "" : e.substring(eq + 1));
            }
        }
        for (Map.Entry<String, String> e : pairs(rest, "ENV").entrySet()) vars.put(e.getKey(), e.getValue());
        List<String> out = new ArrayList<>();
        vars.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    private static Map<String, String> labels(Map<String, String> old, String rest) {
        Map<String, String> out = new LinkedHashMap<>(old == null ? Map.of() : old);
        out.putAll(pairs(rest, "LABEL"));
        return out;
    }

    /** {@code k=v k2="v 2"}, or the old form {@code k value with spaces}. */
    static Map<String, String> pairs(String rest, String word) {
        List<String> words = words(rest);
        if (words.isEmpty()) throw new IllegalArgumentException(word + " requires at least one argument");
        Map<String, String> out = new LinkedHashMap<>();
        if (!words.getFirst().contains("=")) {
            int sp = indexOfSpace(rest);
            if (sp < 0) throw new IllegalArgumentException(word + " names " + rest + " but gives it no value");
            out.put(rest.substring(0, sp), unquote(rest.substring(sp + 1).strip()));
            return out;
        }
        for (String w : words) {
            int eq = w.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException(word + " " + rest + ": \"" + w + "\" is not name=value");
            out.put(w.substring(0, eq), w.substring(eq + 1));
        }
        return out;
    }

    private static String unquote(String s) {
        List<String> w = words(s);
        return String.join(" ", w);
    }

    /** Splits on spaces, honouring double and single quotes and backslash escapes; quotes are removed. */
    static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (quote != 0) {
                if (ch == quote) quote = 0;
                else if (ch == '\\' && quote == '"' && i + 1 < s.length()) cur.append(s.charAt(++i));
                else cur.append(ch);
            } else if (ch == '"' || ch == '\'') {
                quote = ch;
                inWord = true;
            } else if (ch == '\\' && i + 1 < s.length()) {
                cur.append(s.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(ch)) {
                if (inWord) out.add(cur.toString());
                cur.setLength(0);
                inWord = false;
            } else {
                cur.append(ch);
                inWord = true;
            }
        }
        if (quote != 0) throw new IllegalArgumentException("unterminated quote in \"" + s + "\"");
        if (inWord) out.add(cur.toString());
        return out;
    }

    private static Map<String, Map<String, Object>> expose(Map<String, Map<String, Object>> old, String rest) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>(old == null ? Map.of() : old);
        List<String> ports = words(rest);
        if (ports.isEmpty()) throw new IllegalArgumentException("EXPOSE requires at least one argument");
        for (String p : ports) {
            String proto = "tcp";
            String num = p;
            int slash = p.indexOf('/');
            if (slash >= 0) {
                num = p.substring(0, slash);
                proto = p.substring(slash + 1).toLowerCase(Locale.ROOT);
            }
            if (!num.matches("[0-9]+(-[0-9]+)?") || !(proto.equals("tcp") || proto.equals("udp") || proto.equals("sctp"))) {
                throw new IllegalArgumentException("EXPOSE: invalid port \"" + p + "\": want PORT[/tcp|udp|sctp]");
            }
            out.put(num + "/" + proto, Map.of());
        }
        return out;
    }

    private static Map<String, Map<String, Object>> volumes(Map<String, Map<String, Object>> old, String rest) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>(old == null ? Map.of() : old);
        List<String> json = jsonArray(rest);
        List<String> paths = json != null ? json : words(rest);
        if (paths.isEmpty()) throw new IllegalArgumentException("VOLUME requires at least one argument");
        for (String p : paths) out.put(p, Map.of());
        return out;
    }

    private static String workdir(String old, String dir) {
        if (dir.startsWith("/") || old == null || old.isEmpty()) return dir.startsWith("/") ? dir : "/" + dir;
        return old.endsWith("/") ? old + dir : old + "/" + dir;
    }

    private static List<String> append(List<String> old, String v) {
        List<String> out = new ArrayList<>(old == null ? List.of() : old);
        out.add(v);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static ImageConfig.ContainerConfig with(ImageConfig.ContainerConfig c, String field, Object value) {
        return new ImageConfig.ContainerConfig(
                c.hostname(), c.domainname(),
                field.equals("User") ? (String) value : c.user(),
                c.attachStdin(), c.attachStdout(), c.attachStderr(),
                field.equals("ExposedPorts") ? (Map<String, Map<String, Object>>) value : c.exposedPorts(),
                c.tty(), c.openStdin(), c.stdinOnce(),
                field.equals("Env") ? (List<String>) value : c.env(),
                field.equals("Cmd") ? (List<String>) value : c.cmd(),
                c.healthcheck(), c.argsEscaped(), c.image(),
                field.equals("Volumes") ? (Map<String, Map<String, Object>>) value : c.volumes(),
                field.equals("WorkingDir") ? (String) value : c.workingDir(),
                field.equals("Entrypoint") ? (List<String>) value : c.entrypoint(),
                field.equals("OnBuild") ? (List<String>) value : c.onBuild(),
                field.equals("Labels") ? (Map<String, String>) value : c.labels(),
                field.equals("StopSignal") ? (String) value : c.stopSignal(),
                c.stopTimeout(), c.shell());
    }
}
