package io.berth.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Needs libcrypto (Debian's libssl3, on every Debian machine); the same bytes as the JDK's SHA-256. */
class LibcryptoSha256Test {

    @Test
    void hashesAsTheJdkDoesForAnySplitOfTheInput() throws Exception {
        MessageDigest fast = LibcryptoSha256.create().orElseThrow(() -> new AssertionError("libcrypto not found"));
        MessageDigest jdk = MessageDigest.getInstance("SHA-256");
        assertThat(fast.digest()).as("empty input").isEqualTo(jdk.digest());
        Random r = new Random(7);
        for (int round = 0; round < 50; round++) {
            byte[] data = new byte[r.nextInt(300_000)];
            r.nextBytes(data);
            int at = 0;
            while (at < data.length) {
                int n = Math.min(data.length - at, r.nextInt(70_000) + 1);
                if (n == 1) fast.update(data[at]);
                else fast.update(data, at, n);
                at += n;
            }
            assertThat(fast.digest()).as("round %d, %d bytes", round, data.length).isEqualTo(jdk.digest(data));
        }
        fast.update(new byte[] {1, 2, 3});
        fast.reset();
        fast.update(ByteBuffer.wrap("abc".getBytes()));
        assertThat(fast.digest()).as("after reset").isEqualTo(jdk.digest("abc".getBytes()));
        assertThat(fast.getDigestLength()).isEqualTo(32);
    }
}
