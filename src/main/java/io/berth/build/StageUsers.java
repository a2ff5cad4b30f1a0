package io.berth.build;

import io.berth.archive.ScopedPath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Users and groups as a stage's file system names them ({@code /etc/passwd},
 * {@code /etc/group}, read inside the stage's root): RUN's {@code USER} and COPY's
 * {@code --chown}.
 */
public final class StageUsers {
    private final List<String[]> passwd;
    private final List<String[]> group;

    private StageUsers(List<String[]> passwd, List<String[]> group) {
        this.passwd = passwd;
        this.group = group;
    }

    /** Reads the files of {@code root} (missing files are empty). */
    public static StageUsers read(Path root) throws IOException {
        return new StageUsers(lines(root, "/etc/passwd"), lines(root, "/etc/group"));
    }

    /** For tests: from the files' text. */
    static StageUsers of(String passwd, String group) {
        return new StageUsers(split(passwd), split(group));
    }

    private static List<String[]> lines(Path root, String file) throws IOException {
        Path p = ScopedPath.resolve(root, file);
        if (!Files.isRegularFile(p)) return List.of();
        return split(Files.readString(p, StandardCharsets.UTF_8));
    }

    private static List<String[]> split(String text) {
        List<String[]> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            out.add(line.split(":", -1));
        }
        return out;
    }

    /** Who a process runs as: uid, primary gid, supplementary groups, home directory (or null). */
    public record Identity(int uid, int gid, List<Integer> additionalGids, String home) {
        public Identity {
            additionalGids = List.copyOf(additionalGids);
        }
    }

    /**
     * Resolves Docker's USER value ({@code user}, {@code uid}, {@code user:group},
     * {@code uid:gid}; empty is root) as the runtime does: a name must be in passwd; a number
     * need not be; supplementary groups are the groups listing the user's name.
     */
    public Identity user(String spec) throws BuildException {
        String s = spec == null || spec.isEmpty() ? "0" : spec;
        int colon = s.indexOf(':');
        String u = colon < 0 ? s : s.substring(0, colon);
        String g = colon < 0 ? null : s.substring(colon + 1);
        String[] entry = null;
        int uid;
        if (isNumber(u)) {
            uid = Integer.parseInt(u);
            for (String[] p : passwd) {
                if (p.length > 2 && p[2].equals(u)) {
                    entry = p;
                    break;
                }
            }
        } else {
            entry = passwdEntry(u);
            if (entry == null) throw new BuildException("unable to find user " + u + ": no matching entries in passwd file");
            uid = parse(entry[2], "uid of user " + u);
        }
        int gid;
        if (g != null && !g.isEmpty()) {
            gid = isNumber(g) ? Integer.parseInt(g) : groupId(g, () -> "unable to find group " + g + ": no matching entries in group file");
        } else {
            gid = entry != null && entry.length > 3 ? parse(entry[3], "gid of user " + u) : 0;
        }
        List<Integer> extra = new ArrayList<>();
        if (g == null || g.isEmpty()) {
            String name = entry != null ? entry[0] : null;
            if (name != null) {
                for (String[] gr : group) {
                    if (gr.length < 4 || gr[3].isEmpty()) continue;
                    for (String member : gr[3].split(",")) {
                        if (member.trim().equals(name) && isNumber(gr[2])) {
                            int id = Integer.parseInt(gr[2]);
                            if (id != gid && !extra.contains(id)) extra.add(id);
                        }
                    }
                }
            }
        }
        String home = entry != null && entry.length > 5 && !entry[5].isEmpty() ? entry[5] : null;
        return new Identity(uid, gid, extra, home);
    }

    /**
     * Resolves COPY/ADD {@code --chown} as Docker's classic builder: {@code user[:group]},
     * a missing group being the user's name again; names looked up in the stage's files.
     *
     * @return {uid, gid}
     */
    public int[] chown(String spec) throws BuildException {
        String[] parts = spec.split(":", -1);
        if (parts.length > 2) throw new BuildException("invalid chown string format: " + spec);
        String u = parts[0];
        String g = parts.length == 1 ? parts[0] : parts[1];
        int uid;
        if (isNumber(u)) {
            uid = Integer.parseInt(u);
        } else {
            String[] entry = passwdEntry(u);
            if (entry == null) throw new BuildException("can't find uid for user " + u + ": no such user: " + u);
            uid = parse(entry[2], "uid of user " + u);
        }
        int gid = isNumber(g) ? Integer.parseInt(g) : groupId(g, () -> "can't find gid for group " + g + ": no such group: " + g);
        return new int[] {uid, gid};
    }

    private String[] passwdEntry(String name) {
        for (String[] p : passwd) {
            if (p.length > 3 && p[0].equals(name)) return p;
        }
        return null;
    }

    private int groupId(String name, java.util.function.Supplier<String> message) throws BuildException {
        for (String[] gr : group) {
            if (gr.length > 2 && gr[0].equals(name)) return parse(gr[2], "gid of group " + name);
        }
        throw new BuildException(message.get());
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.length() < 10 && s.chars().allMatch(Character::isDigit);
    }

    private static int parse(String s, String what) throws BuildException {
        if (!isNumber(s)) throw new BuildException("invalid " + what + ": \"" + s + "\"");
        return Integer.parseInt(s);
    }
}
