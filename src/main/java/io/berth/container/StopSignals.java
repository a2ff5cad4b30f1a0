package io.berth.container;

import java.util.Locale;
import java.util.Map;

/** Signal names and numbers as docker kill -s and --stop-signal take them. */
public final class StopSignals {
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5),
            Map.entry("ABRT", 6), Map.entry("IOT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9),
            Map.entry("USR1", 10), Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14),
            Map.entry("TERM", 15), Map.entry("STKFLT", 16), Map.entry("CHLD", 17), Map.entry("CONT", 18), Map.entry("STOP", 19),
            Map.entry("TSTP", 20), Map.entry("TTIN", 21), Map.entry("TTOU", 22), Map.entry("URG", 23), Map.entry("XCPU", 24),
            Map.entry("XFSZ", 25), Map.entry("VTALRM", 26), Map.entry("PROF", 27), Map.entry("WINCH", 28), Map.entry("IO", 29),
            Map.entry("POLL", 29), Map.entry("PWR", 30), Map.entry("SYS", 31));

    private StopSignals() {}

    /** "SIGTERM", "TERM", "term", "15" → 15; an unknown one is a 400. */
    public static int parse(String text) {
        if (text == null || text.isEmpty()) return 15;
        String s = text.trim();
        if (s.chars().allMatch(Character::isDigit)) {
            int n = Integer.parseInt(s);
            if (n <= 0 || n > 64) throw ContainerException.invalid("Invalid signal: " + text);
            return n;
        }
        String up = s.toUpperCase(Locale.ROOT);
        if (up.startsWith("SIG")) up = up.substring(3);
        if (up.startsWith("RTMIN+")) return 34 + Integer.parseInt(up.substring(6));
        Integer n = NUMBERS.get(up);
        if (n == null) throw ContainerException.invalid("Invalid signal: " + text);
        return n;
    }
}
