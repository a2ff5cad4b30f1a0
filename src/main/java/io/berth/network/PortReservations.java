package io.berth.network;

import io.berth.errdefs.ErrorKind;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The host ports this daemon has handed to containers: a published port is reserved here
 * (and checked free on the host) before portmap is asked to forward it, and released when
 * the container's networking goes.
 */
final class PortReservations {
    private final Set<String> reserved = new HashSet<>();

    /** Picks and reserves a host port for each binding (0: any free one; a range: its first free one), all or none. */
    synchronized List<PortBinding> reserve(List<PortBinding> wanted) {
        List<PortBinding> out = new ArrayList<>();
        try {
            for (PortBinding p : wanted) {
                int port;
                if (p.hostPort() == 0) {
                    port = freePort(p.hostIp(), p.protocol());
                } else if (p.hostPortEnd() > p.hostPort()) {
                    port = -1;
                    for (int c = p.hostPort(); c <= p.hostPortEnd() && port < 0; c++) {
                        PortBinding cand = PortBinding.of(p.hostIp(), c, p.containerPort(), p.protocol());
                        if (!reserved.contains(key(cand)) && bindable(p.hostIp(), c, p.protocol())) port = c;
                    }
                    if (port < 0) {
                        throw new NetworkException(ErrorKind.CONFLICT, "Bind for " + hostLabel(p.hostIp()) + ":" + p.hostPort() + "-" + p.hostPortEnd()
                                + " failed: port is already allocated");
                    }
                } else {
                    port = p.hostPort();
                    if (reserved.contains(key(p)) || !bindable(p.hostIp(), port, p.protocol())) {
                        throw new NetworkException(ErrorKind.CONFLICT, "Bind for " + hostLabel(p.hostIp()) + ":" + port + " failed: port is already allocated");
                    }
                }
                PortBinding chosen = PortBinding.of(p.hostIp(), port, p.containerPort(), p.protocol());
                reserved.add(key(chosen));
                out.add(chosen);
            }
        } catch (RuntimeException e) {
            for (PortBinding p : out) reserved.remove(key(p));
            throw e;
        }
        return out;
    }

    /** Marks ports a live container already holds (at daemon start). */
    synchronized void restore(List<PortBinding> held) {
        for (PortBinding p : held) reserved.add(key(p));
    }

    synchronized void release(List<PortBinding> held) {
        for (PortBinding p : held) reserved.remove(key(p));
    }

    private static String hostLabel(String ip) {
        return ip.isEmpty() ? "0.0.0.0" : ip;
    }

    private static String key(PortBinding p) {
        return p.protocol() + "/" + p.hostPort();
    }

    private int freePort(String hostIp, String proto) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port;
            try {
                InetAddress addr = hostIp.isEmpty() ? null : InetAddress.getByName(hostIp);
                if (proto.equals("udp")) {
                    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(addr, 0))) {
                        port = s.getLocalPort();
                    }
                } else {
                    try (ServerSocket s = new ServerSocket(0, 1, addr)) {
                        port = s.getLocalPort();
                    }
                }
            } catch (IOException e) {
                throw new NetworkException(ErrorKind.INTERNAL, "cannot find a free " + proto + " port on " + hostLabel(hostIp) + ": " + e.getMessage(), e);
            }
            if (!reserved.contains(proto + "/" + port)) return port;
        }
        throw new NetworkException(ErrorKind.CONFLICT, "no free " + proto + " port on " + hostLabel(hostIp));
    }

    private static boolean bindable(String hostIp, int port, String proto) {
        if (hostIp.contains(":")) return true;
        try {
            InetAddress addr = hostIp.isEmpty() ? null : InetAddress.getByName(hostIp);
            if (proto.equals("udp")) {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(addr, port))) {
                    return true;
                }
            }
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(addr, port), 1);
                return true;
            }
        } catch (IOException e) {
            return false;
        }
    }
}
