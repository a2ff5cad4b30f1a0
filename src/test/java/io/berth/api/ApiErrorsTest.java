package io.berth.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.api.http.ClientGoneException;
import io.berth.api.http.HttpProtocolException;
import io.berth.container.ContainerException;
import io.berth.content.BlobNotFoundException;
import io.berth.content.Digest;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.ErrorKinds;
import io.berth.errdefs.KindedException;
import io.berth.image.ImageConflictException;
import io.berth.image.ImageNotFoundException;
import io.berth.image.InvalidReferenceException;
import io.berth.image.NoMatchingPlatformException;
import io.berth.image.Platform;
import io.berth.network.NetworkException;
import io.berth.registry.RegistryUnreachableException;
import io.berth.registry.UnauthorizedException;
import io.berth.volume.VolumeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every kind has one status, and every box's failures reach the status dockerd answers for them. */
class ApiErrorsTest {
    @Test
    void eachKindMapsToDockersStatus() {
        assertThat(ApiErrors.status(ErrorKind.NOT_FOUND)).isEqualTo(404);
        assertThat(ApiErrors.status(ErrorKind.ALREADY_EXISTS)).isEqualTo(409);
        assertThat(ApiErrors.status(ErrorKind.CONFLICT)).isEqualTo(409);
        assertThat(ApiErrors.status(ErrorKind.INVALID_ARGUMENT)).isEqualTo(400);
        assertThat(ApiErrors.status(ErrorKind.NOT_MODIFIED)).isEqualTo(304);
        assertThat(ApiErrors.status(ErrorKind.UNAUTHORIZED)).isEqualTo(401);
        assertThat(ApiErrors.status(ErrorKind.FORBIDDEN)).isEqualTo(403);
        assertThat(ApiErrors.status(ErrorKind.UNAVAILABLE)).isEqualTo(503);
        assertThat(ApiErrors.status(ErrorKind.NOT_IMPLEMENTED)).isEqualTo(501);
        assertThat(ApiErrors.status(ErrorKind.FAILED_PRECONDITION)).isEqualTo(500);
        assertThat(ApiErrors.status(ErrorKind.INTERNAL)).isEqualTo(500);
    }

    private static int statusOf(Throwable failure) {
        return ApiErrors.answer(failure).status();
    }

    @Test
    void theBoxesFailuresKeepTheStatusesTheCliSaw() throws Exception {
        assertThat(statusOf(ContainerException.noSuchContainer("x"))).isEqualTo(404);
        assertThat(statusOf(ContainerException.conflict("running"))).isEqualTo(409);
        assertThat(statusOf(ContainerException.invalid("bad"))).isEqualTo(400);
        assertThat(statusOf(ContainerException.notModified("already started"))).isEqualTo(304);
        assertThat(statusOf(new NetworkException(ErrorKind.FORBIDDEN, "predefined"))).isEqualTo(403);
        assertThat(statusOf(new NetworkException(ErrorKind.INTERNAL, "plugin failed"))).isEqualTo(500);
        assertThat(statusOf(new VolumeException(ErrorKind.CONFLICT, "in use"))).isEqualTo(409);
        assertThat(statusOf(ImageNotFoundException.of("busybox"))).isEqualTo(404);
        assertThat(statusOf(new ImageConflictException("in use"))).isEqualTo(409);
        assertThat(statusOf(new InvalidReferenceException("invalid reference format"))).isEqualTo(400);
        assertThat(statusOf(new NoMatchingPlatformException(Platform.parse("linux/s390x"), List.of()))).isEqualTo(404);
        assertThat(statusOf(new io.berth.registry.NotFoundException("fetching manifest", List.of()))).isEqualTo(404);
        assertThat(statusOf(new UnauthorizedException("login", 401, List.of(), "bad password"))).isEqualTo(401);
        assertThat(statusOf(new RegistryUnreachableException("pull", "connection refused", null))).isEqualTo(503);
        assertThat(statusOf(new BlobNotFoundException(Digest.parse("sha256:" + "0".repeat(64))))).isEqualTo(404);
        assertThat(statusOf(new IllegalArgumentException("bad value"))).isEqualTo(400);
        // docker cp: 404 missing path, 403 read-only rootfs, 400 not a directory or a refused overwrite
        assertThat(statusOf(new io.berth.engine.ContainerFiles.NotFound("Could not find the file /x in container c"))).isEqualTo(404);
        assertThat(statusOf(new io.berth.engine.ContainerFiles.ReadOnly("container rootfs is marked read-only"))).isEqualTo(403);
        assertThat(statusOf(new io.berth.archive.TreeCopy.NotADirectoryException("not a directory"))).isEqualTo(400);
        assertThat(statusOf(new io.berth.errdefs.KindedIOException(ErrorKind.INVALID_ARGUMENT, "cannot overwrite directory"))).isEqualTo(400);
        assertThat(statusOf(new io.berth.archive.TarFormatException("truncated tar archive"))).isEqualTo(400);
        assertThat(statusOf(ApiException.badRequest("x"))).isEqualTo(400);
        assertThat(statusOf(new ApiException(501, "not supported"))).isEqualTo(501);
    }

    @Test
    void anEngineIOExceptionIsA500WithItsMessage() {
        ApiErrors.Answer a = ApiErrors.answer(new IOException("/var/lib/berth/volumes/v: Read-only file system"));
        assertThat(a.status()).isEqualTo(500);
        assertThat(a.message()).isEqualTo("/var/lib/berth/volumes/v: Read-only file system");
        assertThat(ApiErrors.clientGone(new IOException("disk"))).isFalse();
    }

    @Test
    void aWrappedIOExceptionKeepsItsCausesKind() {
        UncheckedIOException wrapped = new UncheckedIOException(new BlobNotFoundException(Digest.parse("sha256:" + "1".repeat(64))));
        assertThat(ErrorKinds.of(wrapped)).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(ApiErrors.answer(wrapped).message()).startsWith("blob sha256:1111");
    }

    @Test
    void errorsAre500sWithAMessageEvenWithoutOne() {
        assertThat(ApiErrors.answer(new StackOverflowError()).status()).isEqualTo(500);
        assertThat(ApiErrors.answer(new StackOverflowError()).message()).contains("stack overflow");
        assertThat(ApiErrors.answer(new OutOfMemoryError()).status()).isEqualTo(500);
        assertThat(ApiErrors.answer(new NullPointerException()).message()).isEqualTo("java.lang.NullPointerException");
    }

    @Test
    void onlyAClientThatLeftIsRecognisedAsGone() {
        ClientGoneException gone = new ClientGoneException("writing to unix:/run/berth.sock", new IOException("Broken pipe"));
        assertThat(ApiErrors.clientGone(gone)).isTrue();
        assertThat(ApiErrors.clientGone(new UncheckedIOException(gone))).isTrue();
        assertThat(ApiErrors.clientGone(new RuntimeException(new IOException("Broken pipe")))).isFalse();
    }

    @Test
    void aFramingErrorIsFoundThroughWrappers() {
        HttpProtocolException framing = new HttpProtocolException(400, "malformed chunked encoding");
        assertThat(ApiErrors.framingError(new RuntimeException(framing))).isSameAs(framing);
        assertThat(ApiErrors.framingError(new IOException("x"))).isNull();
    }

    @Test
    void aUseCaseMayReclassifyAFailure() {
        KindedException asInternal = KindedException.as(ErrorKind.INTERNAL, new UnauthorizedException("pull", 401, List.of(), "denied"));
        assertThat(statusOf(asInternal)).isEqualTo(500);
        assertThat(asInternal.getMessage()).isEqualTo("pull: denied");
    }
}
