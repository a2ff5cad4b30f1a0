package io.berth.network;

/**
 * Which names a bridge device may have. The kernel takes up to 15 bytes without '/', ':' or
 * white space; berthd also refuses '+' (a wildcard to iptables' -i/-o) and a leading '-'
 * (read as an option by iptables and ip), since the name goes into both.
 */
public final class BridgeNames {
    public static final int MAX_LENGTH = 15;

    private BridgeNames() {}

    /** Null when {@code name} is a valid bridge name, else what is wrong with it. */
    public static String problem(String name) {
        if (name.isEmpty()) return "it is empty";
        if (name.length() > MAX_LENGTH) return "it is longer than " + MAX_LENGTH + " characters";
        if (name.equals(".") || name.equals("..")) return "it is not a name";
        if (name.startsWith("-")) return "it starts with '-'";
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '/' || c == ':' || c == '+' || c == '%' || c == '"' || c == '\'' || c == '\\') {
                return "it holds '" + (c <= ' ' ? "\\x" + Integer.toHexString(c) : String.valueOf(c))
                        + "': use letters, digits, '.', '_' and '-'";
            }
        }
        return null;
    }
}
