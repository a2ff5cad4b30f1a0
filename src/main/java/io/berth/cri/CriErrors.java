package io.berth.cri;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.ErrorKinds;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place where Berth's error kinds become gRPC status codes, as api/ApiErrors does for HTTP. */
final class CriErrors {
    private static final Logger log = LoggerFactory.getLogger(CriErrors.class);

    private CriErrors() {}

    static Status.Code code(ErrorKind kind) {
        return switch (kind) {
            case NOT_FOUND -> Status.Code.NOT_FOUND;
            case ALREADY_EXISTS -> Status.Code.ALREADY_EXISTS;
            case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
            case CONFLICT, FAILED_PRECONDITION, NOT_MODIFIED -> Status.Code.FAILED_PRECONDITION;
            case UNAUTHORIZED -> Status.Code.UNAUTHENTICATED;
            case FORBIDDEN -> Status.Code.PERMISSION_DENIED;
            case UNAVAILABLE -> Status.Code.UNAVAILABLE;
            case NOT_IMPLEMENTED -> Status.Code.UNIMPLEMENTED;
            case INTERNAL -> Status.Code.UNKNOWN;
        };
    }

    static StatusRuntimeException toStatus(String rpc, Throwable failure) {
        if (failure instanceof StatusRuntimeException s) return s;
        ErrorKind kind = ErrorKinds.of(failure);
        if (kind == ErrorKind.INTERNAL) log.warn("CRI {} failed", rpc, failure);
        return Status.fromCode(code(kind)).withDescription(ErrorKinds.message(failure)).asRuntimeException();
    }

    /** Work that answers one value: runs it, sends the value or the mapped failure. */
    interface Call<T> {
        T run() throws Exception;
    }

    static <T> void answer(String rpc, StreamObserver<T> out, Call<T> call) {
        T value;
        long t0 = System.nanoTime();
        try {
            value = call.run();
        } catch (Exception | Error e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            if (e instanceof Error err && !(e instanceof StackOverflowError)) throw err;
            out.onError(toStatus(rpc, e));
            return;
        } finally {
            if (log.isDebugEnabled()) log.debug("CRI {} took {} ms", rpc, (System.nanoTime() - t0) / 1_000_000);
        }
        out.onNext(value);
        out.onCompleted();
    }

    static StatusRuntimeException notFound(String what) {
        return Status.NOT_FOUND.withDescription(what).asRuntimeException();
    }

    static StatusRuntimeException invalid(String what) {
        return Status.INVALID_ARGUMENT.withDescription(what).asRuntimeException();
    }
}
