package io.berth.volume;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;

/** A volume operation that cannot be done; its {@link ErrorKind} tells the API which status to answer. */
public final class VolumeException extends KindedException {
    public VolumeException(ErrorKind kind, String message) {
        super(kind, message);
    }
}
