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
            if (flags.ipForward()) enableIpForwarding();
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

    /** dockerd's --ip-forward: containers reach past the host only when it forwards. */
    private static void enableIpForwarding() throws IOException {
        Path flag = Path.of("/proc/sys/net/ipv4/ip_forward");
        if (!Files.readString(flag).trim().equals("1")) Files.writeString(flag, "1\n");
    }
}
