package io.berth.network;

import java.util.List;
import java.util.Map;

/**
 * What {@code docker network create} asks for. {@code driver} null means bridge; each pool
 * may leave gateway and ipRange null; an empty pool list takes a subnet from the default
 * address pools.
 */
public record NetworkSpec(
        String name,
        String driver,
        List<Pool> pools,
        boolean internal,
        boolean attachable,
        boolean enableIPv6,
        Map<String, String> options,
        Map<String, String> labels,
        Map<String, String> ipamOptions) {

    public NetworkSpec {
        pools = pools == null ? List.of() : List.copyOf(pools);
        options = options == null ? Map.of() : Map.copyOf(options);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        ipamOptions = ipamOptions == null ? null : Map.copyOf(ipamOptions);
    }

    public NetworkSpec(String name, String driver, List<Pool> pools, boolean internal, boolean attachable, boolean enableIPv6,
            Map<String, String> options, Map<String, String> labels) {
        this(name, driver, pools, internal, attachable, enableIPv6, options, labels, null);
    }

    public NetworkSpec withIpamOptions(Map<String, String> value) {
        return new NetworkSpec(name, driver, pools, internal, attachable, enableIPv6, options, labels, value);
    }

    public record Pool(String subnet, String gateway, String ipRange, Map<String, String> auxAddresses) {
        public Pool(String subnet, String gateway, String ipRange) {
            this(subnet, gateway, ipRange, null);
        }
    }

    public static NetworkSpec named(String name) {
        return new NetworkSpec(name, null, List.of(), false, false, false, Map.of(), Map.of());
    }

    public NetworkSpec withPool(String subnet, String gateway, String ipRange) {
        return new NetworkSpec(name, driver, List.of(new Pool(subnet, gateway, ipRange)), internal, attachable, enableIPv6, options, labels);
    }

    public NetworkSpec withInternal(boolean value) {
        return new NetworkSpec(name, driver, pools, value, attachable, enableIPv6, options, labels);
    }

    public NetworkSpec withOptions(Map<String, String> value) {
        return new NetworkSpec(name, driver, pools, internal, attachable, enableIPv6, value, labels);
    }

    public NetworkSpec withLabels(Map<String, String> value) {
        return new NetworkSpec(name, driver, pools, internal, attachable, enableIPv6, options, value);
    }
}
