package io.berth.registry;

import io.berth.errdefs.ErrorKind;
import java.util.List;

/** No HTTP answer: connection refused, DNS failure, TLS failure, connection cut. */
public final class RegistryUnreachableException extends RegistryException {
    public RegistryUnreachableException(String operation, String detail, Throwable cause) {
        super(operation, 0, List.of(), detail, cause);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.UNAVAILABLE;
    }
}
