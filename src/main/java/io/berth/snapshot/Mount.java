package io.berth.snapshot;

import io.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A mount to make, as a snapshotter returns it (containerd's mount.Mount): {@code type}
 * "overlay" or "bind", a {@code source}, and options such as {@code ro}, {@code rbind},
 * {@code lowerdir=...}.
 */
public record Mount(String type, String source, List<String> options) {
    /** The kernel copies mount data into one page: longer overlay options fail with EINVAL. */
    public static final int MAX_DATA = 4095;

    public Mount {
        options = List.copyOf(options);
    }

    /** Makes this mount at {@code target}. A read-only bind is a bind plus a read-only remount, as the kernel wants. */
    public void mountAt(Path target) throws IOException {
        long flags = 0;
        List<String> data = new ArrayList<>();
        for (String o : options) {
            switch (o) {
                case "ro" -> flags |= Syscalls.MS_RDONLY;
                case "rw" -> { }
                case "bind" -> flags |= Syscalls.MS_BIND;
                case "rbind" -> flags |= Syscalls.MS_BIND | Syscalls.MS_REC;
                case "nosuid" -> flags |= Syscalls.MS_NOSUID;
                case "nodev" -> flags |= Syscalls.MS_NODEV;
                case "noexec" -> flags |= Syscalls.MS_NOEXEC;
                default -> data.add(o);
            }
        }
        String joined = String.join(",", data);
        if (joined.length() > MAX_DATA) {
            if (!type.equals("overlay")) {
                throw new IOException("cannot mount " + type + " on " + target + ": its options are " + joined.length()
                        + " bytes, more than the kernel's " + MAX_DATA);
            }
            mountOverlayLong(target, data, (flags & Syscalls.MS_RDONLY) != 0);
            return;
        }
        boolean bind = (flags & Syscalls.MS_BIND) != 0;
        Syscalls.mount(source, target.toString(), bind ? null : type, flags & ~(bind ? Syscalls.MS_RDONLY : 0), joined.isEmpty() ? null : joined);
        if (bind && (flags & Syscalls.MS_RDONLY) != 0) {
            try {
                Syscalls.mount(null, target.toString(), null, Syscalls.MS_REMOUNT | Syscalls.MS_BIND | Syscalls.MS_RDONLY, null);
            } catch (IOException e) {
                Syscalls.umount2(target.toString(), Syscalls.MNT_DETACH);
                throw e;
            }
        }
    }

    /**
     * An overlay whose options overflow a page: the new mount API takes one {@code lowerdir+}
     * option per layer (Linux 6.8+).
     */
    private void mountOverlayLong(Path target, List<String> data, boolean readOnly) throws IOException {
        List<String> opts = new ArrayList<>();
        for (String o : data) {
            if (o.startsWith("lowerdir=")) {
                for (String l : o.substring("lowerdir=".length()).split(":")) opts.add("lowerdir+=" + l);
            } else {
                opts.add(o);
            }
        }
        try {
            Syscalls.fsmount("overlay", source, opts, target.toString(), readOnly);
        } catch (IOException e) {
            throw new IOException(e.getMessage() + " (the overlay options are longer than the kernel's " + MAX_DATA
                    + " bytes for mount(2); the lowerdir+ fallback needs Linux 6.8 or later)", e);
        }
    }

    /** Makes every mount in order at {@code target} (snapshotters return one). */
    public static void mountAll(List<Mount> mounts, Path target) throws IOException {
        for (Mount m : mounts) m.mountAt(target);
    }

    /** Unmounts {@code target}; lazily ({@code MNT_DETACH}) if it is busy. */
    public static void unmount(Path target) throws IOException {
        try {
            Syscalls.umount2(target.toString(), 0);
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() == 16 /* EBUSY */) Syscalls.umount2(target.toString(), Syscalls.MNT_DETACH); else throw e;
        }
    }
}
