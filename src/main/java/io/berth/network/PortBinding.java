package io.berth.network;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One published port: {@code hostIp:hostPort -> containerPort/protocol}. A host port of 0
 * means "pick a free one"; {@code hostPortEnd > hostPort} means "any free one of the range"
 * (the range form of {@code -p 8000-8010:80}). An empty host IP means all addresses.
 */
public record PortBinding(String hostIp, int hostPort, int hostPortEnd, int containerPort, String protocol) {

    public PortBinding {
        hostIp = hostIp == null ? "" : hostIp;
        protocol = protocol == null || protocol.isEmpty() ? "tcp" : protocol.toLowerCase(Locale.ROOT);
        if (!protocol.equals("tcp") && !protocol.equals("udp") && !protocol.equals("sctp")) {
            throw NetworkException.invalid("invalid proto: " + protocol);
        }
        if (hostPortEnd < hostPort) hostPortEnd = hostPort;
        if (containerPort < 1 || containerPort > 65535) throw NetworkException.invalid("invalid containerPort: " + containerPort);
        if (hostPort < 0 || hostPortEnd > 65535) throw NetworkException.invalid("invalid hostPort: " + hostPort);
    }

    public static PortBinding of(String hostIp, int hostPort, int containerPort, String protocol) {
        return new PortBinding(hostIp, hostPort, hostPort, containerPort, protocol);
    }

    /** True when the host port is still to be chosen. */
    public boolean needsHostPort() {
        return hostPort == 0 || hostPortEnd > hostPort;
    }

    /**
     * Parses one {@code -p} value: {@code [ip:][hostPort:]containerPort[/proto]}, with port
     * ranges ({@code 8000-8001:80-81}) and bracketed IPv6 host addresses.
     */
    public static List<PortBinding> parse(String spec) {
        String s = spec.trim();
        String proto = "tcp";
        int slash = s.lastIndexOf('/');
        if (slash >= 0) {
            proto = s.substring(slash + 1);
            s = s.substring(0, slash);
        }
        String ip = "";
        String hostPart = "";
        String containerPart;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) throw NetworkException.invalid("invalid port specification: \"" + spec + "\"");
            ip = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.startsWith(":")) throw NetworkException.invalid("invalid port specification: \"" + spec + "\"");
            rest = rest.substring(1);
            int c = rest.indexOf(':');
            if (c < 0) throw NetworkException.invalid("invalid port specification: \"" + spec + "\"");
            hostPart = rest.substring(0, c);
            containerPart = rest.substring(c + 1);
        } else {
            String[] parts = s.split(":", -1);
            switch (parts.length) {
                case 1 -> containerPart = parts[0];
                case 2 -> { hostPart = parts[0]; containerPart = parts[1]; }
                case 3 -> { ip = parts[0]; hostPart = parts[1]; containerPart = parts[2]; }
                default -> throw NetworkException.invalid("invalid port specification: \"" + spec + "\"");
            }
        }
        if (!ip.isEmpty() && !Ipv4.isAddress(ip) && !ip.contains(":")) {
            throw NetworkException.invalid("invalid IP address: " + ip);
        }
        int[] cr = range(containerPart, spec);
        if (hostPart.isEmpty()) {
            List<PortBinding> out = new ArrayList<>();
            for (int p = cr[0]; p <= cr[1]; p++) out.add(new PortBinding(ip, 0, 0, p, proto));
            return out;
        }
        int[] hr = range(hostPart, spec);
        int cn = cr[1] - cr[0] + 1;
        int hn = hr[1] - hr[0] + 1;
        List<PortBinding> out = new ArrayList<>();
        if (cn == 1 && hn > 1) {
            out.add(new PortBinding(ip, hr[0], hr[1], cr[0], proto));
        } else if (cn == hn) {
            for (int i = 0; i < cn; i++) out.add(new PortBinding(ip, hr[0] + i, hr[0] + i, cr[0] + i, proto));
        } else {
            throw NetworkException.invalid("invalid ranges specified for container and host Ports: " + containerPart + " and " + hostPart);
        }
        return out;
    }

    private static int[] range(String text, String spec) {
        try {
            int dash = text.indexOf('-');
            int lo = Integer.parseInt(dash < 0 ? text : text.substring(0, dash));
            int hi = dash < 0 ? lo : Integer.parseInt(text.substring(dash + 1));
            if (lo < (0) || hi > 65535 || hi < lo) throw new NumberFormatException();
            return new int[] {lo, hi};
        } catch (NumberFormatException e) {
            throw NetworkException.invalid("invalid port specification: \"" + spec + "\"");
        }
    }

    @Override
    public String toString() {
        String host = hostIp.isEmpty() ? "0.0.0.0" : hostIp;
        String hp = hostPortEnd > hostPort ? hostPort + "-" + hostPortEnd : String.valueOf(hostPort);
        return host + ":" + hp + "->" + containerPort + "/" + protocol;
    }
}
