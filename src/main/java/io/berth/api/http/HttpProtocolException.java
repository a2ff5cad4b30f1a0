package io.berth.api.http;

/** The request cannot be read as HTTP/1.1; answered with {@code status} and the connection closed. */
public final class HttpProtocolException extends RuntimeException {
    private final int status;

    public HttpProtocolException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
