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
        if (p.subnet().contains(":")) throw NetworkException.invalid("IPv6 subnets are not supported by berth yet: " + p.subnet());
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
