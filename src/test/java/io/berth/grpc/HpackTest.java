package io.berth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Header compression checked against a second implementation: Netty's HPACK coder (the one
 * grpc-java's clients use) encodes what ours decodes, across the blocks of one connection, and
 * decodes what ours encodes.
 */
class HpackTest {
    /** Netty's encoder, Huffman-coding every string it can shorten, keeping a dynamic table. */
    private final DefaultHttp2HeadersEncoder netty = new DefaultHttp2HeadersEncoder(
            (name, value) -> name.toString().equals("authorization"), false, 16, 0);
    private final Hpack.Decoder ours = new Hpack.Decoder(4096);

    private List<Hpack.Header> roundTrip(Http2Headers headers) throws Exception {
        ByteBuf block = Unpooled.buffer();
        netty.encodeHeaders(1, headers, block);
        byte[] bytes = new byte[block.readableBytes()];
        block.readBytes(bytes);
        return ours.decode(bytes, bytes.length);
    }

    private static List<Hpack.Header> list(Http2Headers headers) {
        List<Hpack.Header> out = new ArrayList<>();
        for (Map.Entry<CharSequence, CharSequence> e : headers) out.add(new Hpack.Header(e.getKey().toString(), e.getValue().toString()));
        return out;
    }

    private static Http2Headers request(String path, String extra) {
        return new DefaultHttp2Headers(false).method("POST").scheme("http").path(path).authority("localhost")
                .add("content-type", "application/grpc").add("te", "trailers").add("user-agent", "grpc-java-netty/1.85.1")
                .add("grpc-timeout", "59999981u").add("x-extra", extra);
    }

    @Test
    void decodesNettysBlocksAcrossOneConnectionsDynamicTable() throws Exception {
        // the same headers again come back as indexes into the table both sides keep
        for (int i = 0; i < 5; i++) {
            Http2Headers h = request("/runtime.v1.RuntimeService/ListContainers", "value " + i);
            assertThat(roundTrip(h)).containsExactlyElementsOf(list(h));
        }
        // enough distinct headers to evict the oldest entries of a 4096-byte table, long values
        // (lengths past one byte's prefix), a never-indexed one, and every octet through Huffman
        StringBuilder all = new StringBuilder();
        for (int c = 0x20; c < 0x7F; c++) all.append((char) c);
        for (int round = 0; round < 3; round++) {
            Http2Headers h = request("/runtime.v1.ImageService/PullImage", "x".repeat(300 + round));
            for (int i = 0; i < 40; i++) h.add("x-header-" + round + "-" + i, "value-" + i + "-" + "abcdefghij".repeat(i % 5));
            h.add("authorization", "Bearer secret-" + round);
            h.add("x-all-printable", all.toString());
            assertThat(roundTrip(h)).containsExactlyElementsOf(list(h));
        }
    }

    @Test
    void followsATableSizeUpdate() throws Exception {
        netty.maxHeaderTableSize(256);
        Http2Headers h = request("/a", "a value long enough to matter in a small table");
        assertThat(roundTrip(h)).containsExactlyElementsOf(list(h));
        assertThat(roundTrip(h)).containsExactlyElementsOf(list(h));
        netty.maxHeaderTableSize(4096);
        assertThat(roundTrip(h)).containsExactlyElementsOf(list(h));
    }

    @Test
    void huffmanDecodesEveryOctet() throws Exception {
        // each octet among short-coded letters, so that the whole is shorter coded and Netty codes it
        StringBuilder every = new StringBuilder();
        for (int c = 0; c < 256; c++) every.append((char) c).append("eeeeeeeeeeee");
        Http2Headers h = new DefaultHttp2Headers(false).add("x-every-octet", every.toString());
        ByteBuf block = Unpooled.buffer();
        netty.encodeHeaders(1, h, block);
        assertThat(block.readableBytes()).as("Huffman-coded").isLessThan(every.length());
        byte[] bytes = new byte[block.readableBytes()];
        block.readBytes(bytes);
        assertThat(ours.decode(bytes, bytes.length)).containsExactly(new Hpack.Header("x-every-octet", every.toString()));
    }

    @Test
    void nettyDecodesWhatOursEncodes() throws Exception {
        String message = "container \"web\" not found: " + "é".repeat(100);
        byte[] block = new Hpack.Encoder().header(":status", "200").header("content-type", "application/grpc")
                .header("grpc-status", "5").header("grpc-message", message).header(":status", "415").toBytes();
        Http2Headers decoded = new DefaultHttp2HeadersDecoder(false).decodeHeaders(1, Unpooled.wrappedBuffer(block));
        assertThat(decoded.getAll(":status").stream().map(CharSequence::toString)).containsExactly("200", "415");
        assertThat(decoded.get("content-type").toString()).isEqualTo("application/grpc");
        assertThat(decoded.get("grpc-status").toString()).isEqualTo("5");
        assertThat(decoded.get("grpc-message").toString()).hasSize(message.length()).endsWith("é");
    }

    @Test
    void refusesBrokenBlocks() {
        Hpack.Decoder d = new Hpack.Decoder(4096);
        // index 70: beyond the static table, and the dynamic one is empty
        assertThatThrownBy(() -> d.decode(new byte[] {(byte) (0x80 | 70)}, 1)).isInstanceOf(Hpack.CompressionException.class)
                .hasMessageContaining("beyond the table");
        assertThatThrownBy(() -> d.decode(new byte[] {(byte) 0x80}, 1)).isInstanceOf(Hpack.CompressionException.class);
        // a literal whose value's length runs past the block
        assertThatThrownBy(() -> d.decode(new byte[] {0x00, 0x01, 'a', 0x7E, 'b'}, 5)).isInstanceOf(Hpack.CompressionException.class)
                .hasMessageContaining("beyond the header block");
        // Huffman: "a" is 00011 (5 bits); padding with zeros instead of ones is an error
        assertThatThrownBy(() -> d.decode(new byte[] {0x00, 0x01, 'a', (byte) 0x81, 0b0001_1000}, 5))
                .isInstanceOf(Hpack.CompressionException.class).hasMessageContaining("padding");
        // a table size above what this side allows
        assertThatThrownBy(() -> d.decode(new byte[] {0x3F, (byte) 0xE1, 0x7F}, 3)).isInstanceOf(Hpack.CompressionException.class)
                .hasMessageContaining("table size");
    }

    @Test
    void decodesHuffmanPaddedWithOnes() throws Exception {
        Hpack.Decoder d = new Hpack.Decoder(4096);
        // "a" = 00011, padded with 111
        assertThat(d.decode(new byte[] {0x00, 0x01, 'x', (byte) 0x81, 0b0001_1111}, 5)).containsExactly(new Hpack.Header("x", "a"));
    }
}
