package io.berth.api;

import io.berth.container.ContainerException;
import io.berth.image.ImageConflictException;
import io.berth.image.ImageNotFoundException;
import io.berth.image.InvalidReferenceException;
import io.berth.image.NoMatchingPlatformException;
import io.berth.network.NetworkException;
import io.berth.volume.VolumeException;
import java.io.IOException;

/** The inner boxes' refusals as the status codes dockerd answers: the one place that maps them. */
final class ApiErrors {
    private ApiErrors() {}

    static ApiException of(NetworkException e) {
        return new ApiException(switch (e.kind()) {
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case FORBIDDEN -> 403;
            case INVALID -> 400;
            case FAILED -> 500;
        }, e.getMessage());
    }

    static ApiException of(VolumeException e) {
        return new ApiException(switch (e.kind()) {
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case INVALID -> 400;
        }, e.getMessage());
    }

    /** NOT_MODIFIED is 304, which has no body: the caller sends that one empty. */
    static ApiException of(ContainerException e) {
        return new ApiException(switch (e.kind()) {
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case INVALID -> 400;
            case NOT_MODIFIED -> 304;
        }, e.getMessage());
    }

    /** The image and registry boxes' failures; any other failure is a 500. */
    static ApiException translate(Throwable e) {
        if (e instanceof ApiException a) return a;
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return switch (e) {
            case ImageNotFoundException x -> ApiException.notFound(m);
            case ImageConflictException x -> ApiException.conflict(m);
            case InvalidReferenceException x -> ApiException.badRequest(m);
            case NoMatchingPlatformException x -> ApiException.notFound(m);
            case io.berth.registry.NotFoundException x -> ApiException.notFound(m);
            case IllegalArgumentException x -> ApiException.badRequest(m);
            default -> new ApiException(500, m);
        };
    }

    interface Action<T> {
        T run() throws IOException;
    }

    /** Runs a network or volume operation, its box's refusals turned into API errors. */
    static <T> T guarded(Action<T> action) throws IOException {
        try {
            return action.run();
        } catch (NetworkException e) {
            throw of(e);
        } catch (VolumeException e) {
            throw of(e);
        }
    }
}
