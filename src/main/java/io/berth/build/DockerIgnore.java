package io.berth.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code .dockerignore} file, matched as Docker's patternmatcher matches it.
 *
 * <ul>
 *   <li>a line starting with {@code #} is a comment; blank lines are skipped; lines are trimmed</li>
 *   <li>{@code !pattern} re-includes what an earlier pattern excluded; the last pattern that
 *       matches decides</li>
 *   <li>patterns are cleaned like paths ({@code ./a/../b} is {@code b}) and a leading
 *       {@code /} is dropped</li>
 *   <li>{@code *} matches any run of characters but {@code /}, {@code ?} one such
 *       character, {@code [...]} a class, {@code **} any number of directories (also
 *       none), {@code \} escapes the next character</li>
 *   <li>a pattern that matches a directory excludes everything beneath it</li>
 * </ul>
 *
 * Paths are relative to the context root with {@code /} separators.
 */
public final class DockerIgnore {
    private static final DockerIgnore EMPTY = new DockerIgnore(List.of());

    private final List<Rule> rules;
    private final boolean hasExceptions;

    private DockerIgnore(List<Rule> rules) {
        this.rules = List.copyOf(rules);
        this.hasExceptions = rules.stream().anyMatch(Rule::exception);
    }

    public static DockerIgnore empty() {
        return EMPTY;
    }

    /** Reads {@code .dockerignore} at the context root; none there means nothing is ignored. */
    public static DockerIgnore read(Path contextRoot) throws IOException, BuildException {
        Path f = contextRoot.resolve(".dockerignore");
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) return EMPTY;
        return parse(Files.readString(f, StandardCharsets.UTF_8));
    }

    /** Parses the content of a {@code .dockerignore}. */
    public static DockerIgnore parse(String content) throws BuildException {
        if (content.startsWith("\uFEFF")) content = content.substring(1);
        List<String> patterns = new ArrayList<>();
        for (String raw : content.split("\n", -1)) {
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            if (line.startsWith("#")) continue;
            String p = line.strip();
            if (p.isEmpty()) continue;
            boolean invert = p.charAt(0) == '!';
            if (invert) p = p.substring(1).strip();
            if (!p.isEmpty()) {
                p = cleanPath(p);
                if (p.length() > 1 && p.charAt(0) == '/') p = p.substring(1);
            }
            patterns.add(invert ? "!" + p : p);
        }
        return of(patterns);
    }

    /** A matcher for patterns as given (already read from a file). */
    public static DockerIgnore of(List<String> patterns) throws BuildException {
        List<Rule> rules = new ArrayList<>();
        for (String raw : patterns) {
            String p = raw.strip();
            if (p.isEmpty()) continue;
            p = cleanPath(p);
            boolean exception = false;
            if (p.charAt(0) == '!') {
                if (p.length() == 1) throw new BuildException("illegal exclusion pattern: \"!\" in .dockerignore");
                exception = true;
                p = p.substring(1);
            }
            rules.add(Rule.compile(p, exception));
        }
        return new DockerIgnore(rules);
    }

    /** The patterns, exceptions with their {@code !}. */
    public List<String> patterns() {
        return rules.stream().map(r -> (r.exception ? "!" : "") + r.pattern).toList();
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /**
     * True when the path is excluded: the last pattern that matches it or one of its parent
     * directories is not an exception.
     */
    public boolean excludes(String path) {
        String file = cleanPath(path);
        if (file.equals(".") || file.isEmpty()) return false;
        String parent = file.contains("/") ? file.substring(0, file.lastIndexOf('/')) : ".";
        String[] parentDirs = parent.split("/");
        boolean matched = false;
        for (Rule r : rules) {
            if (r.exception != matched) continue; // cannot change the outcome
            boolean m = r.matches(file);
            if (!m && !parent.equals(".")) {
                StringBuilder prefix = new StringBuilder();
                for (int i = 0; i < parentDirs.length && !m; i++) {
                    if (i > 0) prefix.append('/');
                    prefix.append(parentDirs[i]);
                    m = r.matches(prefix.toString());
                }
            }
            if (m) matched = !r.exception;
        }
        return matched;
    }

    /**
     * True when a directory is excluded and no exception could bring back anything beneath
     * it, so that a walk can skip it whole. With an exception that might match inside
     * (e.g. {@code !docs/keep.md} or {@code !**}{@code /*.md}), the walk must go in.
     */
    public boolean canSkipDirectory(String dir) {
        String d = cleanPath(dir);
        if (!excludes(d)) return false;
        if (!hasExceptions) return true;
        String dirSlash = d + "/";
        for (Rule r : rules) {
            if (!r.exception) continue;
            // the literal part of the pattern before its first wildcard
            String literal = r.literalPrefix();
            if (literal.length() < r.pattern.length()) {
                // wildcard pattern: it may match inside unless its literal part leads elsewhere
                if (dirSlash.startsWith(literal) || literal.startsWith(dirSlash)) return false;
            } else if ((r.pattern + "/").startsWith(dirSlash)) {
                return false;
            }
        }
        return true;
    }

    /** Go's filepath.Clean for '/'-separated paths. */
    static String cleanPath(String path) {
        if (path.isEmpty()) return ".";
        boolean rooted = path.charAt(0) == '/';
        ArrayDeque<String> parts = new ArrayDeque<>();
        for (String c : path.split("/")) {
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (!parts.isEmpty() && !parts.peekLast().equals("..")) {
                    parts.removeLast();
                } else if (!rooted) {
                    parts.addLast("..");
                }
            } else {
                parts.addLast(c);
            }
        }
        String joined = String.join("/", parts);
        if (rooted) return "/" + joined;
        return joined.isEmpty() ? "." : joined;
    }

    private enum MatchType { EXACT, PREFIX, SUFFIX, GLOB }

    private record Rule(String pattern, boolean exception, MatchType type, Glob glob) {
        static Rule compile(String pattern, boolean exception) throws BuildException {
            MatchType type = MatchType.EXACT;
            int n = pattern.length();
            for (int i = 0; i < n; i++) {
                char ch = pattern.charAt(i);
                if (ch == '*') {
                    if (i + 1 < n && pattern.charAt(i + 1) == '*') {
                        boolean first = i == 0;
                        i++;
                        if (i + 1 < n && pattern.charAt(i + 1) == '/') i++;
                        if (i + 1 >= n && type == MatchType.EXACT) {
                            type = MatchType.PREFIX;
                        } else {
                            type = MatchType.GLOB;
                        }
                        if (first) type = MatchType.SUFFIX;
                    } else {
                        type = MatchType.GLOB;
                    }
                } else if (ch == '?' || ch == '[' || ch == ']' || ch == '\\') {
                    type = MatchType.GLOB;
                    if (ch == '\\') i++;
                }
            }
            Glob glob = null;
            if (type == MatchType.GLOB) {
                try {
                    glob = Glob.withDoubleStar(pattern);
                } catch (BuildException e) {
                    throw new BuildException("syntax error in .dockerignore pattern \"" + pattern + "\": " + e.getMessage());
                }
            }
            return new Rule(pattern, exception, type, glob);
        }

        boolean matches(String path) {
            return switch (type) {
                case EXACT -> path.equals(pattern);
                case PREFIX -> path.startsWith(pattern.substring(0, pattern.length() - 2));
                case SUFFIX -> {
                    String suffix = pattern.substring(2);
                    if (path.endsWith(suffix)) yield true;
                    yield !suffix.isEmpty() && suffix.charAt(0) == '/' && path.equals(suffix.substring(1));
                }
                case GLOB -> glob.matches(path);
            };
        }

        String literalPrefix() {
            int i = 0;
            while (i < pattern.length() && "*?[\\".indexOf(pattern.charAt(i)) < 0) i++;
            return pattern.substring(0, i);
        }
    }
}
