package io.berth.content;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A content address, {@code sha256:<64 lower-case hex>}; the only algorithm Berth stores. */
public record Digest(String algorithm, String hex) {
    private static final Pattern SHA256_HEX = Pattern.compile("[a-f0-9]{64}");

    public Digest {
        if (!"sha256".equals(algorithm)) {
            throw new IllegalArgumentException("unsupported digest algorithm \"" + algorithm + "\": only sha256 is supported");
        }
        if (!SHA256_HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("invalid sha256 digest \"" + hex + "\": want 64 lower-case hex characters");
        }
    }

    /** Parses {@code sha256:<hex>}; throws IllegalArgumentException naming the fault. In JSON a digest is this string. */
    @JsonCreator
    public static Digest parse(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) throw new IllegalArgumentException("invalid digest \"" + text + "\": want algorithm:hex");
        return new Digest(text.substring(0, colon), text.substring(colon + 1));
    }

    public static Digest sha256(byte[] bytes) {
        return new Digest("sha256", HexFormat.of().formatHex(newSha256().digest(bytes)));
    }

    public static Digest ofSha256(MessageDigest finished) {
        return new Digest("sha256", HexFormat.of().formatHex(finished.digest()));
    }

    /** SHA-256 by libcrypto where the host has it (fast from a cold start), else the JDK's. */
    public static MessageDigest newSha256() {
        java.util.Optional<MessageDigest> fast = io.berth.sys.LibcryptoSha256.create();
        if (fast.isPresent()) return fast.get();
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /** The first 12 hex characters, as Docker shows IDs. */
    public String shortHex() {
        return hex.substring(0, 12);
    }

    @JsonValue
    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
