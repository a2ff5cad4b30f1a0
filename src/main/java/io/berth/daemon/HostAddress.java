package io.berth.daemon;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/** A -H value: {@code unix:///path.sock} or {@code tcp://host:port}. */
public sealed interface HostAddress {
    record Unix(Path path) implements HostAddress {}

    record Tcp(String host, int port) implements HostAddress {
        public InetSocketAddress socketAddress() {
            return new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, port);
        }

        public boolean isLoopback() {
            if (host.isEmpty()) return false;
            try {
                return InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
    }

    static HostAddress parse(String value) {
        if (value.startsWith("unix://")) {
            String path = value.substring("unix://".length());
            return new Unix(path.isEmpty() ? Path.of("/run/berth/berth.sock") : Path.of(path));
        }
        if (value.startsWith("tcp://")) {
            String rest = value.substring("tcp://".length());
            if (rest.endsWith("/")) rest = rest.substring(0, rest.length() - 1);
            int colon = rest.lastIndexOf(':');
            String host = colon < 0 ? rest : rest.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            int port = 2375;
            if (colon >= 0) {
                try {
                    port = Integer.parseInt(rest.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("invalid port in -H " + value);
                }
            }
            if (port < 0 || port > 65535) throw new IllegalArgumentException("invalid port in -H " + value);
            return new Tcp(host, port);
        }
        throw new IllegalArgumentException("invalid -H " + value + ": want unix:///path/to.sock or tcp://host:port");
    }
}
