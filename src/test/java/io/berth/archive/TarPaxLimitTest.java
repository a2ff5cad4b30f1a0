package io.berth.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PAX headers are held in memory until their entry: a run of them is bounded as a whole, not only one by one. */
class TarPaxLimitTest {
    private static final int ONE_HEADER = 4 << 20;

    @Test
    void aRunOfExtendedHeadersPastTheCapIsRefused() {
        // 17 headers of 4 MiB each, each under the per-header bound, 68 MiB together.
        InputStream archive = headers('x', 17);
        assertThatThrownBy(() -> new TarReader(archive).next())
                .isInstanceOf(TarFormatException.class)
                .hasMessageContaining("PAX headers before the entry")
                .hasMessageContaining("more than the " + TarReader.MAX_META + " allowed");
    }

    @Test
    void globalHeadersAccumulateAcrossTheArchiveAndAreBoundedToo() {
        assertThatThrownBy(() -> new TarReader(headers('g', 17)).next())
                .isInstanceOf(TarFormatException.class).hasMessageContaining("PAX headers before the entry");
    }

    @Test
    void headersUnderTheCapStillApply() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) buf.writeBytes(header('x', i));
        try (TarWriter w = new TarWriter(buf)) {
            w.writeEntry(TarEntry.file("f", 0), new byte[0]);
        }
        TarEntry e = new TarReader(new ByteArrayInputStream(buf.toByteArray())).next();
        assertThat(e.name()).isEqualTo("f");
    }

    /** {@code count} meta headers made as the reader asks for them, so the test itself holds one at a time. */
    private static InputStream headers(char flag, int count) {
        return new SequenceInputStream(new Enumeration<>() {
            int made;

            @Override
            public boolean hasMoreElements() {
                return made < count;
            }

            @Override
            public InputStream nextElement() {
                try {
                    return new ByteArrayInputStream(header(flag, made++));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
    }

    private static byte[] header(char flag, int n) throws IOException {
        Map<String, byte[]> records = new LinkedHashMap<>();
        byte[] value = new byte[ONE_HEADER];
        Arrays.fill(value, (byte) 'a');
        records.put("BERTH.test.key" + n, value);
        return rawMeta(flag, TarWriter.encodePax(records));
    }

    /** A meta header written by hand, as another tool would. */
    private static byte[] rawMeta(char flag, byte[] data) throws IOException {
        ByteArrayOutputStream tmp = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(tmp);
        w.writeEntry(TarEntry.file("meta", data.length), data);
        byte[] b = Arrays.copyOf(tmp.toByteArray(), (int) w.written());
        b[156] = (byte) flag;
        for (int i = 148; i < 156; i++) b[i] = ' ';
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += b[i] & 0xff;
        byte[] ck = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(ck, 0, b, 148, 8);
        return b;
    }
}
