package io.berth.network;

/**
 * How the default {@code bridge} network is made, from dockerd's flags of the same names:
 * the device ({@code --bridge}), its address and subnet ({@code --bip}), the range containers
 * get addresses from ({@code --fixed-cidr}), and whether berthd writes iptables rules
 * ({@code --iptables}), masquerades what leaves a bridge ({@code --ip-masq}) and turns on the
 * host's IPv4 forwarding ({@code --ip-forward}).
 */
public record DefaultBridge(String name, String subnet, String gateway, String ipRange, boolean iptables, boolean ipMasq, boolean ipForward) {
    public static final String NAME = "berth0";
    public static final String SUBNET = "10.89.0.0/24";

    public static DefaultBridge defaults() {
        return new DefaultBridge(NAME, SUBNET, null, null, true, true, true);
    }

    /**
     * From the flags' values (null: not given); an invalid value is refused with what to give.
     * {@code bip} is the bridge's own address with the subnet's prefix, as {@code 10.222.0.1/24}.
     */
    public static DefaultBridge of(String bridge, String bip, String fixedCidr, Boolean iptables, Boolean ipMasq, Boolean ipForward) {
        String name = bridge == null || bridge.isEmpty() ? NAME : bridge;
        if (name.equals("none")) throw new IllegalArgumentException("--bridge none (no default bridge) is not supported by berthd");
        String problem = BridgeNames.problem(name);
        if (problem != null) throw new IllegalArgumentException("invalid --bridge \"" + name + "\": " + problem);
        String subnet = SUBNET;
        String gateway = null;
        if (bip != null && !bip.isEmpty()) {
            int slash = bip.indexOf('/');
            if (slash < 0 || !Ipv4.isAddress(bip.substring(0, slash))) {
                throw new IllegalArgumentException("invalid --bip \"" + bip + "\": give the bridge's address and prefix, as 10.222.0.1/24");
            }
            Ipv4.Cidr net;
            try {
                net = Ipv4.Cidr.parse(bip);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("invalid --bip \"" + bip + "\": " + e.getMessage(), e);
            }
            if (net.prefix() > 30) throw new IllegalArgumentException("invalid --bip \"" + bip + "\": the subnet leaves no address for containers");
            int address = Ipv4.parse(bip.substring(0, slash));
            if (address == net.base()) throw new IllegalArgumentException("invalid --bip \"" + bip + "\": that is the subnet's own address, not a host's");
            subnet = net.toString();
            gateway = bip.substring(0, slash);
        }
        String range = null;
        if (fixedCidr != null && !fixedCidr.isEmpty()) {
            Ipv4.Cidr r;
            try {
                r = Ipv4.Cidr.parse(fixedCidr);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("invalid --fixed-cidr \"" + fixedCidr + "\": " + e.getMessage(), e);
            }
            Ipv4.Cidr s = Ipv4.Cidr.parse(subnet);
            if (r.prefix() < s.prefix() || !s.contains(r.base())) {
                throw new IllegalArgumentException("invalid --fixed-cidr \"" + fixedCidr + "\": it is not inside the bridge's subnet " + subnet);
            }
            range = r.toString();
        }
        return new DefaultBridge(name, subnet, gateway, range,
                iptables == null || iptables, ipMasq == null || ipMasq, ipForward == null || ipForward);
    }

    /** The bridge's address: {@link #gateway} when --bip gave one, else the subnet's first. */
    public String gatewayAddress() {
        return gateway != null ? gateway : Ipv4.format(Ipv4.Cidr.parse(subnet).base() + 1);
    }
}
