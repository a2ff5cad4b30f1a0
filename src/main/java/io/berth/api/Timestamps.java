package io.berth.api;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * The since/until values the docker CLI sends: Unix seconds with an optional fraction
 * ("1700000000.123456789"), or an RFC 3339 date.
 */
final class Timestamps {
    private Timestamps() {}

    /** Nanoseconds since the epoch, or null when absent. */
    static Long parseNanos(String name, String value) {
        if (value == null || value.isEmpty()) return null;
        try {
            int dot = value.indexOf('.');
            if (dot < 0) return Math.multiplyExact(Long.parseLong(value), 1_000_000_000L);
            long seconds = Long.parseLong(value.substring(0, dot));
            String fraction = value.substring(dot + 1);
            if (fraction.length() > 9) fraction = fraction.substring(0, 9);
            long nanos = fraction.isEmpty() ? 0 : Long.parseLong((fraction + "000000000").substring(0, 9));
            return Math.addExact(Math.multiplyExact(seconds, 1_000_000_000L), nanos);
        } catch (NumberFormatException | ArithmeticException notUnix) {
            try {
                Instant t = OffsetDateTime.parse(value).toInstant();
                return t.getEpochSecond() * 1_000_000_000L + t.getNano();
            } catch (DateTimeParseException e) {
                throw ApiException.badRequest("invalid value for \"" + name + "\": " + value + " is neither Unix seconds nor an RFC 3339 time");
            }
        }
    }
}
