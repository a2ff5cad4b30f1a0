package io.berth.archive;

import java.util.ArrayDeque;

/**
 * The one place a tar member name becomes a path relative to the tree it is unpacked into:
 * '/' prefixes, '.' and empty components dropped, '..' applied lexically. A name that would
 * climb above the root, or holds a NUL byte, is refused; every unpacker (layers, build
 * contexts) goes through here, so the escape rule is written once.
 */
public final class TarNames {
    private TarNames() {}

    /** Why a name was refused: it holds a NUL byte, or it climbs above the root. */
    public static final class UnsafeNameException extends Exception {
        private final boolean climbs;

        UnsafeNameException(boolean climbs) {
            super(climbs ? "climbs above the root with '..'" : "contains a NUL byte");
            this.climbs = climbs;
        }

        /** The caller's words: "escapes the layer root", "escapes the context"... */
        public String describe(String escapes) {
            return climbs ? escapes + " with '..'" : "contains a NUL byte";
        }
    }

    /** The clean relative path; the empty string is the root itself. */
    public static String clean(String name) throws UnsafeNameException {
        if (name.indexOf('\0') >= 0) throw new UnsafeNameException(false);
        ArrayDeque<String> parts = new ArrayDeque<>();
        for (String c : name.split("/")) {
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (parts.isEmpty()) throw new UnsafeNameException(true);
                parts.removeLast();
            } else {
                parts.addLast(c);
            }
        }
        return String.join("/", parts);
    }

    /** Like {@link #clean} but a climb above the root stops at the root (names inside an archive, never paths on disk). */
    public static String cleanWithin(String name) {
        ArrayDeque<String> parts = new ArrayDeque<>();
        for (String c : name.split("/")) {
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (!parts.isEmpty()) parts.removeLast();
            } else {
                parts.addLast(c);
            }
        }
        return String.join("/", parts);
    }
}
