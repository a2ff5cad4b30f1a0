package io.berth.registry;

import io.berth.errdefs.ErrorKind;
import java.util.List;

/** The registry or its token server refused the credentials (401) or the access (403). */
public final class UnauthorizedException extends RegistryException {
    public UnauthorizedException(String operation, int status, List<RegistryError> errors, String detail) {
        super(operation, status, errors, detail, null);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.UNAUTHORIZED;
    }
}
