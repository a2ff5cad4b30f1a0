package io.berth.network;

import io.berth.errdefs.ErrorKind;
import java.nio.file.Path;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The CNI configuration list of one endpoint on a bridge network: the bridge plugin (gateway
 * on the bridge and a default route unless internal, hairpin on) with host-local IPAM keeping
 * its leases under Berth's data root, then portmap when ports are published. Masquerade and
 * forwarding are the network's own rules (see {@link BridgeRules}), not per container.
 */
final class CniConfigs {
    static final String CNI_VERSION = "1.0.0";

    private CniConfigs() {}

    static ObjectNode bridge(Network n, Path ipamDir, boolean publishesPorts) {
        Network.IpamConfig pool = n.ipv4();
        if (pool == null) throw new NetworkException(ErrorKind.INTERNAL, "network " + n.name() + " has no IPv4 subnet");
        Ipv4.Cidr subnet = Ipv4.Cidr.parse(pool.subnet());
        ObjectNode list = NetJson.object();
        list.put("cniVersion", CNI_VERSION);
        list.put("name", cniName(n));
        ArrayNode plugins = list.putArray("plugins");

        ObjectNode bridge = plugins.addObject();
        bridge.put("type", "bridge");
        bridge.put("bridge", n.bridgeName());
        bridge.put("isGateway", !n.internal());
        bridge.put("ipMasq", false);
        bridge.put("hairpinMode", true);
        String mtu = n.options().get("com.docker.network.driver.mtu");
        if (mtu != null && mtu.matches("\\d+") && Integer.parseInt(mtu) > 0) bridge.put("mtu", Integer.parseInt(mtu));
        ObjectNode caps = bridge.putObject("capabilities");
        caps.put("ips", true);
        caps.put("mac", true);
        ObjectNode ipam = bridge.putObject("ipam");
        ipam.put("type", "host-local");
        ipam.put("dataDir", ipamDir.toString());
        ObjectNode range = ipam.putArray("ranges").addArray().addObject();
        range.put("subnet", subnet.toString());
        if (pool.gateway() != null) range.put("gateway", pool.gateway());
        if (pool.ipRange() != null && !pool.ipRange().isEmpty()) {
            Ipv4.Cidr r = Ipv4.Cidr.parse(pool.ipRange());
            int start = Math.max(r.base(), subnet.base() + 1);
            int end = Math.min(r.last(), subnet.last() - 1);
            range.put("rangeStart", Ipv4.format(start));
            range.put("rangeEnd", Ipv4.format(end));
        }
        Network.IpamConfig pool6 = n.hasIpv6() ? n.ipv6() : null;
        if (pool6 != null) {
            // a second range set: host-local gives one address of each (dual stack)
            Ipv6.Cidr subnet6 = Ipv6.Cidr.parse(pool6.subnet());
            ObjectNode range6 = ((ArrayNode) ipam.get("ranges")).addArray().addObject();
            range6.put("subnet", subnet6.toString());
            if (pool6.gateway() != null) range6.put("gateway", pool6.gateway());
            if (pool6.ipRange() != null && !pool6.ipRange().isEmpty()) {
                Ipv6.Cidr r = Ipv6.Cidr.parse(pool6.ipRange());
                java.math.BigInteger start = r.base().max(subnet6.at(1));
                range6.put("rangeStart", Ipv6.format(start));
                range6.put("rangeEnd", Ipv6.format(r.last().min(subnet6.last())));
            }
        }
        if (!n.internal()) {
            ArrayNode routes = ipam.putArray("routes");
            routes.addObject().put("dst", "0.0.0.0/0");
            if (pool6 != null) routes.addObject().put("dst", "::/0");
        }

        if (!n.internal() && publishesPorts) {
            ObjectNode portmap = plugins.addObject();
            portmap.put("type", "portmap");
            portmap.putObject("capabilities").put("portMappings", true);
            portmap.put("snat", true);
        }
        return list;
    }

    /** The CNI network name: unique per network (host-local keeps its leases in a folder of that name). */
    static String cniName(Network n) {
        return "berth-" + n.id().substring(0, 12);
    }
}
