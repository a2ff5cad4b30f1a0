package io.berth.snapshot;

import java.io.IOException;

/** A layer tried to write outside its root: '..', a symlink on the way, a hard link out. Nothing was unpacked. */
public class UnsafeLayerException extends IOException {
    public UnsafeLayerException(String message) {
        super(message);
    }
}
