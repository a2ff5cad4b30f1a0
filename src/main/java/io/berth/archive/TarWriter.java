package io.berth.archive;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a POSIX tar stream. Plain ustar headers when an entry fits; a PAX extended header
 * ('x') before it when a name or link name is longer than 100 bytes or not ASCII, when it
 * has xattrs ({@code SCHILY.xattr.NAME}, value written byte for byte), when a number does
 * not fit its octal field, or when the mtime has nanoseconds.
 *
 * <pre>
 * w.putEntry(TarEntry.file("a", n)); w.content().write(bytes); ... w.finish();
 * </pre>
 */
public final class TarWriter implements Closeable {
    private static final int BLOCK = TarReader.BLOCK;
    private static final long MAX_OCTAL_7 = 07777777L;
    private static final long MAX_OCTAL_11 = 077777777777L;

    private final OutputStream out;
    private long written;
    private long remaining;
    private long padding;
    private TarEntry current;
    private boolean finished;
    private final OutputStream contentStream = new ContentStream();

    public TarWriter(OutputStream out) {
        this.out = out;
    }

    /** Bytes written to the underlying stream so far. */
    public long written() {
        return written;
    }

    /** Writes the headers of {@code e}; then exactly {@code e.size()} bytes must go to {@link #content()}. */
    public void putEntry(TarEntry e) throws IOException {
        closeEntry();
        if (finished) throw new IllegalStateException("tar archive already finished");
        String name = e.name();
        if (e.type() == TarEntry.Type.DIR && !name.endsWith("/")) name = name + "/";
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] linkBytes = e.linkName().getBytes(StandardCharsets.UTF_8);

        Map<String, byte[]> pax = new LinkedHashMap<>();
        if (nameBytes.length > 100 || !ascii(nameBytes)) pax.put("path", nameBytes);
        if (linkBytes.length > 100 || !ascii(linkBytes)) pax.put("linkpath", linkBytes);
        if (e.uid() > MAX_OCTAL_7) pax.put("uid", ascii(Long.toString(e.uid())));
        if (e.gid() > MAX_OCTAL_7) pax.put("gid", ascii(Long.toString(e.gid())));
        if (e.size() > MAX_OCTAL_11) pax.put("size", ascii(Long.toString(e.size())));
        long secs = e.mtime().getEpochSecond();
        if (e.mtime().getNano() != 0 || secs < 0 || secs > MAX_OCTAL_11) pax.put("mtime", ascii(paxTime(e)));
        byte[] uname = e.uname().getBytes(StandardCharsets.UTF_8);
        byte[] gname = e.gname().getBytes(StandardCharsets.UTF_8);
        if (uname.length > 32 || !ascii(uname)) pax.put("uname", uname);
        if (gname.length > 32 || !ascii(gname)) pax.put("gname", gname);
        for (var x : e.xattrs().entrySet()) pax.put("SCHILY.xattr." + x.getKey(), x.getValue());

        if (!pax.isEmpty()) {
            byte[] data = encodePax(pax);
            String base = baseName(name);
            String paxName = truncate("PaxHeaders.0/" + base, 100);
            byte[] h = header(paxName, 'x', 0644, 0, 0, data.length, Math.max(0, Math.min(secs, MAX_OCTAL_11)), "", "", "", 0, 0);
            writeRaw(h, 0, h.length);
            writeRaw(data, 0, data.length);
            writePadding(TarReader.pad(data.length));
        }

        char flag = switch (e.type()) {
            case FILE -> '0';
            case HARDLINK -> '1';
            case SYMLINK -> '2';
            case CHAR -> '3';
            case BLOCK -> '4';
            case DIR -> '5';
            case FIFO -> '6';
        };
        byte[] h = header(truncate(name, 100), flag, e.mode(), Math.min(e.uid(), MAX_OCTAL_7), Math.min(e.gid(), MAX_OCTAL_7),
                Math.min(e.size(), MAX_OCTAL_11), Math.max(0, Math.min(secs, MAX_OCTAL_11)), truncate(e.linkName(), 100),
                truncate(e.uname(), 32), truncate(e.gname(), 32), e.devMajor(), e.devMinor());
        writeRaw(h, 0, h.length);
        current = e;
        remaining = e.size();
        padding = TarReader.pad(e.size());
    }

    /** The content stream of the current entry; writing more than its size is an error. */
    public OutputStream content() {
        if (current == null) throw new IllegalStateException("no current tar entry");
        return contentStream;
    }

    /** Writes an entry with its whole content copied from {@code data}. */
    public void writeEntry(TarEntry e, InputStream data) throws IOException {
        putEntry(e);
        if (e.size() > 0) {
            long copied = data.transferTo(contentStream);
            if (copied != e.size()) throw new IOException("tar entry " + e.name() + ": got " + copied + " bytes, expected " + e.size());
        }
        closeEntry();
    }

    /** Writes an entry with the given content. */
    public void writeEntry(TarEntry e, byte[] data) throws IOException {
        putEntry(e);
        contentStream.write(data);
        closeEntry();
    }

    /** Writes the end-of-archive marker (two zero blocks); does not close the stream. */
    public void finish() throws IOException {
        if (finished) return;
        closeEntry();
        writePadding(2L * BLOCK);
        out.flush();
        finished = true;
    }

    @Override
    public void close() throws IOException {
        finish();
        out.close();
    }

    private void closeEntry() throws IOException {
        if (current == null) return;
        if (remaining != 0) {
            throw new IOException("tar entry " + current.name() + " is " + remaining + " bytes short of its size " + current.size());
        }
        writePadding(padding);
        padding = 0;
        current = null;
    }

    // ---- encoding ------------------------------------------------------------------------

    static byte[] encodePax(Map<String, byte[]> records) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (var r : records.entrySet()) {
            byte[] key = r.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] value = r.getValue();
            int rest = 1 + key.length + 1 + value.length + 1; // ' ' key '=' value '\n'
            int len = rest + 1;
            while (Integer.toString(len).length() + rest != len) len = Integer.toString(len).length() + rest;
            buf.writeBytes(ascii(Integer.toString(len)));
            buf.write(' ');
            buf.writeBytes(key);
            buf.write('=');
            buf.writeBytes(value);
            buf.write('\n');
        }
        return buf.toByteArray();
    }

    private static byte[] header(String name, char flag, int mode, long uid, long gid, long size, long mtime, String link,
                                 String uname, String gname, int devMajor, int devMinor) {
        byte[] h = new byte[BLOCK];
        putString(h, 0, 100, name);
        putOctal(h, 100, 8, mode & 07777);
        putOctal(h, 108, 8, uid);
        putOctal(h, 116, 8, gid);
        putOctal(h, 124, 12, size);
        putOctal(h, 136, 12, mtime);
        h[156] = (byte) flag;
        putString(h, 157, 100, link);
        System.arraycopy(ascii("ustar\0"), 0, h, 257, 6);
        h[263] = '0';
        h[264] = '0';
        putString(h, 265, 32, uname);
        putString(h, 297, 32, gname);
        if (flag == '3' || flag == '4') {
            putDevice(h, 329, devMajor);
            putDevice(h, 337, devMinor);
        }
        for (int i = 148; i < 156; i++) h[i] = ' ';
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        byte[] ck = ascii(String.format("%06o", sum));
        System.arraycopy(ck, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    private static void putDevice(byte[] h, int off, int value) {
        long v = value & 0xffffffffL;
        if (v <= MAX_OCTAL_7) {
            putOctal(h, off, 8, v);
        } else { // base-256
            h[off] = (byte) 0x80;
            for (int i = 7; i >= 1; i--) {
                h[off + i] = (byte) v;
                v >>>= 8;
            }
        }
    }

    private static void putOctal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        int digits = len - 1;
        s = "0".repeat(Math.max(0, digits - s.length())) + s;
        System.arraycopy(ascii(s), 0, h, off, digits);
        h[off + digits] = 0;
    }

    private static void putString(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, Math.min(len, b.length));
    }

    /** Cuts to at most {@code max} UTF-8 bytes on a character boundary (the full value is then in the PAX header). */
    private static String truncate(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= max) return s;
        int end = max;
        while (end > 0 && (b[end] & 0xc0) == 0x80) end--;
        return new String(b, 0, end, StandardCharsets.UTF_8);
    }

    private static String baseName(String name) {
        String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        int slash = n.lastIndexOf('/');
        return slash < 0 ? n : n.substring(slash + 1);
    }

    private static String paxTime(TarEntry e) {
        long s = e.mtime().getEpochSecond();
        int n = e.mtime().getNano();
        if (n == 0) return Long.toString(s);
        java.math.BigDecimal d = java.math.BigDecimal.valueOf(s).add(java.math.BigDecimal.valueOf(n, 9));
        return d.stripTrailingZeros().toPlainString();
    }

    private static boolean ascii(byte[] b) {
        for (byte x : b) if (x < 0x20 || x > 0x7e) return false;
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private void writeRaw(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        written += len;
    }

    private static final byte[] ZEROS = new byte[BLOCK * 2];

    private void writePadding(long n) throws IOException {
        while (n > 0) {
            int k = (int) Math.min(n, ZEROS.length);
            writeRaw(ZEROS, 0, k);
            n -= k;
        }
    }

    private final class ContentStream extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (current == null) throw new IllegalStateException("no current tar entry");
            if (len > remaining) {
                throw new IOException("tar entry " + current.name() + ": " + len + " more bytes exceed its size " + current.size());
            }
            writeRaw(b, off, len);
            remaining -= len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() {
            // the archive stays open
        }
    }
}
