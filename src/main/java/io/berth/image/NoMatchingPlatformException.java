package io.berth.image;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

import java.util.List;

/** An index offers no manifest this machine (or the asked-for platform) can run. */
public final class NoMatchingPlatformException extends RuntimeException implements Kinded {
    private final Platform wanted;
    private final List<Platform> available;

    public NoMatchingPlatformException(Platform wanted, List<Platform> available) {
        super("no matching manifest for " + wanted + " in the manifest list entries; the image is available for: "
                + (available.isEmpty() ? "(no platforms listed)" : String.join(", ", available.stream().map(Platform::describe).toList()))
                + "; pass --platform to choose one");
        this.wanted = wanted;
        this.available = List.copyOf(available);
    }

    public Platform wanted() {
        return wanted;
    }

    public List<Platform> available() {
        return available;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.NOT_FOUND;
    }
}
