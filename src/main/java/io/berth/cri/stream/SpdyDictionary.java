package io.berth.cri.stream;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The dictionary SPDY/3 primes its zlib header compression with (both directions). Its bytes
 * are part of the wire protocol: a peer checks their Adler-32 before it inflates a header
 * block. It is a list of words, each after its length as a 4-byte big-endian number, then a
 * run of common status lines, dates and media types without lengths.
 */
final class SpdyDictionary {
    private SpdyDictionary() {}

    private static final List<String> WORDS = List.of(
            "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
            "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
            "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
            "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
            "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
            "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
            "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
            "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie",
            "keep-alive", "origin");

    private static final String TAIL = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
            + "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
            + "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
            + "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
            + "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
            + "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

    /** The dictionary's bytes (a fresh copy). */
    static byte[] bytes() {
        return BYTES.clone();
    }

    private static final byte[] BYTES = build();

    private static byte[] build() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1500);
        for (String w : WORDS) {
            byte[] b = w.getBytes(StandardCharsets.US_ASCII);
            out.write(b.length >>> 24);
            out.write(b.length >>> 16);
            out.write(b.length >>> 8);
            out.write(b.length);
            out.writeBytes(b);
        }
        out.writeBytes(TAIL.getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
