package io.berth.grpc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HTTP/2 header compression (RFC 7541) as a gRPC server needs it: a full decoder (the static
 * and dynamic tables, Huffman-coded strings), and an encoder that only writes literals, never
 * indexing anything into the peer's table (a server's few response headers gain little from it).
 */
final class Hpack {
    private Hpack() {}

    /** A header block that breaks the rules: the connection cannot go on (COMPRESSION_ERROR). */
    static final class CompressionException extends Exception {
        CompressionException(String message) {
            super(message);
        }
    }

    record Header(String name, String value) {
        int size() {
            // the table counts octets plus 32 for each entry
            return name.length() + value.length() + 32;
        }
    }

    /** The static table: index 1 is element 0. Interface facts of RFC 7541, Appendix A. */
    private static final Header[] STATIC = {
        h(":authority", ""), h(":method", "GET"), h(":method", "POST"), h(":path", "/"),
        h(":path", "/index.html"), h(":scheme", "http"), h(":scheme", "https"), h(":status", "200"),
        h(":status", "204"), h(":status", "206"), h(":status", "304"), h(":status", "400"),
        h(":status", "404"), h(":status", "500"), h("accept-charset", ""), h("accept-encoding", "gzip, deflate"),
        h("accept-language", ""), h("accept-ranges", ""), h("accept", ""), h("access-control-allow-origin", ""),
        h("age", ""), h("allow", ""), h("authorization", ""), h("cache-control", ""),
        h("content-disposition", ""), h("content-encoding", ""), h("content-language", ""), h("content-length", ""),
        h("content-location", ""), h("content-range", ""), h("content-type", ""), h("cookie", ""),
        h("date", ""), h("etag", ""), h("expect", ""), h("expires", ""),
        h("from", ""), h("host", ""), h("if-match", ""), h("if-modified-since", ""),
        h("if-none-match", ""), h("if-range", ""), h("if-unmodified-since", ""), h("last-modified", ""),
        h("link", ""), h("location", ""), h("max-forwards", ""), h("proxy-authenticate", ""),
        h("proxy-authorization", ""), h("range", ""), h("referer", ""), h("refresh", ""),
        h("retry-after", ""), h("server", ""), h("set-cookie", ""), h("strict-transport-security", ""),
        h("transfer-encoding", ""), h("user-agent", ""), h("vary", ""), h("via", ""),
        h("www-authenticate", ""),
    };

    private static Header h(String name, String value) {
        return new Header(name, value);
    }

    /** Static-table indexes of the names a server writes. */
    private static final Map<String, Integer> STATIC_NAMES = Map.of(":status", 8, "content-type", 31);

    /** Decodes the header blocks of one connection, in the order they arrive (the dynamic table is shared). */
    static final class Decoder {
        private final ArrayDeque<Header> dynamic = new ArrayDeque<>(); // newest first
        private final int maxTableSize;
        private int tableSize;
        private int tableLimit;

        /** {@code maxTableSize}: what this side's SETTINGS_HEADER_TABLE_SIZE allows (4096 by default). */
        Decoder(int maxTableSize) {
            this.maxTableSize = maxTableSize;
            this.tableLimit = maxTableSize;
        }

        List<Header> decode(byte[] block, int length) throws CompressionException {
            List<Header> headers = new ArrayList<>();
            Reader in = new Reader(block, length);
            boolean headerSeen = false;
            while (in.more()) {
                int b = in.peek();
                if ((b & 0x80) != 0) { // indexed field
                    headers.add(entry(in.integer(7)));
                    headerSeen = true;
                } else if ((b & 0xC0) == 0x40) { // literal, added to the table
                    Header field = literal(in, 6);
                    headers.add(field);
                    add(field);
                    headerSeen = true;
                } else if ((b & 0xE0) == 0x20) { // table size update: only before the first field
                    if (headerSeen) throw new CompressionException("table size update after a header field");
                    int size = in.integer(5);
                    if (size > maxTableSize) throw new CompressionException("table size " + size + " above " + maxTableSize);
                    tableLimit = size;
                    evict(0);
                } else { // literal without indexing (0000) or never indexed (0001)
                    headers.add(literal(in, 4));
                    headerSeen = true;
                }
            }
            return headers;
        }

        private Header literal(Reader in, int prefix) throws CompressionException {
            int index = in.integer(prefix);
            String name = index == 0 ? in.string() : entry(index).name();
            return new Header(name, in.string());
        }

        private Header entry(int index) throws CompressionException {
            if (index <= 0) throw new CompressionException("header index 0");
            if (index <= STATIC.length) return STATIC[index - 1];
            int d = index - STATIC.length - 1;
            if (d >= dynamic.size()) throw new CompressionException("header index " + index + " beyond the table");
            int i = 0;
            for (Header e : dynamic) if (i++ == d) return e;
            throw new IllegalStateException();
        }

        private void add(Header field) {
            evict(field.size());
            if (field.size() <= tableLimit) {
                dynamic.addFirst(field);
                tableSize += field.size();
            }
        }

        /** Makes room for {@code incoming} octets (an entry larger than the table empties it). */
        private void evict(int incoming) {
            while (!dynamic.isEmpty() && tableSize + incoming > tableLimit) tableSize -= dynamic.removeLast().size();
        }
    }

    private static final class Reader {
        private final byte[] block;
        private final int end;
        private int at;

        Reader(byte[] block, int end) {
            this.block = block;
            this.end = end;
        }

        boolean more() {
            return at < end;
        }

        int peek() {
            return block[at] & 0xFF;
        }

        private int next() throws CompressionException {
            if (at >= end) throw new CompressionException("header block ends inside a field");
            return block[at++] & 0xFF;
        }

        /** An integer with an {@code n}-bit prefix (RFC 7541 5.1). */
        int integer(int n) throws CompressionException {
            int mask = (1 << n) - 1;
            int value = next() & mask;
            if (value < mask) return value;
            for (int shift = 0; ; shift += 7) {
                int b = next();
                if (shift > 21) throw new CompressionException("integer too large");
                value += (b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value;
            }
        }

        String string() throws CompressionException {
            boolean huffman = (peek() & 0x80) != 0;
            int length = integer(7);
            if (length > end - at) throw new CompressionException("string beyond the header block");
            String s = huffman ? Huffman.decode(block, at, length) : new String(block, at, length, StandardCharsets.ISO_8859_1);
            at += length;
            return s;
        }
    }

    /** The Huffman code of RFC 7541 Appendix B. It is canonical, so the code length of each symbol defines it. */
    static final class Huffman {
        private Huffman() {}

        /** Code lengths in bits of symbols 0-255; symbol 256 (end of string) has 30. */
        private static final byte[] LENGTHS = {
            13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
            6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
            13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
            15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
            20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
            22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
            26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
            20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        };
        private static final int EOS = 256;
        private static final int MAX_LENGTH = 30;
        /** Symbols sorted by (code length, symbol): the order canonical codes are handed out in. */
        private static final int[] SYMBOLS = new int[257];
        /** Per code length: the first code of that length, how many there are, where they start in SYMBOLS. */
        private static final int[] FIRST_CODE = new int[MAX_LENGTH + 1];
        private static final int[] COUNT = new int[MAX_LENGTH + 1];
        private static final int[] FIRST_INDEX = new int[MAX_LENGTH + 1];

        static {
            for (int s = 0; s <= EOS; s++) COUNT[length(s)]++;
            int code = 0;
            int index = 0;
            for (int len = 1; len <= MAX_LENGTH; len++) {
                code = (code + COUNT[len - 1]) << 1;
                FIRST_CODE[len] = code;
                FIRST_INDEX[len] = index;
                index += COUNT[len];
            }
            int[] next = FIRST_INDEX.clone();
            for (int s = 0; s <= EOS; s++) SYMBOLS[next[length(s)]++] = s;
        }

        private static int length(int symbol) {
            return symbol == EOS ? MAX_LENGTH : LENGTHS[symbol];
        }

        static String decode(byte[] data, int from, int length) throws CompressionException {
            StringBuilder out = new StringBuilder(length * 8 / 5);
            int code = 0;
            int bits = 0;
            for (int i = from; i < from + length; i++) {
                int octet = data[i] & 0xFF;
                for (int b = 7; b >= 0; b--) {
                    code = (code << 1) | ((octet >>> b) & 1);
                    bits++;
                    int offset = code - FIRST_CODE[bits];
                    if (offset >= 0 && offset < COUNT[bits]) {
                        int symbol = SYMBOLS[FIRST_INDEX[bits] + offset];
                        if (symbol == EOS) throw new CompressionException("end-of-string symbol inside a Huffman string");
                        out.append((char) symbol);
                        code = 0;
                        bits = 0;
                    } else if (bits == MAX_LENGTH) {
                        throw new CompressionException("invalid Huffman code");
                    }
                }
            }
            // padding: fewer than 8 bits, all ones (the start of the end-of-string code)
            if (bits > 7 || code != (1 << bits) - 1) throw new CompressionException("invalid Huffman padding");
            return out.toString();
        }
    }

    /** Writes response header blocks: literals that the peer never adds to its table, no Huffman coding. */
    static final class Encoder {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(128);

        Encoder header(String name, String value) {
            Integer index = STATIC_NAMES.get(name);
            if (name.equals(":status") && value.equals("200")) {
                out.write(0x88); // indexed: static entry 8
                return this;
            }
            integer(0x00, 4, index == null ? 0 : index); // literal without indexing
            if (index == null) string(name);
            string(value);
            return this;
        }

        byte[] toBytes() {
            return out.toByteArray();
        }

        private void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
            integer(0x00, 7, bytes.length);
            out.writeBytes(bytes);
        }

        private void integer(int flags, int n, int value) {
            int mask = (1 << n) - 1;
            if (value < mask) {
                out.write(flags | value);
                return;
            }
            out.write(flags | mask);
            value -= mask;
            while (value >= 0x80) {
                out.write((value & 0x7F) | 0x80);
                value >>>= 7;
            }
            out.write(value);
        }
    }
}
