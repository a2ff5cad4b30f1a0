package io.berth.archive;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a tar stream entry by entry without buffering file contents: ustar, GNU long
 * names and links ('L', 'K'), PAX extended ('x') and global ('g') headers, base-256
 * numbers. Extended attributes from {@code SCHILY.xattr.*} and {@code LIBARCHIVE.xattr.*}
 * are kept as raw bytes.
 *
 * <pre>
 * for (TarEntry e; (e = reader.next()) != null; ) { reader.content().transferTo(out); }
 * </pre>
 */
public final class TarReader implements Closeable {
    static final int BLOCK = 512;
    /** Upper bound for PAX and GNU long-name headers, which are read into memory. */
    static final int MAX_META = 64 << 20;

    private final InputStream in;
    private final byte[] header = new byte[BLOCK];
    private final Map<String, byte[]> global = new HashMap<>();
    private long offset;           // bytes consumed from the stream
    private long remaining;        // content bytes of the current entry not yet read
    private long padding;          // padding after the current entry's content
    private TarEntry current;
    private boolean eof;
    private final EntryStream entryStream = new EntryStream();
    private byte[] skipBuf;

    public TarReader(InputStream in) {
        this.in = in;
    }

    /** Bytes consumed from the underlying stream so far. */
    public long offset() {
        return offset;
    }

    /** The next entry, or null at the end of the archive. Unread content of the previous entry is skipped. */
    public TarEntry next() throws IOException {
        if (eof) return null;
        skipRest();
        Map<String, byte[]> pax = new LinkedHashMap<>();
        String gnuName = null;
        String gnuLink = null;
        while (true) {
            long headerOffset = offset;
            if (!readBlock(header, current == null && headerOffset == 0 ? "the first header" : "a header")) {
                eof = true; // plain EOF on a block boundary: tolerated, as GNU tar does
                return null;
            }
            if (isZero(header)) {
                // End-of-archive marker. Consume the second zero block if present; the caller may drain the rest.
                eof = true;
                current = null;
                return null;
            }
            verifyChecksum(headerOffset);
            char flag = (char) (header[156] & 0xff);
            long size = number(124, 12, "size", headerOffset);
            switch (flag) {
                case 'x', 'g' -> {
                    byte[] data = readMeta(size, flag == 'x' ? "PAX extended header" : "PAX global header", headerOffset);
                    Map<String, byte[]> records = parsePax(data, headerOffset);
                    Map<String, byte[]> into = flag == 'g' ? global : pax;
                    into.putAll(records);
                    // Each header is bounded, but a run of them (or of global ones, which last
                    // the whole archive) would pile up in memory: bound what is held at once.
                    long held = recordBytes(global) + recordBytes(pax);
                    if (held > MAX_META) {
                        throw new TarFormatException("PAX headers before the entry at offset " + headerOffset + " hold " + held
                                + " bytes, more than the " + MAX_META + " allowed");
                    }
                    continue;
                }
                case 'L' -> {
                    gnuName = cString(readMeta(size, "GNU long name", headerOffset));
                    continue;
                }
                case 'K' -> {
                    gnuLink = cString(readMeta(size, "GNU long link name", headerOffset));
                    continue;
                }
                default -> { }
            }
            Map<String, byte[]> all = new LinkedHashMap<>(global);
            all.putAll(pax);
            TarEntry entry = build(flag, size, all, gnuName, gnuLink, headerOffset);
            long dataSize = entry.type() == TarEntry.Type.FILE ? entry.size() : headerOnlySize(flag, size);
            remaining = dataSize;
            padding = pad(dataSize);
            current = entry;
            return entry;
        }
    }

    private static long recordBytes(Map<String, byte[]> records) {
        long total = 0;
        for (var e : records.entrySet()) total += e.getKey().length() + e.getValue().length;
        return total;
    }

    /** The content of the entry last returned by {@link #next()}; reads at most its size. */
    public InputStream content() {
        if (current == null) throw new IllegalStateException("no current tar entry");
        return entryStream;
    }

    /** Reads the rest of the underlying stream (bytes after the end marker) and returns how many there were. */
    public long drain() throws IOException {
        skipRest();
        if (skipBuf == null) skipBuf = new byte[64 << 10];
        long total = 0;
        for (int n; (n = in.read(skipBuf)) >= 0; ) total += n;
        offset += total;
        return total;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    // ---- parsing -------------------------------------------------------------------------

    private TarEntry build(char flag, long headerSize, Map<String, byte[]> pax, String gnuName, String gnuLink, long at)
            throws IOException {
        boolean posix = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a'
                && header[261] == 'r' && header[262] == 0;
        String name = field(0, 100);
        if (posix && header[345] != 0) name = field(345, 155) + "/" + name;
        if (gnuName != null) name = gnuName;
        if (pax.containsKey("path")) name = utf8(pax.get("path"));
        String link = field(157, 100);
        if (gnuLink != null) link = gnuLink;
        if (pax.containsKey("linkpath")) link = utf8(pax.get("linkpath"));

        TarEntry.Type type = switch (flag) {
            case '0', '\0', '7' -> name.endsWith("/") ? TarEntry.Type.DIR : TarEntry.Type.FILE;
            case '1' -> TarEntry.Type.HARDLINK;
            case '2' -> TarEntry.Type.SYMLINK;
            case '3' -> TarEntry.Type.CHAR;
            case '4' -> TarEntry.Type.BLOCK;
            case '5' -> TarEntry.Type.DIR;
            case '6' -> TarEntry.Type.FIFO;
            case 'S' -> throw new TarFormatException("tar entry " + name + " at offset " + at
                    + " is a GNU sparse file, which Berth does not support; re-create the archive without --sparse");
            default -> throw new TarFormatException("tar entry " + name + " at offset " + at
                    + " has unsupported type flag '" + printable(flag) + "'");
        };
        int mode = (int) number(100, 8, "mode", at);
        long uid = pax.containsKey("uid") ? paxLong(pax, "uid", at) : number(108, 8, "uid", at);
        long gid = pax.containsKey("gid") ? paxLong(pax, "gid", at) : number(116, 8, "gid", at);
        long size = pax.containsKey("size") ? paxLong(pax, "size", at) : headerSize;
        Instant mtime = pax.containsKey("mtime") ? paxTime(pax.get("mtime"), at)
                : Instant.ofEpochSecond(number(136, 12, "mtime", at));
        String uname = pax.containsKey("uname") ? utf8(pax.get("uname")) : field(265, 32);
        String gname = pax.containsKey("gname") ? utf8(pax.get("gname")) : field(297, 32);
        int devMajor = 0;
        int devMinor = 0;
        if (type == TarEntry.Type.CHAR || type == TarEntry.Type.BLOCK) {
            devMajor = (int) number(329, 8, "devmajor", at);
            devMinor = (int) number(337, 8, "devminor", at);
        }
        Map<String, byte[]> xattrs = new LinkedHashMap<>();
        for (var e : pax.entrySet()) {
            String key = e.getKey();
            if (key.startsWith("SCHILY.xattr.")) {
                xattrs.put(key.substring("SCHILY.xattr.".length()), e.getValue());
            } else if (key.startsWith("LIBARCHIVE.xattr.")) {
                String xname = URLDecoder.decode(key.substring("LIBARCHIVE.xattr.".length()), StandardCharsets.UTF_8);
                try {
                    xattrs.putIfAbsent(xname, Base64.getDecoder().decode(stripBase64(e.getValue())));
                } catch (IllegalArgumentException bad) {
                    throw new TarFormatException("tar entry " + name + " at offset " + at + ": bad base64 in " + key);
                }
            }
        }
        if (uid > Integer.MAX_VALUE || gid > Integer.MAX_VALUE || uid < 0 || gid < 0) {
            throw new TarFormatException("tar entry " + name + " at offset " + at + " has owner " + uid + ":" + gid + " out of range");
        }
        long contentSize = type == TarEntry.Type.FILE ? size : 0;
        return new TarEntry(name, type, mode, (int) uid, (int) gid, uname, gname, contentSize, mtime, link,
                devMajor, devMinor, xattrs);
    }

    /** Header-only types carry no content, whatever the size field says (as Go's archive/tar reads them). */
    private static long headerOnlySize(char flag, long size) {
        return switch (flag) {
            case '1', '2', '3', '4', '5', '6' -> 0;
            default -> size;
        };
    }

    private static byte[] stripBase64(byte[] v) {
        String s = new String(v, StandardCharsets.US_ASCII).strip();
        // libarchive omits padding
        while (s.length() % 4 != 0) s += "=";
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private Map<String, byte[]> parsePax(byte[] data, long at) throws TarFormatException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        int pos = 0;
        while (pos < data.length) {
            if (data[pos] == 0) break; // some writers pad with NULs
            int sp = pos;
            long len = 0;
            while (sp < data.length && data[sp] >= '0' && data[sp] <= '9') {
                len = len * 10 + (data[sp] - '0');
                if (len > data.length) break;
                sp++;
            }
            if (sp == pos || sp >= data.length || data[sp] != ' ' || len <= 0 || pos + len > data.length
                    || data[(int) (pos + len - 1)] != '\n') {
                throw new TarFormatException("malformed PAX record at byte " + pos + " of the extended header at offset " + at);
            }
            int end = (int) (pos + len - 1); // index of '\n'
            int eq = sp + 1;
            while (eq < end && data[eq] != '=') eq++;
            if (eq >= end) {
                throw new TarFormatException("PAX record without '=' at byte " + pos + " of the extended header at offset " + at);
            }
            String key = new String(data, sp + 1, eq - sp - 1, StandardCharsets.UTF_8);
            byte[] value = java.util.Arrays.copyOfRange(data, eq + 1, end);
            if (value.length == 0 && !key.startsWith("SCHILY.xattr.")) {
                out.remove(key); // an empty value deletes the keyword
            } else {
                out.put(key, value);
            }
            pos = end + 1;
        }
        return out;
    }

    private static long paxLong(Map<String, byte[]> pax, String key, long at) throws TarFormatException {
        String s = utf8(pax.get(key)).trim();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new TarFormatException("PAX header at offset " + at + " has a bad " + key + " \"" + s + "\"");
        }
    }

    private static Instant paxTime(byte[] raw, long at) throws TarFormatException {
        String s = utf8(raw).trim();
        try {
            BigDecimal d = new BigDecimal(s);
            BigDecimal secs = d.setScale(0, java.math.RoundingMode.FLOOR);
            long nanos = d.subtract(secs).movePointRight(9).setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
            return Instant.ofEpochSecond(secs.longValueExact(), nanos);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new TarFormatException("PAX header at offset " + at + " has a bad mtime \"" + s + "\"");
        }
    }

    private long number(int off, int len, String what, long at) throws TarFormatException {
        int first = header[off] & 0xff;
        if ((first & 0x80) != 0) {
            // base-256: big-endian two's complement, first byte's top bit is the marker
            byte[] b = java.util.Arrays.copyOfRange(header, off, off + len);
            b[0] = (byte) ((first & 0x40) != 0 ? first : first & 0x7f);
            BigInteger v = new BigInteger(b);
            if (v.bitLength() > 63) {
                throw new TarFormatException("tar header at offset " + at + ": " + what + " does not fit in 64 bits");
            }
            return v.longValue();
        }
        long v = 0;
        int i = off;
        int end = off + len;
        while (i < end && (header[i] == ' ' || header[i] == 0)) i++;
        boolean any = false;
        for (; i < end; i++) {
            byte c = header[i];
            if (c == 0 || c == ' ') break;
            if (c < '0' || c > '7') {
                throw new TarFormatException("tar header at offset " + at + ": bad octal " + what + " field \""
                        + new String(header, off, len, StandardCharsets.ISO_8859_1).replace('\0', ' ').trim() + "\"");
            }
            v = (v << 3) | (c - '0');
            any = true;
        }
        return any ? v : 0;
    }

    private void verifyChecksum(long at) throws TarFormatException {
        long stored;
        try {
            stored = number(148, 8, "checksum", at);
        } catch (TarFormatException e) {
            throw new TarFormatException("not a tar archive, or corrupted: header at offset " + at + " has an unreadable checksum field");
        }
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = (i >= 148 && i < 156) ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += (i >= 148 && i < 156) ? ' ' : header[i];
        }
        if (stored != unsigned && stored != signed) {
            throw new TarFormatException("not a tar archive, or corrupted: header checksum mismatch at offset " + at
                    + " (stored " + stored + ", computed " + unsigned + ")");
        }
    }

    private byte[] readMeta(long size, String what, long at) throws IOException {
        if (size < 0 || size > MAX_META) {
            throw new TarFormatException(what + " at offset " + at + " is " + size + " bytes, more than the " + MAX_META + " allowed");
        }
        byte[] data = new byte[(int) size];
        readFully(data, 0, data.length, what + " at offset " + at);
        skipExactly(pad(size), what + " padding");
        return data;
    }

    private String field(int off, int len) {
        int end = off;
        while (end < off + len && header[end] != 0) end++;
        return new String(header, off, end - off, StandardCharsets.UTF_8);
    }

    private static String cString(byte[] b) {
        int end = 0;
        while (end < b.length && b[end] != 0) end++;
        return new String(b, 0, end, StandardCharsets.UTF_8);
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    private static String printable(char c) {
        return c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\x%02x", (int) c);
    }

    static long pad(long size) {
        long r = size % BLOCK;
        return r == 0 ? 0 : BLOCK - r;
    }

    // ---- low-level I/O -------------------------------------------------------------------

    /** Reads one block; false on a clean EOF before its first byte. */
    private boolean readBlock(byte[] b, String what) throws IOException {
        int n = 0;
        while (n < BLOCK) {
            int r = in.read(b, n, BLOCK - n);
            if (r < 0) {
                if (n == 0) return false;
                throw new TarFormatException("truncated tar archive: " + what + " at offset " + offset + " ends after " + n + " of 512 bytes");
            }
            n += r;
        }
        offset += BLOCK;
        return true;
    }

    private void readFully(byte[] b, int off, int len, String what) throws IOException {
        int n = 0;
        while (n < len) {
            int r = in.read(b, off + n, len - n);
            if (r < 0) throw new TarFormatException("truncated tar archive: " + what + " ends after " + n + " of " + len + " bytes");
            n += r;
        }
        offset += len;
    }

    /** Reads and discards; never InputStream.skip, which would bypass a digesting filter stream. */
    private void skipExactly(long n, String what) throws IOException {
        long left = n;
        while (left > 0) {
            if (skipBuf == null) skipBuf = new byte[64 << 10];
            int r = in.read(skipBuf, 0, (int) Math.min(skipBuf.length, left));
            if (r < 0) throw new TarFormatException("truncated tar archive: " + what + " at offset " + offset + " is missing " + left + " bytes");
            left -= r;
            offset += r;
        }
    }

    /**
     * The padding after the last entry's content may be missing along with the end blocks:
     * the docker CLI's build context wrapper (a Dockerfile from outside the context) ends its
     * archive so, and Go's reader takes it, as every byte of content arrived.
     */
    private void skipPadding() throws IOException {
        long left = padding;
        while (left > 0) {
            if (skipBuf == null) skipBuf = new byte[64 << 10];
            int r = in.read(skipBuf, 0, (int) Math.min(skipBuf.length, left));
            if (r < 0) {
                eof = true;
                return;
            }
            left -= r;
            offset += r;
        }
    }

    private void skipRest() throws IOException {
        if (current != null) {
            skipExactly(remaining, "content of " + current.name());
            remaining = 0;
            skipPadding();
            padding = 0;
            current = null;
        }
    }

    private final class EntryStream extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) return -1;
            if (len == 0) return 0;
            int r = in.read(b, off, (int) Math.min(len, remaining));
            if (r < 0) {
                throw new TarFormatException("truncated tar archive: content of " + current.name() + " is missing "
                        + remaining + " bytes at offset " + offset);
            }
            remaining -= r;
            offset += r;
            return r;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(remaining, in.available());
        }

        @Override
        public void close() {
            // closing an entry's stream does not close the archive
        }
    }
}
