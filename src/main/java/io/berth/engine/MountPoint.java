package io.berth.engine;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;

/**
 * One of a container's mounts, resolved when the container is created: what inspect's
 * {@code Mounts} shows and what start binds into the container.
 *
 * @param type           {@code bind}, {@code volume} or {@code tmpfs}
 * @param name           the volume's name (volumes only)
 * @param source         the host path: the bind's source or the volume's {@code _data} folder
 * @param destination    the absolute path in the container
 * @param mode           the mode text inspect shows ({@code "ro"}, {@code "z"}, ...)
 * @param rw             writable
 * @param propagation    the bind propagation ({@code rprivate} for binds, empty otherwise)
 * @param anonymous      an anonymous volume (removed with the container by {@code rm -v} and {@code --rm})
 * @param noCopy         do not fill an empty volume from the image's content at the destination
 * @param createHostPath a {@code -v} bind: a missing host folder is made at start, as dockerd does
 * @param tmpfsOptions   the tmpfs mount options (tmpfs only)
 * @param listed         shown in inspect's Mounts ({@code --tmpfs} mounts are not, as in dockerd)
 * @param recursiveReadOnly a read-only bind whose submounts are read-only too (BindOptions.ReadOnlyForceRecursive)
 */
public record MountPoint(
        String type,
        String name,
        String source,
        String destination,
        String mode,
        boolean rw,
        String propagation,
        boolean anonymous,
        boolean noCopy,
        boolean createHostPath,
        List<String> tmpfsOptions,
        boolean listed,
        boolean recursiveReadOnly) {

    public MountPoint(String type, String name, String source, String destination, String mode, boolean rw, String propagation,
                      boolean anonymous, boolean noCopy, boolean createHostPath, List<String> tmpfsOptions, boolean listed) {
        this(type, name, source, destination, mode, rw, propagation, anonymous, noCopy, createHostPath, tmpfsOptions, listed, false);
    }

    public MountPoint {
        tmpfsOptions = tmpfsOptions == null ? List.of() : List.copyOf(tmpfsOptions);
        mode = mode == null ? "" : mode;
        propagation = propagation == null ? "" : propagation;
    }

    @JsonIgnore
    public boolean isVolume() {
        return "volume".equals(type);
    }

    @JsonIgnore
    public boolean isBind() {
        return "bind".equals(type);
    }

    @JsonIgnore
    public boolean isTmpfs() {
        return "tmpfs".equals(type);
    }

    /** The same mount with writability (and mode) overridden: {@code --volumes-from ctr:ro}. */
    public MountPoint withRw(boolean value, String newMode) {
        return new MountPoint(type, name, source, destination, newMode, value, propagation, anonymous, noCopy, createHostPath, tmpfsOptions, listed,
                recursiveReadOnly && !value);
    }
}
