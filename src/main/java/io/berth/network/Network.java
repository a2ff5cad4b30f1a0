package io.berth.network;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * One network as stored in {@code networks/<id>.json}, with Docker's field names.
 * Driver is {@code bridge}, {@code host} or {@code null}.
 */
public record Network(
        @JsonProperty("Name") String name,
        @JsonProperty("Id") String id,
        @JsonProperty("Created") String created,
        @JsonProperty("Scope") String scope,
        @JsonProperty("Driver") String driver,
        @JsonProperty("EnableIPv6") boolean enableIPv6,
        @JsonProperty("IPAM") Ipam ipam,
        @JsonProperty("Internal") boolean internal,
        @JsonProperty("Attachable") boolean attachable,
        @JsonProperty("Options") Map<String, String> options,
        @JsonProperty("Labels") Map<String, String> labels) {

    public static final String BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";
    public static final String DEFAULT_BRIDGE_OPTION = "com.docker.network.bridge.default_bridge";

    public Network {
        options = options == null ? Map.of() : Map.copyOf(options);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        if (ipam == null) ipam = new Ipam("default", Map.of(), List.of());
    }

    public record Ipam(
            @JsonProperty("Driver") String driver,
            @JsonProperty("Options") Map<String, String> options,
            @JsonProperty("Config") List<IpamConfig> config) {
        public Ipam {
            options = options == null ? null : Map.copyOf(options); // null when none were given, as dockerd shows it
            config = config == null ? List.of() : List.copyOf(config);
        }
    }

    /** One pool of the network: the subnet, its gateway, and the range containers get addresses from. */
    public record IpamConfig(
            @JsonProperty("Subnet") String subnet,
            @JsonProperty("IPRange") String ipRange,
            @JsonProperty("Gateway") String gateway,
            @JsonProperty("AuxiliaryAddresses") Map<String, String> auxAddresses) {
        public IpamConfig {
            auxAddresses = auxAddresses == null || auxAddresses.isEmpty() ? null : Map.copyOf(auxAddresses);
        }

        public IpamConfig(String subnet, String ipRange, String gateway) {
            this(subnet, ipRange, gateway, null);
        }
    }

    public boolean isBridge() {
        return "bridge".equals(driver);
    }

    /** True for the predefined networks {@code bridge}, {@code host} and {@code none}. */
    public boolean isPredefined() {
        return NetworkService.PREDEFINED.contains(name);
    }

    public boolean isDefaultBridge() {
        return "true".equals(options.get(DEFAULT_BRIDGE_OPTION));
    }

    /** The Linux bridge device: the option when given, else {@code br-} and the first 12 of the ID. */
    public String bridgeName() {
        String n = options.get(BRIDGE_NAME_OPTION);
        return n != null && !n.isEmpty() ? n : "br-" + id.substring(0, 12);
    }

    public IpamConfig ipv4() {
        for (IpamConfig c : ipam.config()) {
            if (c.subnet() != null && !c.subnet().contains(":")) return c;
        }
        return null;
    }

    public Ipv4.Cidr subnet() {
        IpamConfig c = ipv4();
        return c == null ? null : Ipv4.Cidr.parse(c.subnet());
    }

    public String gateway() {
        IpamConfig c = ipv4();
        return c == null ? null : c.gateway();
    }

    /** The network's IPv6 pool, kept whether or not IPv6 is enabled (as dockerd keeps it). */
    public IpamConfig ipv6() {
        for (IpamConfig c : ipam.config()) {
            if (c.subnet() != null && c.subnet().contains(":")) return c;
        }
        return null;
    }

    /** Whether containers get IPv6 addresses here: {@code --ipv6} and a v6 subnet. */
    public boolean hasIpv6() {
        return enableIPv6 && ipv6() != null;
    }

    public Ipv6.Cidr subnet6() {
        IpamConfig c = ipv6();
        return c == null ? null : Ipv6.Cidr.parse(c.subnet());
    }

    public String gateway6() {
        IpamConfig c = ipv6();
        return c == null ? null : c.gateway();
    }
}
