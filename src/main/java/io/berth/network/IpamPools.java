package io.berth.network;

import io.berth.errdefs.ErrorKind;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * IPAM at the network level: the subnet, gateway, range and auxiliary addresses a network
 * gets, checked when asked for explicitly or carved from the default address pools. The
 * addresses of containers inside a subnet are host-local's (see {@link CniConfigs}).
 */
final class IpamPools {
    private final List<NetworkService.AddressPool> addressPools;

    IpamPools(List<NetworkService.AddressPool> addressPools) {
        this.addressPools = addressPools;
    }

    /** The default bridge's one pool, from the daemon's flags. */
    static Network.IpamConfig defaultBridge(DefaultBridge b) {
        Ipv4.Cidr subnet = Ipv4.Cidr.parseStrict(b.subnet());
        return new Network.IpamConfig(subnet.toString(), b.ipRange(), b.gatewayAddress());
    }

    /** The pool asked for, checked against itself and the {@code existing} networks. */
    Network.IpamConfig explicit(NetworkSpec.Pool p, Collection<Network> existing) {
        if (p.subnet() == null || p.subnet().isEmpty()) {
            if (p.gateway() != null || p.ipRange() != null) throw NetworkException.invalid("a gateway or IP range needs a subnet");
            return auto(existing);
        }
        Ipv4.Cidr subnet;
        try {
            subnet = Ipv4.Cidr.parseStrict(p.subnet());
        } catch (IllegalArgumentException e) {
            throw NetworkException.invalid("invalid subnet " + p.subnet() + ": " + e.getMessage());
        }
        if (subnet.prefix() > 30) throw NetworkException.invalid("subnet " + subnet + " is too small: use a prefix of /30 or shorter");
        String gateway = p.gateway();
        if (gateway == null || gateway.isEmpty()) {
            gateway = Ipv4.format(subnet.base() + 1);
        } else {
            int gw;
            try {
                gw = Ipv4.parse(gateway);
            } catch (IllegalArgumentException e) {
                throw NetworkException.invalid("invalid gateway " + gateway);
            }
            if (!subnet.contains(gw)) throw NetworkException.invalid("no matching subnet for gateway " + gateway);
        }
        String range = p.ipRange();
        if (range != null && !range.isEmpty()) {
            Ipv4.Cidr r;
            try {
                r = Ipv4.Cidr.parseStrict(range);
            } catch (IllegalArgumentException e) {
                throw NetworkException.invalid("invalid ip-range " + range + ": " + e.getMessage());
            }
            if (!subnet.contains(r)) throw NetworkException.invalid("no matching subnet for range " + range);
            range = r.toString();
        } else {
            range = null;
        }
        for (Network n : existing) {
            Ipv4.Cidr other = n.subnet();
            if (other != null && other.overlaps(subnet)) {
                throw new NetworkException(ErrorKind.FORBIDDEN, "invalid pool request: Pool overlaps with other one on this address space");
            }
        }
        // the auxiliary addresses are checked and kept as dockerd shows them (host-local does not hand them out differently)
        Map<String, String> aux = p.auxAddresses() == null ? null : new LinkedHashMap<>(p.auxAddresses());
        if (aux != null) {
            for (Map.Entry<String, String> e : aux.entrySet()) {
                int ip;
                try {
                    ip = Ipv4.parse(e.getValue());
                } catch (IllegalArgumentException ex) {
                    throw NetworkException.invalid("invalid auxiliary address " + e.getKey() + "=" + e.getValue());
                }
                if (!subnet.contains(ip)) throw NetworkException.invalid("no matching subnet for aux-address " + e.getValue());
            }
        }
        return new Network.IpamConfig(subnet.toString(), range, gateway, aux);
    }

    /**
     * The pools of a new network: the IPv4 one asked for (or one from the default pools) and
     * the IPv6 one asked for, at most one of each. {@code --ipv6} without an IPv6 subnet is
     * refused as dockerd refuses it (it has no default IPv6 pools).
     */
    List<Network.IpamConfig> forNetwork(List<NetworkSpec.Pool> asked, boolean enableIPv6, Collection<Network> existing) {
        NetworkSpec.Pool v4 = null;
        NetworkSpec.Pool v6 = null;
        for (NetworkSpec.Pool p : asked) {
            boolean six = p.subnet() != null && p.subnet().contains(":");
            if (six && v6 != null || !six && v4 != null) throw NetworkException.invalid("berth supports one IPv4 and one IPv6 subnet a network");
            if (six) v6 = p;
            else v4 = p;
        }
        List<Network.IpamConfig> out = new ArrayList<>();
        out.add(v4 == null ? auto(existing) : explicit(v4, existing));
        if (v6 != null) out.add(explicit6(v6, existing));
        else if (enableIPv6) {
            // dockerd 20.10 answers this one 404
            throw new NetworkException(ErrorKind.NOT_FOUND, "could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network");
        }
        return out;
    }

    /** An IPv6 pool: the gateway defaults to the subnet's first address, as for IPv4. */
    Network.IpamConfig explicit6(NetworkSpec.Pool p, Collection<Network> existing) {
        Ipv6.Cidr subnet;
        try {
            subnet = Ipv6.Cidr.parseStrict(p.subnet());
        } catch (IllegalArgumentException e) {
            throw NetworkException.invalid("invalid subnet " + p.subnet() + ": " + e.getMessage());
        }
        if (subnet.prefix() > 126) throw NetworkException.invalid("subnet " + subnet + " is too small: use a prefix of /126 or shorter");
        String gateway = p.gateway();
        if (gateway == null || gateway.isEmpty()) {
            gateway = Ipv6.format(subnet.at(1));
        } else {
            if (!Ipv6.isAddress(gateway)) throw NetworkException.invalid("invalid gateway " + gateway);
            if (!subnet.contains(Ipv6.parse(gateway))) throw NetworkException.invalid("no matching subnet for gateway " + gateway);
            gateway = Ipv6.format(Ipv6.parse(gateway));
        }
        String range = p.ipRange();
        if (range != null && !range.isEmpty()) {
            Ipv6.Cidr r;
            try {
                r = Ipv6.Cidr.parseStrict(range);
            } catch (IllegalArgumentException e) {
                throw NetworkException.invalid("invalid ip-range " + range + ": " + e.getMessage());
            }
            if (!subnet.contains(r)) throw NetworkException.invalid("no matching subnet for range " + range);
            range = r.toString();
        } else {
            range = null;
        }
        for (Network n : existing) {
            Ipv6.Cidr other = n.subnet6();
            if (other != null && other.overlaps(subnet)) {
                throw new NetworkException(ErrorKind.FORBIDDEN, "invalid pool request: Pool overlaps with other one on this address space");
            }
        }
        Map<String, String> aux = p.auxAddresses() == null ? null : new LinkedHashMap<>(p.auxAddresses());
        if (aux != null) {
            for (Map.Entry<String, String> e : aux.entrySet()) {
                if (!Ipv6.isAddress(e.getValue()) || !subnet.contains(Ipv6.parse(e.getValue()))) {
                    throw NetworkException.invalid("no matching subnet for aux-address " + e.getValue());
                }
            }
        }
        return new Network.IpamConfig(subnet.toString(), range, gateway, aux);
    }

    /** The first subnet of the default pools that no network and no host route overlaps. */
    Network.IpamConfig auto(Collection<Network> existing) {
        List<Ipv4.Cidr> taken = new ArrayList<>();
        for (Network n : existing) if (n.subnet() != null) taken.add(n.subnet());
        List<Ipv4.Cidr> routes = HostLinks.routes();
        for (NetworkService.AddressPool pool : addressPools) {
            Ipv4.Cidr base = Ipv4.Cidr.parse(pool.base());
            if (pool.size() < base.prefix() || pool.size() > 30) continue;
            long count = 1L << (pool.size() - base.prefix());
            long step = 1L << (32 - pool.size());
            for (long i = 0; i < count; i++) {
                Ipv4.Cidr candidate = new Ipv4.Cidr(base.base() + (int) (i * step), pool.size());
                if (taken.stream().anyMatch(candidate::overlaps) || routes.stream().anyMatch(candidate::overlaps)) continue;
                return new Network.IpamConfig(candidate.toString(), null, Ipv4.format(candidate.base() + 1));
            }
        }
        throw new NetworkException(ErrorKind.FORBIDDEN,
                "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
    }
}
