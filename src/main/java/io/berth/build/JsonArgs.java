package io.berth.build;

import java.util.ArrayList;
import java.util.List;

/**
 * The JSON (exec) form of RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME: strict JSON
 * (as Go's encoding/json reads it) that must be an array. Text that is not valid JSON is
 * not an error: Docker then reads the instruction in shell form.
 */
final class JsonArgs {
    /** A valid JSON array that holds something other than strings. */
    static final class NotStringArray extends Exception {
        NotStringArray() {
            super("when using JSON array syntax, arrays must be comprised of strings only");
        }
    }

    private final String s;
    private int pos;
    private boolean allStrings = true;

    private JsonArgs(String s) {
        this.s = s;
    }

    /** The strings of a JSON array, or null when the text is not a JSON array. */
    static List<String> parse(String text) throws NotStringArray {
        String t = text.stripLeading();
        if (!t.startsWith("[")) return null;
        JsonArgs p = new JsonArgs(t);
        List<String> out;
        try {
            out = p.topArray();
            p.ws();
            if (p.pos != p.s.length()) return null;
        } catch (IllegalStateException bad) {
            return null;
        }
        if (!p.allStrings) throw new NotStringArray();
        return out;
    }

    private List<String> topArray() {
        List<String> out = new ArrayList<>();
        expect('[');
        ws();
        if (peek() == ']') {
            pos++;
            return out;
        }
        while (true) {
            ws();
            if (peek() == '"') {
                out.add(string());
            } else {
                value();
                allStrings = false;
            }
            ws();
            char c = nextChar();
            if (c == ']') return out;
            if (c != ',') throw bad();
        }
    }

    private void value() {
        ws();
        char c = peek();
        switch (c) {
            case '"' -> string();
            case '[' -> {
                pos++;
                ws();
                if (peek() == ']') {
                    pos++;
                    return;
                }
                while (true) {
                    value();
                    ws();
                    char n = nextChar();
                    if (n == ']') return;
                    if (n != ',') throw bad();
                }
            }
            case '{' -> {
                pos++;
                ws();
                if (peek() == '}') {
                    pos++;
                    return;
                }
                while (true) {
                    ws();
                    if (peek() != '"') throw bad();
                    string();
                    ws();
                    expect(':');
                    value();
                    ws();
                    char n = nextChar();
                    if (n == '}') return;
                    if (n != ',') throw bad();
                }
            }
            case 't' -> literal("true");
            case 'f' -> literal("false");
            case 'n' -> literal("null");
            default -> number();
        }
    }

    private void literal(String word) {
        if (!s.startsWith(word, pos)) throw bad();
        pos += word.length();
    }

    private void number() {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') {
            pos++;
        } else if (peek() >= '1' && peek() <= '9') {
            while (isDigit(peek())) pos++;
        } else {
            throw bad();
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) throw bad();
            while (isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!isDigit(peek())) throw bad();
            while (isDigit(peek())) pos++;
        }
        if (pos == start) throw bad();
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (true) {
            if (pos >= s.length()) throw bad();
            char c = s.charAt(pos++);
            if (c == '"') return out.toString();
            if (c < 0x20) throw bad();
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= s.length()) throw bad();
            char e = s.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (pos + 4 > s.length()) throw bad();
                    try {
                        out.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException x) {
                        throw bad();
                    }
                    pos += 4;
                }
                default -> throw bad();
            }
        }
    }

    private void ws() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private char peek() {
        return pos < s.length() ? s.charAt(pos) : '\0';
    }

    private char nextChar() {
        if (pos >= s.length()) throw bad();
        return s.charAt(pos++);
    }

    private void expect(char c) {
        if (nextChar() != c) throw bad();
    }

    private static IllegalStateException bad() {
        return new IllegalStateException("not JSON");
    }
}
