package io.berth.network;

import java.math.BigInteger;
import java.net.Inet6Address;
import java.net.InetAddress;

/** IPv6 addresses as 128-bit numbers and CIDR blocks, for networks with {@code --ipv6}. */
public final class Ipv6 {
    private static final BigInteger ALL = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);

    private Ipv6() {}

    public static BigInteger parse(String text) {
        String t = text.trim();
        if (!t.contains(":")) throw new IllegalArgumentException("invalid IPv6 address: " + text);
        InetAddress a;
        try {
            a = InetAddress.ofLiteral(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid IPv6 address: " + text);
        }
        if (!(a instanceof Inet6Address)) throw new IllegalArgumentException("invalid IPv6 address: " + text);
        return new BigInteger(1, a.getAddress());
    }

    public static boolean isAddress(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The canonical text (RFC 5952): lower case, the longest run of zero groups as {@code ::}. */
    public static String format(BigInteger address) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) g[i] = address.shiftRight(16 * (7 - i)).intValue() & 0xffff;
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) j++;
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') sb.append(':');
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    /** A block of addresses: {@code base/prefix}, with {@code base} the network address. */
    public record Cidr(BigInteger base, int prefix) {
        public Cidr {
            if (prefix < 0 || prefix > 128) throw new IllegalArgumentException("invalid prefix length " + prefix);
            base = base.and(mask(prefix));
        }

        /** Parses {@code addr/n}; host bits are dropped (see {@link #parseStrict}). */
        public static Cidr parse(String text) {
            int slash = text.indexOf('/');
            if (slash < 0) throw new IllegalArgumentException("invalid CIDR address: " + text);
            int prefix;
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid CIDR address: " + text);
            }
            if (prefix < 0 || prefix > 128) throw new IllegalArgumentException("invalid CIDR address: " + text);
            return new Cidr(Ipv6.parse(text.substring(0, slash)), prefix);
        }

        public static Cidr parseStrict(String text) {
            Cidr c = parse(text);
            if (!Ipv6.parse(text.substring(0, text.indexOf('/'))).equals(c.base)) {
                throw new IllegalArgumentException("invalid subnet " + text + ": it should be " + c);
            }
            return c;
        }

        static BigInteger mask(int prefix) {
            return ALL.shiftRight(prefix).xor(ALL);
        }

        public BigInteger last() {
            return base.or(ALL.shiftRight(prefix));
        }

        public boolean contains(BigInteger address) {
            return address.and(mask(prefix)).equals(base);
        }

        public boolean contains(Cidr other) {
            return other.prefix >= prefix && contains(other.base);
        }

        public boolean overlaps(Cidr other) {
            return contains(other.base) || other.contains(base);
        }

        /** The n-th address of the block (0 is the network address). */
        public BigInteger at(long n) {
            return base.add(BigInteger.valueOf(n));
        }

        @Override
        public String toString() {
            return format(base) + "/" + prefix;
        }
    }
}
