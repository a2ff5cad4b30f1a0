package io.berth.build;

import java.math.BigDecimal;
import java.time.Duration;

/** Go's {@code time.ParseDuration}: {@code 300ms}, {@code -1.5h}, {@code 2h45m}; units ns us µs ms s m h. */
public final class GoDuration {
    private GoDuration() {}

    public static Duration parse(String text) {
        String s = text;
        if (s.isEmpty()) throw invalid(text);
        boolean negative = false;
        int i = 0;
        char c0 = s.charAt(0);
        if (c0 == '-' || c0 == '+') {
            negative = c0 == '-';
            i++;
        }
        if (s.substring(i).equals("0")) return Duration.ZERO;
        if (i == s.length()) throw invalid(text);
        BigDecimal totalNanos = BigDecimal.ZERO;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
            boolean pre = i > start;
            String intPart = s.substring(start, i);
            String frac = "";
            boolean post = false;
            if (i < s.length() && s.charAt(i) == '.') {
                i++;
                int fs = i;
                while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
                frac = s.substring(fs, i);
                post = i > fs;
            }
            if (!pre && !post) throw invalid(text);
            int us = i;
            while (i < s.length() && s.charAt(i) != '.' && !Character.isDigit(s.charAt(i))) i++;
            String unit = s.substring(us, i);
            if (unit.isEmpty()) throw new IllegalArgumentException("time: missing unit in duration \"" + text + "\"");
            long perUnit = switch (unit) {
                case "ns" -> 1L;
                case "us", "\u00b5s", "\u03bcs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> throw new IllegalArgumentException("time: unknown unit \"" + unit + "\" in duration \"" + text + "\"");
            };
            BigDecimal value = new BigDecimal((intPart.isEmpty() ? "0" : intPart) + (frac.isEmpty() ? "" : "." + frac));
            totalNanos = totalNanos.add(value.multiply(BigDecimal.valueOf(perUnit)));
        }
        BigDecimal limit = BigDecimal.valueOf(Long.MAX_VALUE);
        long nanos;
        // Go truncates fractions of a nanosecond
        BigDecimal whole = totalNanos.setScale(0, java.math.RoundingMode.DOWN);
        if (whole.compareTo(limit) > 0) throw new IllegalArgumentException("time: invalid duration \"" + text + "\"");
        nanos = whole.longValueExact();
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("time: invalid duration \"" + text + "\"");
    }
}
