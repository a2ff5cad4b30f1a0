package io.berth.build;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** EXPOSE's port specs: {@code 80}, {@code 80/udp}, {@code 8000-8002/tcp}; protocols tcp, udp, sctp. */
public final class ExposedPorts {
    private static final int MAX_RANGE = 65536;

    private ExposedPorts() {}

    /** The specs as {@code port/proto} keys, ranges expanded, duplicates dropped, in order. */
    public static List<String> parse(List<String> specs) {
        List<String> out = new ArrayList<>();
        for (String spec : specs) {
            if (spec.isEmpty()) continue;
            String port = spec;
            String proto = "tcp";
            int slash = spec.indexOf('/');
            if (slash >= 0) {
                port = spec.substring(0, slash);
                String p = spec.substring(slash + 1);
                if (!p.isEmpty()) proto = p;
            }
            proto = proto.toLowerCase(Locale.ROOT);
            if (!proto.equals("tcp") && !proto.equals("udp") && !proto.equals("sctp")) {
                throw new IllegalArgumentException("invalid proto: " + proto);
            }
            if (port.indexOf(':') >= 0) {
                throw new IllegalArgumentException("invalid containerPort: " + port
                        + " (EXPOSE takes container ports only; publish host ports with docker run -p)");
            }
            int start;
            int end;
            int dash = port.indexOf('-');
            try {
                if (dash >= 0) {
                    start = Integer.parseInt(port.substring(0, dash));
                    end = Integer.parseInt(port.substring(dash + 1));
                } else {
                    start = end = Integer.parseInt(port);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid containerPort: " + port);
            }
            if (start < 0 || end >= MAX_RANGE || start > MAX_RANGE - 1) {
                throw new IllegalArgumentException("invalid containerPort: " + port);
            }
            if (end < start) throw new IllegalArgumentException("invalid range specified for container port: " + port);
            for (int p = start; p <= end; p++) {
                String key = p + "/" + proto;
                if (!out.contains(key)) out.add(key);
            }
        }
        return List.copyOf(out);
    }
}
