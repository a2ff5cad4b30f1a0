package io.berth.archive;

import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One member of a tar archive, as Berth sees it after ustar, GNU and PAX headers were merged.
 *
 * @param name     the path inside the archive, as stored (may end in '/' for directories)
 * @param type     what the entry is
 * @param mode     permission bits including setuid, setgid and sticky (07777)
 * @param size     bytes of content that follow; 0 for every type but FILE
 * @param mtime    modification time, with nanoseconds when a PAX header gave them
 * @param linkName target of a SYMLINK or HARDLINK, else ""
 * @param xattrs   extended attributes, values as raw bytes (binary values survive exactly)
 */
public record TarEntry(
        String name,
        Type type,
        int mode,
        int uid,
        int gid,
        String uname,
        String gname,
        long size,
        Instant mtime,
        String linkName,
        int devMajor,
        int devMinor,
        Map<String, byte[]> xattrs) {

    public enum Type { FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO }

    public TarEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (uname == null) uname = "";
        if (gname == null) gname = "";
        if (linkName == null) linkName = "";
        if (mtime == null) mtime = Instant.EPOCH;
        if (size < 0) throw new IllegalArgumentException("negative size " + size + " for tar entry " + name);
        if (type != Type.FILE && size != 0) {
            throw new IllegalArgumentException("tar entry " + name + " of type " + type + " cannot have content (size " + size + ")");
        }
        mode &= 07777;
        Map<String, byte[]> copy = new LinkedHashMap<>();
        if (xattrs != null) xattrs.forEach((k, v) -> copy.put(k, v.clone()));
        xattrs = Collections.unmodifiableMap(copy);
    }

    public static TarEntry file(String name, long size) {
        return new TarEntry(name, Type.FILE, 0644, 0, 0, "", "", size, Instant.EPOCH, "", 0, 0, Map.of());
    }

    public static TarEntry dir(String name) {
        return new TarEntry(name, Type.DIR, 0755, 0, 0, "", "", 0, Instant.EPOCH, "", 0, 0, Map.of());
    }

    public static TarEntry symlink(String name, String target) {
        return new TarEntry(name, Type.SYMLINK, 0777, 0, 0, "", "", 0, Instant.EPOCH, target, 0, 0, Map.of());
    }

    public static TarEntry hardlink(String name, String target) {
        return new TarEntry(name, Type.HARDLINK, 0644, 0, 0, "", "", 0, Instant.EPOCH, target, 0, 0, Map.of());
    }

    public static TarEntry device(String name, Type type, int major, int minor) {
        if (type != Type.CHAR && type != Type.BLOCK && type != Type.FIFO) {
            throw new IllegalArgumentException("not a device type: " + type);
        }
        return new TarEntry(name, type, 0644, 0, 0, "", "", 0, Instant.EPOCH, "", major, minor, Map.of());
    }

    public TarEntry withMode(int mode) {
        return new TarEntry(name, type, mode, uid, gid, uname, gname, size, mtime, linkName, devMajor, devMinor, xattrs);
    }

    public TarEntry withOwner(int uid, int gid) {
        return new TarEntry(name, type, mode, uid, gid, uname, gname, size, mtime, linkName, devMajor, devMinor, xattrs);
    }

    public TarEntry withOwnerNames(String uname, String gname) {
        return new TarEntry(name, type, mode, uid, gid, uname, gname, size, mtime, linkName, devMajor, devMinor, xattrs);
    }

    public TarEntry withMtime(Instant mtime) {
        return new TarEntry(name, type, mode, uid, gid, uname, gname, size, mtime, linkName, devMajor, devMinor, xattrs);
    }

    public TarEntry withName(String name) {
        return new TarEntry(name, type, mode, uid, gid, uname, gname, size, mtime, linkName, devMajor, devMinor, xattrs);
    }

    public TarEntry withXattr(String key, byte[] value) {
        Map<String, byte[]> m = new LinkedHashMap<>(xattrs);
        m.put(key, value);
        return new TarEntry(name, type, mode, uid, gid, uname, gname, size, mtime, linkName, devMajor, devMinor, m);
    }

    public boolean isDirectory() {
        return type == Type.DIR;
    }

    /** Value equality, comparing xattr values by content. */
    public boolean sameAs(TarEntry o) {
        if (o == null) return false;
        if (!(name.equals(o.name) && type == o.type && mode == o.mode && uid == o.uid && gid == o.gid
                && uname.equals(o.uname) && gname.equals(o.gname) && size == o.size && mtime.equals(o.mtime)
                && linkName.equals(o.linkName) && devMajor == o.devMajor && devMinor == o.devMinor
                && xattrs.keySet().equals(o.xattrs.keySet()))) {
            return false;
        }
        for (var e : xattrs.entrySet()) {
            if (!Arrays.equals(e.getValue(), o.xattrs.get(e.getKey()))) return false;
        }
        return true;
    }
}
