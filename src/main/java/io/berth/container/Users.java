package io.berth.container;

import io.berth.sys.Fd;
import io.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Resolves a container's {@code User} ({@code name}, {@code uid}, {@code name:group},
 * {@code uid:gid}) and its supplementary groups against the image's /etc/passwd and
 * /etc/group, as Docker does. The supplementary groups always hold the primary group, then the
 * user's memberships (unless a group was named), then the --group-add ones.
 */
public final class Users {
    private Users() {}

    public record Resolved(int uid, int gid, List<Integer> additionalGids, String home) {}

    /**
     * @param rootfs   the container's root (its files are read without following symlinks out)
     * @param user     the User field ("" for root)
     * @param groupAdd --group-add values (names or numbers)
     */
    public static Resolved resolve(Path rootfs, String user, List<String> groupAdd) throws IOException {
        return resolve(rootfs, user, groupAdd, true);
    }

    /** As {@link #resolve(Path, String, List)}; {@code imageGroups} false leaves out the groups the image's /etc/group gives the user. */
    public static Resolved resolve(Path rootfs, String user, List<String> groupAdd, boolean imageGroups) throws IOException {
        List<String[]> passwd = read(rootfs, "etc/passwd");
        List<String[]> groups = read(rootfs, "etc/group");
        String u = user == null || user.isEmpty() ? "0" : user;
        String userPart = u;
        String groupPart = null;
        int colon = u.indexOf(':');
        if (colon >= 0) {
            userPart = u.substring(0, colon);
            groupPart = u.substring(colon + 1);
        }
        int uid;
        int gid = 0;
        String name = null;
        String home = "/";
        String[] entry = null;
        if (isNumber(userPart)) {
            uid = Integer.parseInt(userPart);
            for (String[] p : passwd) {
                if (p.length >= 4 && p[2].equals(userPart)) {
                    entry = p;
                    break;
                }
            }
        } else {
            for (String[] p : passwd) {
                if (p.length >= 4 && p[0].equals(userPart)) {
                    entry = p;
                    break;
                }
            }
            if (entry == null) {
                throw ContainerException.invalid("unable to find user " + userPart + ": no matching entries in passwd file");
            }
            uid = Integer.parseInt(entry[2]);
        }
        if (entry != null) {
            name = entry[0];
            gid = parseOr(entry[3], 0);
            if (entry.length >= 6 && !entry[5].isEmpty()) home = entry[5];
        }
        if (groupPart != null && !groupPart.isEmpty()) gid = groupId(groups, groupPart);
        // as dockerd 20.10 (since the fix of CVE-2022-36109): the primary group is always among the supplementary ones
        Set<Integer> extra = new LinkedHashSet<>();
        extra.add(gid);
        if (imageGroups && name != null && (groupPart == null || groupPart.isEmpty())) {
            for (String[] g : groups) {
                if (g.length >= 4 && List.of(g[3].split(",")).contains(name)) extra.add(parseOr(g[2], -1));
            }
        }
        if (groupAdd != null) for (String g : groupAdd) extra.add(groupId(groups, g));
        extra.remove(-1);
        return new Resolved(uid, gid, new ArrayList<>(extra), home);
    }

    private static int groupId(List<String[]> groups, String g) {
        if (isNumber(g)) return Integer.parseInt(g);
        for (String[] e : groups) {
            if (e.length >= 3 && e[0].equals(g)) return parseOr(e[2], 0);
        }
        throw ContainerException.invalid("Unable to find group " + g + ": no matching entries in group file");
    }

    /** The lines of {@code rel} in the image, read as a container's file: resolved inside the root, by descriptor. */
    private static List<String[]> read(Path rootfs, String rel) throws IOException {
        String text;
        try (Fd root = Fd.openHost(rootfs, Fd.O_PATH | Fd.O_DIRECTORY);
                Fd f = root.resolve(rel, Fd.O_RDONLY | Fd.O_NONBLOCK | Fd.O_NOCTTY | Fd.O_NOFOLLOW)) {
            if (!f.stat().isRegular()) return List.of();
            text = new String(f.inputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (Syscalls.ErrnoException e) {
            return List.of(); // missing, or a link or a directory in its place
        }
        List<String[]> out = new ArrayList<>();
        for (String line : text.lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) continue;
            out.add(line.split(":", -1));
        }
        return out;
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    private static int parseOr(String s, int fallback) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
