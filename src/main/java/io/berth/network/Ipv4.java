package io.berth.network;

/** IPv4 addresses as ints and CIDR blocks, which is all the bridge driver needs. */
public final class Ipv4 {
    private Ipv4() {}

    public static int parse(String text) {
        String[] parts = text.trim().split("\\.", -1);
        if (parts.length != 4) throw new IllegalArgumentException("invalid IPv4 address: " + text);
        int value = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("invalid IPv4 address: " + text);
            }
            int octet = Integer.parseInt(p);
            if (octet > 255) throw new IllegalArgumentException("invalid IPv4 address: " + text);
            value = (value << 8) | octet;
        }
        return value;
    }

    public static boolean isAddress(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public static String format(int address) {
        return ((address >>> 24) & 255) + "." + ((address >>> 16) & 255) + "." + ((address >>> 8) & 255) + "." + (address & 255);
    }

    /** A block of addresses: {@code base/prefix}, with {@code base} the network address. */
    public record Cidr(int base, int prefix) {
        public Cidr {
            if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("invalid prefix length " + prefix);
            base = base & mask(prefix);
        }

        /** Parses {@code a.b.c.d/n}; host bits are dropped (Docker refuses them; see {@link #parseStrict}). */
        public static Cidr parse(String text) {
            int slash = text.indexOf('/');
            if (slash < 0) throw new IllegalArgumentException("invalid CIDR address: " + text);
            int prefix;
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid CIDR address: " + text);
            }
            if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("invalid CIDR address: " + text);
            return new Cidr(Ipv4.parse(text.substring(0, slash)), prefix);
        }

        public static Cidr parseStrict(String text) {
            Cidr c = parse(text);
            int slash = text.indexOf('/');
            if (Ipv4.parse(text.substring(0, slash)) != c.base) {
                throw new IllegalArgumentException("invalid subnet " + text + ": it should be " + c);
            }
            return c;
        }

        public static int mask(int prefix) {
            return prefix == 0 ? 0 : -1 << (32 - prefix);
        }

        public long size() {
            return 1L << (32 - prefix);
        }

        public int last() {
            return base | ~mask(prefix);
        }

        public boolean contains(int address) {
            return (address & mask(prefix)) == base;
        }

        public boolean contains(Cidr other) {
            return other.prefix >= prefix && contains(other.base);
        }

        public boolean overlaps(Cidr other) {
            return contains(other.base) || other.contains(base);
        }

        /** The n-th address of the block (0 is the network address). */
        public int at(long n) {
            return base + (int) n;
        }

        @Override
        public String toString() {
            return format(base) + "/" + prefix;
        }
    }
}
