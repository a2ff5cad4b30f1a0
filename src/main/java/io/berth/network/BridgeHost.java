package io.berth.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host side of a bridge network: its bridge device with the gateway address, IP
 * forwarding and its iptables rules (when the daemon's flags ask for them).
 */
final class BridgeHost {
    private final DefaultBridge flags;
    /** Networks whose bridge and rules this daemon run has made sure of. */
    private final Set<String> ready = ConcurrentHashMap.newKeySet();

    BridgeHost(DefaultBridge flags) {
        this.flags = flags;
    }

    /**
     * The bridge device and the network's iptables rules, made once a daemon run: checking
     * them costs three {@code ip} and five {@code iptables} runs, too dear for every start.
     * A bridge deleted behind our back is made again.
     */
    void ensure(Network n) throws IOException {
        if (ready.contains(n.id()) && HostLinks.exists(n.bridgeName())) return;
        synchronized (ready) {
            if (ready.contains(n.id()) && HostLinks.exists(n.bridgeName())) return;
            HostLinks.ensureBridge(n.bridgeName(), n.gateway(), n.subnet().prefix());
            if (n.hasIpv6()) addIpv6Gateway(n);
            if (flags.ipForward()) enableIpForwarding(n.hasIpv6());
            if (flags.iptables()) BridgeRules.ensure(n);
            ready.add(n.id());
        }
    }

    /** Undoes {@link #ensure}: the network's rules, then its bridge device. */
    void remove(Network n) throws IOException {
        synchronized (ready) {
            ready.remove(n.id());
            if (flags.iptables()) BridgeRules.remove(n);
            HostLinks.deleteLink(n.bridgeName());
        }
    }

    /**
     * The IPv6 gateway on the bridge, as dockerd puts it there (the bridge plugin would only
     * add it at the first container, after the embedded DNS and the rules need it); without
     * duplicate address detection, so it answers at once.
     */
    private static void addIpv6Gateway(Network n) throws IOException {
        String cidr = n.gateway6() + "/" + n.subnet6().prefix();
        String out = HostLinks.ip("-6", "addr", "add", cidr, "dev", n.bridgeName(), "nodad");
        if (out != null && !out.contains("File exists") && !out.contains("Address already assigned")) {
            throw new IOException("cannot add address " + cidr + " to bridge " + n.bridgeName() + ": " + out);
        }
    }

    /** dockerd's --ip-forward: containers reach past the host only when it forwards (IPv6 too on an IPv6 network, as dockerd). */
    private static void enableIpForwarding(boolean ipv6) throws IOException {
        Path flag = Path.of("/proc/sys/net/ipv4/ip_forward");
        if (!Files.readString(flag).trim().equals("1")) Files.writeString(flag, "1\n");
        Path flag6 = Path.of("/proc/sys/net/ipv6/conf/all/forwarding");
        if (ipv6 && Files.exists(flag6) && !Files.readString(flag6).trim().equals("1")) Files.writeString(flag6, "1\n");
    }
}
