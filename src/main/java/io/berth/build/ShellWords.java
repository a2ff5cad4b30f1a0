package io.berth.build;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Docker's variable substitution for the instructions the builder expands itself (ADD,
 * COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR and ARG defaults): a
 * word is processed the way a POSIX shell would process one word, without splitting it.
 *
 * <ul>
 *   <li>{@code $VAR}, {@code ${VAR}}; an unset variable is empty; {@code $} before a
 *       character that starts no name stays a {@code $}</li>
 *   <li>{@code ${VAR:-word}} {@code ${VAR-word}} {@code ${VAR:+word}} {@code ${VAR+word}}
 *       {@code ${VAR:?msg}} {@code ${VAR?msg}}; the colon forms treat empty as unset</li>
 *   <li>{@code ${VAR#pat}} {@code ${VAR##pat}} {@code ${VAR%pat}} {@code ${VAR%%pat}}
 *       {@code ${VAR/pat/repl}} {@code ${VAR//pat/repl}} with {@code *} and {@code ?}</li>
 *   <li>single quotes take everything literally; double quotes keep spaces and expand
 *       variables, the escape character escapes only {@code "}, {@code $} and itself there;
 *       outside quotes the escape character escapes any character; quotes are removed</li>
 * </ul>
 *
 * The escape character is {@code \} or the one the {@code # escape=} directive chose.
 */
public final class ShellWords {
    private static final int EOF = -1;
    /**
     * Nesting of {@code ${...}} allowed: no Dockerfile needs more, and the lexer's recursion
     * stays far from the stack's end (20,000 levels overflowed it).
     */
    static final int MAX_NESTING = 64;
    /** Longest expansion: one word may not grow past this (an ARG chain doubling a value). */
    static final int MAX_EXPANSION = 1 << 20;

    private ShellWords() {}

    /** Expands one word with the default escape character. */
    public static String expand(String word, Map<String, String> env) throws ExpansionException {
        return expand(word, env, '\\');
    }

    /** Expands one word: variables substituted, quotes and escapes removed. */
    public static String expand(String word, Map<String, String> env, char escape) throws ExpansionException {
        return new Lexer(word, env, escape).processStopOn(EOF, false);
    }

    private static final class Lexer {
        private final String s;
        private final Map<String, String> env;
        private final char escape;
        private int pos;
        private int depth;
        private boolean rawEscapes;

        Lexer(String s, Map<String, String> env, char escape) {
            this.s = s;
            this.env = env;
            this.escape = escape;
        }

        int peek() {
            return pos < s.length() ? s.charAt(pos) : EOF;
        }

        int next() {
            return pos < s.length() ? s.charAt(pos++) : EOF;
        }

        String processStopOn(int stop, boolean raw) throws ExpansionException {
            boolean saved = rawEscapes;
            rawEscapes = raw;
            try {
                StringBuilder out = new StringBuilder();
                while (peek() != EOF) {
                    int ch = peek();
                    if (stop != EOF && ch == stop) {
                        next();
                        return out.toString();
                    }
                    if (ch == '$') {
                        append(out, processDollar());
                    } else if (ch == '\'') {
                        out.append(processSingleQuote());
                    } else if (ch == '"') {
                        append(out, processDoubleQuote());
                    } else {
                        ch = next();
                        if (ch == escape) {
                            if (rawEscapes) out.append((char) ch);
                            ch = next();
                            if (ch == EOF) break; // an escape at the very end is dropped
                        }
                        out.append((char) ch);
                    }
                }
                if (stop != EOF) {
                    throw new ExpansionException("unexpected end of statement while looking for matching " + (char) stop);
                }
                return out.toString();
            } finally {
                rawEscapes = saved;
            }
        }

        private static void append(StringBuilder out, String value) throws ExpansionException {
            if ((long) out.length() + value.length() > MAX_EXPANSION) {
                throw new ExpansionException("expansion longer than " + MAX_EXPANSION + " bytes");
            }
            out.append(value);
        }

        String processSingleQuote() throws ExpansionException {
            next();
            StringBuilder out = new StringBuilder();
            while (true) {
                int ch = next();
                if (ch == EOF) throw new ExpansionException("unexpected end of statement while looking for matching single-quote");
                if (ch == '\'') return out.toString();
                out.append((char) ch);
            }
        }

        String processDoubleQuote() throws ExpansionException {
            next();
            StringBuilder out = new StringBuilder();
            while (true) {
                int ch = peek();
                if (ch == EOF) throw new ExpansionException("unexpected end of statement while looking for matching double-quote");
                if (ch == '"') {
                    next();
                    return out.toString();
                }
                if (ch == '$') {
                    append(out, processDollar());
                    continue;
                }
                ch = next();
                if (ch == escape) {
                    if (rawEscapes) out.append((char) ch);
                    int p = peek();
                    if (p == EOF) continue;
                    if (p == '"' || p == '$' || p == escape) ch = next();
                }
                out.append((char) ch);
            }
        }

        String processDollar() throws ExpansionException {
            if (++depth > MAX_NESTING) {
                throw new ExpansionException("substitutions nested deeper than " + MAX_NESTING + " levels");
            }
            try {
                return dollar();
            } finally {
                depth--;
            }
        }

        private String dollar() throws ExpansionException {
            next(); // '$'
            if (peek() != '{') {
                String name = processName();
                if (name.isEmpty()) return "$";
                String v = env.get(name);
                return v == null ? "" : v;
            }
            next(); // '{'
            int first = peek();
            if (first == EOF) throw new ExpansionException("syntax error: missing '}'");
            if (first == '{' || first == '}' || first == ':') throw new ExpansionException("syntax error: bad substitution");
            String name = processName();
            int ch = next();
            if (ch == EOF) throw new ExpansionException("syntax error: missing '}'");
            String chs = String.valueOf((char) ch);
            boolean nullIsUnset = false;
            switch (ch) {
                case '}' -> {
                    String v = env.get(name);
                    return v == null ? "" : v;
                }
                case ':', '+', '-', '?', '#', '%' -> {
                    if (ch == ':') {
                        nullIsUnset = true;
                        ch = next();
                        if (ch != EOF) chs += (char) ch;
                    }
                    boolean patternOp = ch == '#' || ch == '%';
                    if (nullIsUnset && patternOp) {
                        throw new ExpansionException("unsupported modifier (" + chs + ") in substitution");
                    }
                    String word = stopOn('}', patternOp, "syntax error: missing '}'");
                    String value = env.get(name);
                    boolean set = value != null;
                    if (value == null) value = "";
                    switch (ch) {
                        case '-' -> {
                            return !set || (nullIsUnset && value.isEmpty()) ? word : value;
                        }
                        case '+' -> {
                            return !set || (nullIsUnset && value.isEmpty()) ? "" : word;
                        }
                        case '?' -> {
                            if (!set) throw new ExpansionException(name + ": " + (word.isEmpty() ? "is not allowed to be unset" : word));
                            if (nullIsUnset && value.isEmpty()) {
                                throw new ExpansionException(name + ": " + (word.isEmpty() ? "is not allowed to be empty" : word));
                            }
                            return value;
                        }
                        case '#', '%' -> {
                            boolean greedy = !word.isEmpty() && word.charAt(0) == ch;
                            if (greedy) word = word.substring(1);
                            return ch == '#' ? trimPrefix(word, value, greedy) : trimSuffix(word, value, greedy);
                        }
                        default -> throw new ExpansionException("unsupported modifier (" + chs + ") in substitution");
                    }
                }
                case '/' -> {
                    boolean all = peek() == '/';
                    if (all) next();
                    String pattern = stopOn('/', true, "syntax error: missing '/' in ${}");
                    String replacement = stopOn('}', true, "syntax error: missing '}'");
                    String value = env.getOrDefault(name, "");
                    Pattern re = shellPatternToRegex(pattern, true, false);
                    return replace(re.matcher(value), value, replacement, all);
                }
                default -> throw new ExpansionException("unsupported modifier (" + chs + ") in substitution");
            }
        }

        /** {@code ${name/pattern/replacement}}, refusing a result past {@link #MAX_EXPANSION}. */
        private static String replace(Matcher m, String value, String replacement, boolean all) throws ExpansionException {
            StringBuilder out = new StringBuilder();
            int last = 0;
            while (m.find()) {
                append(out, value.substring(last, m.start()));
                append(out, replacement);
                last = m.end();
                if (!all) break;
            }
            append(out, value.substring(last));
            return out.toString();
        }

        private String stopOn(char stop, boolean raw, String missing) throws ExpansionException {
            try {
                return processStopOn(stop, raw);
            } catch (ExpansionException e) {
                if (peek() == EOF) throw new ExpansionException(missing);
                throw e;
            }
        }

        String processName() {
            StringBuilder name = new StringBuilder();
            while (peek() != EOF) {
                char ch = (char) peek();
                if (name.isEmpty() && Character.isDigit(ch)) {
                    while (peek() != EOF && Character.isDigit((char) peek())) name.append((char) next());
                    return name.toString();
                }
                if (name.isEmpty() && isSpecialParam(ch)) {
                    next();
                    return String.valueOf(ch);
                }
                if (!Character.isLetter(ch) && !Character.isDigit(ch) && ch != '_') break;
                name.append((char) next());
            }
            return name.toString();
        }

        static boolean isSpecialParam(char ch) {
            return switch (ch) {
                case '@', '*', '#', '?', '-', '$', '!', '0' -> true;
                default -> false;
            };
        }
    }

    /** A shell pattern ({@code *}, {@code ?}, {@code \} escapes) as a regex; reluctant stars unless greedy. */
    static Pattern shellPatternToRegex(String pattern, boolean greedy, boolean anchored) throws ExpansionException {
        StringBuilder out = new StringBuilder();
        if (anchored) out.append('^');
        String star = greedy ? ".*" : ".*?";
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            switch (c) {
                case '*' -> out.append(star);
                case '?' -> out.append('.');
                case '\\' -> {
                    char n = i + 1 < pattern.length() ? pattern.charAt(i + 1) : 0;
                    if (n == '}' || n == '/') continue; // the escape belongs to ${...}, not to the pattern
                    if (n != '*' && n != '?' && n != '\\') {
                        throw new ExpansionException("invalid pattern (" + pattern + ") in substitution: invalid escape '\\" + (n == 0 ? "" : n) + "'");
                    }
                    out.append('\\').append(n);
                    i++;
                }
                default -> out.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(out.toString(), Pattern.DOTALL);
    }

    private static String trimPrefix(String pattern, String value, boolean greedy) throws ExpansionException {
        Matcher m = shellPatternToRegex(pattern, greedy, true).matcher(value);
        return m.find() ? value.substring(m.end()) : value;
    }

    private static String trimSuffix(String pattern, String value, boolean greedy) throws ExpansionException {
        // shortest/longest match at the end: reverse both and trim a prefix
        String reversed = trimPrefix(reversePattern(pattern), new StringBuilder(value).reverse().toString(), greedy);
        return new StringBuilder(reversed).reverse().toString();
    }

    private static String reversePattern(String p) {
        char[] out = new char[p.length()];
        int last = p.length() - 1;
        for (int i = 0; i <= last; ) {
            char c = p.charAt(i);
            int o = last - i;
            if (c == '\\' && i != last) {
                out[o - 1] = c;
                out[o] = p.charAt(i + 1);
                i += 2;
            } else {
                out[o] = c;
                i++;
            }
        }
        return new String(out);
    }
}
