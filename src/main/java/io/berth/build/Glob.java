package io.berth.build;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A path glob matched in time linear in the path for a given pattern: the pattern is a
 * sequence of tokens run as an NFA over the set of reachable positions, never by
 * backtracking. A backtracking regex of {@code *a*a*a*…b} against a long name of {@code a}s
 * costs exponential time; here it costs path length times pattern length.
 *
 * <p>Syntax, as Go's {@code filepath.Match} with Docker's {@code **}: {@code *} any run of
 * characters but {@code /}; {@code ?} one such character; {@code [...]} a class
 * ({@code ^} negates, {@code a-z} ranges, {@code \} escapes); {@code \x} the character x;
 * with {@link #withDoubleStar}, {@code **}{@code /} any number of whole directories (also
 * none) and a trailing {@code **} anything at all.
 */
public final class Glob {
    private sealed interface Token {}

    private record Literal(char c) implements Token {}

    private record AnyOne() implements Token {}

    private record Star() implements Token {}

    /** {@code **}{@code /}: nothing, or any characters ending in '/'. */
    private record Dirs() implements Token {}

    /** A trailing {@code **}: any characters at all, '/' included. */
    private record Everything() implements Token {}

    private record CharClass(boolean negated, List<char[]> ranges) implements Token {
        boolean accepts(char c) {
            boolean in = false;
            for (char[] r : ranges) {
                if (c >= r[0] && c <= r[1]) {
                    in = true;
                    break;
                }
            }
            return in != negated;
        }
    }

    private final String pattern;
    private final Token[] tokens;

    private Glob(String pattern, List<Token> tokens) {
        this.pattern = pattern;
        this.tokens = tokens.toArray(Token[]::new);
    }

    /** Go's filepath.Match syntax; a malformed class or a trailing escape is a syntax error. */
    public static Glob of(String pattern) throws BuildException {
        return new Glob(pattern, parse(pattern, false));
    }

    /** The same with Docker's {@code **} (.dockerignore patterns). */
    public static Glob withDoubleStar(String pattern) throws BuildException {
        return new Glob(pattern, parse(pattern, true));
    }

    public String pattern() {
        return pattern;
    }

    private static List<Token> parse(String p, boolean doubleStar) throws BuildException {
        List<Token> out = new ArrayList<>();
        int n = p.length();
        for (int i = 0; i < n; i++) {
            char c = p.charAt(i);
            switch (c) {
                case '*' -> {
                    if (doubleStar && i + 1 < n && p.charAt(i + 1) == '*') {
                        i++;
                        if (i + 1 < n && p.charAt(i + 1) == '/') {
                            i++;
                            out.add(new Dirs());
                        } else if (i + 1 >= n) {
                            out.add(new Everything());
                        } else {
                            out.add(new Dirs()); // "**x": Docker's patternmatcher reads it as "**/x"
                        }
                    } else if (out.isEmpty() || !(out.getLast() instanceof Star)) {
                        out.add(new Star()); // consecutive stars match what one does
                    }
                }
                case '?' -> out.add(new AnyOne());
                case '\\' -> {
                    if (i + 1 >= n) throw syntax(p);
                    out.add(new Literal(p.charAt(++i)));
                }
                case '[' -> i = parseClass(p, i, out);
                default -> out.add(new Literal(c));
            }
        }
        return out;
    }

    /** Parses the class opening at {@code start}; returns the index of its closing ']'. */
    private static int parseClass(String p, int start, List<Token> out) throws BuildException {
        int n = p.length();
        int j = start + 1;
        boolean negated = j < n && p.charAt(j) == '^';
        if (negated) j++;
        List<char[]> ranges = new ArrayList<>();
        while (true) {
            if (j >= n) throw syntax(p);
            char lo = p.charAt(j);
            if (lo == ']' && !ranges.isEmpty()) break;
            if (lo == '\\') {
                if (++j >= n) throw syntax(p);
                lo = p.charAt(j);
            }
            j++;
            char hi = lo;
            if (j + 1 < n && p.charAt(j) == '-' && p.charAt(j + 1) != ']') {
                j++;
                hi = p.charAt(j);
                if (hi == '\\') {
                    if (++j >= n) throw syntax(p);
                    hi = p.charAt(j);
                }
                j++;
                if (hi < lo) throw syntax(p);
            }
            ranges.add(new char[] {lo, hi});
        }
        out.add(new CharClass(negated, ranges));
        return j;
    }

    private static BuildException syntax(String p) {
        return new BuildException("syntax error in pattern " + p);
    }

    /**
     * True when the whole path matches. Two sets of states: {@code at[i]} "token i is next",
     * and {@code inDirs[i]} "inside the directories of the {@code **}{@code /} at i".
     */
    public boolean matches(String path) {
        int k = tokens.length;
        boolean[] at = new boolean[k + 1];
        boolean[] inDirs = new boolean[k + 1];
        boolean[] nextAt = new boolean[k + 1];
        boolean[] nextInDirs = new boolean[k + 1];
        at[0] = true;
        close(at);
        for (int pos = 0; pos < path.length(); pos++) {
            char c = path.charAt(pos);
            Arrays.fill(nextAt, false);
            Arrays.fill(nextInDirs, false);
            boolean any = false;
            for (int i = 0; i < k; i++) {
                if (inDirs[i]) {
                    nextInDirs[i] = true;
                    if (c == '/') nextAt[i + 1] = true;
                    any = true;
                }
                if (!at[i]) continue;
                switch (tokens[i]) {
                    case Literal l -> {
                        if (l.c() == c) nextAt[i + 1] = true;
                    }
                    case AnyOne ignored -> {
                        if (c != '/') nextAt[i + 1] = true;
                    }
                    case CharClass cc -> {
                        if (c != '/' && cc.accepts(c)) nextAt[i + 1] = true;
                    }
                    case Star ignored -> {
                        if (c != '/') nextAt[i] = true;
                    }
                    case Everything ignored -> nextAt[i] = true;
                    case Dirs ignored -> {
                        nextInDirs[i] = true;
                        if (c == '/') nextAt[i + 1] = true;
                    }
                }
                any = true;
            }
            if (!any) return false;
            boolean[] t = at;
            at = nextAt;
            nextAt = t;
            t = inDirs;
            inDirs = nextInDirs;
            nextInDirs = t;
            close(at);
        }
        return at[k];
    }

    /** Adds the states reachable without reading: past a star, a {@code **}{@code /} or a trailing {@code **}. */
    private void close(boolean[] at) {
        for (int i = 0; i < tokens.length; i++) {
            if (at[i] && (tokens[i] instanceof Star || tokens[i] instanceof Dirs || tokens[i] instanceof Everything)) {
                at[i + 1] = true;
            }
        }
    }
}
