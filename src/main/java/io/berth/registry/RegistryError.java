package io.berth.registry;

/** One entry of a registry's {@code {"errors":[{"code","message","detail"}]}} answer. */
public record RegistryError(String code, String message, String detail) {
    /**
     * As the Go registry client prints it: the code in lower case with spaces, then the message,
     * e.g. {@code manifest unknown: manifest unknown}.
     */
    public String describe() {
        String c = code == null || code.isEmpty() ? "" : code.toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
        if (message == null || message.isEmpty()) return c;
        if (c.isEmpty()) return message;
        return c + ": " + message;
    }
}
