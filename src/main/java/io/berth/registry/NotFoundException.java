package io.berth.registry;

import io.berth.errdefs.ErrorKind;
import java.util.List;

/** The registry does not hold the manifest, blob or repository asked for (404). */
public final class NotFoundException extends RegistryException {
    public NotFoundException(String operation, List<RegistryError> errors) {
        super(operation, 404, errors, errors.isEmpty() ? "not found" : null, null);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.NOT_FOUND;
    }
}
