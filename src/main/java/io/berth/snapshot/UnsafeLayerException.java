package io.berth.snapshot;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

import java.io.IOException;

/** A layer tried to write outside its root: '..', a symlink on the way, a hard link out. Nothing was unpacked. */
public class UnsafeLayerException extends IOException implements Kinded {
    public UnsafeLayerException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INVALID_ARGUMENT;
    }
}
