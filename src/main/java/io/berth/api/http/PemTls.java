package io.berth.api.http;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Builds a server TLS context from PEM files, as dockerd's --tlscacert/--tlscert/--tlskey take them. */
public final class PemTls {
    private static final Pattern PEM_BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");
    private static final char[] NO_PASSWORD = new char[0];

    private PemTls() {}

    /**
     * @param caCert the CA that signs client certificates; null when clients are not verified
     */
    public static SSLContext serverContext(Path cert, Path key, Path caCert) throws IOException {
        try {
            Certificate[] chain = readCertificates(cert).toArray(Certificate[]::new);
            if (chain.length == 0) throw new IOException("no certificate in " + cert);
            PrivateKey privateKey = readPrivateKey(key);
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", privateKey, NO_PASSWORD, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, NO_PASSWORD);

            TrustManagerFactory tmf = null;
            if (caCert != null) {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                int i = 0;
                for (Certificate ca : readCertificates(caCert)) trust.setCertificateEntry("ca" + i++, ca);
                if (i == 0) throw new IOException("no certificate in " + caCert);
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS from " + cert + " and " + key + ": " + e.getMessage(), e);
        }
    }

    static Collection<? extends Certificate> readCertificates(Path file) throws IOException, GeneralSecurityException {
        byte[] pem = Files.readAllBytes(file);
        try {
            return CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem));
        } catch (java.security.cert.CertificateException e) {
            throw new IOException("cannot read certificates from " + file + ": " + e.getMessage(), e);
        }
    }

    static PrivateKey readPrivateKey(Path file) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        Matcher m = PEM_BLOCK.matcher(pem);
        while (m.find()) {
            String type = m.group(1);
            byte[] der = Base64.getMimeDecoder().decode(m.group(2).trim());
            switch (type) {
                case "PRIVATE KEY" -> {
                    return pkcs8(der, file);
                }
                case "RSA PRIVATE KEY" -> {
                    return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(wrapPkcs1Rsa(der)));
                }
                case "EC PRIVATE KEY" -> throw new IOException("EC key in SEC1 form in " + file
                        + ": convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8`");
                case "ENCRYPTED PRIVATE KEY" -> throw new IOException("encrypted private key in " + file + ": give an unencrypted key");
                default -> {
                    // EC PARAMETERS and the like precede the key; keep looking
                }
            }
        }
        throw new IOException("no private key in " + file);
    }

    private static PrivateKey pkcs8(byte[] der, Path file) throws IOException {
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException tryNext) {
                // not this algorithm
            }
        }
        throw new IOException("unsupported private key type in " + file);
    }

    /** PKCS#1 RSAPrivateKey inside a PKCS#8 PrivateKeyInfo, which the JDK reads. */
    private static byte[] wrapPkcs1Rsa(byte[] pkcs1) {
        byte[] rsaAlgorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
        byte[] version = {0x02, 0x01, 0x00};
        byte[] octets = der(0x04, pkcs1);
        byte[] body = concat(version, rsaAlgorithm, octets);
        return der(0x30, body);
    }

    private static byte[] der(int tag, byte[] content) {
        int len = content.length;
        byte[] lengthBytes;
        if (len < 0x80) lengthBytes = new byte[] {(byte) len};
        else if (len < 0x100) lengthBytes = new byte[] {(byte) 0x81, (byte) len};
        else if (len < 0x10000) lengthBytes = new byte[] {(byte) 0x82, (byte) (len >> 8), (byte) len};
        else lengthBytes = new byte[] {(byte) 0x83, (byte) (len >> 16), (byte) (len >> 8), (byte) len};
        return concat(new byte[] {(byte) tag}, lengthBytes, content);
    }

    private static byte[] concat(byte[]... parts) {
        int total = 0;
        for (byte[] p : parts) total += p.length;
        byte[] out = new byte[total];
        int pos = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, pos, p.length);
            pos += p.length;
        }
        return out;
    }
}
