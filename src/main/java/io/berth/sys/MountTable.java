package io.berth.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** /proc/self/mountinfo, read to learn what filesystem holds a path and what is mounted where. */
public final class MountTable {
    /** One line of mountinfo: the mount point and its filesystem type and source. */
    public record Entry(String mountPoint, String fsType, String source, String options) {}

    private MountTable() {}

    public static List<Entry> read() {
        List<Entry> entries = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] fields = line.split(" ");
                int dash = List.of(fields).indexOf("-");
                if (dash < 0 || fields.length < dash + 3) continue;
                entries.add(new Entry(unescape(fields[4]), fields[dash + 1], unescape(fields[dash + 2]), fields[5]));
            }
        } catch (IOException ignored) {
            // not on Linux: an empty table
        }
        return entries;
    }

    /** The filesystem type of the mount that holds {@code path} (the longest mount point prefix). */
    public static String fsTypeOf(Path path) {
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            real = path.toAbsolutePath().normalize();
        }
        Entry best = null;
        for (Entry e : read()) {
            Path mp = Path.of(e.mountPoint());
            if (real.startsWith(mp) && (best == null || mp.getNameCount() >= Path.of(best.mountPoint()).getNameCount())) {
                best = e;
            }
        }
        return best == null ? "unknown" : best.fsType();
    }

    /** Mount points at or under {@code dir}, deepest first, ready to be unmounted in order. */
    public static List<String> mountsUnder(Path dir) {
        String prefix = dir.toAbsolutePath().normalize().toString();
        List<String> found = new ArrayList<>();
        for (Entry e : read()) {
            if (e.mountPoint().equals(prefix) || e.mountPoint().startsWith(prefix + "/")) found.add(e.mountPoint());
        }
        found.sort((a, b) -> Integer.compare(b.length(), a.length()));
        return found;
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException | StringIndexOutOfBoundsException ignored) {
                    // a plain backslash
                }
            }
            out.append(c);
        }
        return out.toString();
    }
}
