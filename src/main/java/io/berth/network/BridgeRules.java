package io.berth.network;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The iptables rules of a bridge network, made once for the network as dockerd makes them,
 * not once for every container as the bridge plugin's ipMasq and the firewall plugin do:
 * those cost four to six iptables runs (about 150 ms here) on every start and removal.
 * <ul>
 *   <li>nat: traffic from the subnet leaving by another device is masqueraded (not on
 *       internal networks, nor with {@code com.docker.network.bridge.enable_ip_masquerade=false});</li>
 *   <li>filter: a chain {@value #CHAIN}, jumped to first from FORWARD, accepts what leaves
 *       the bridge and the replies coming back, so a host whose FORWARD policy is DROP (as
 *       dockerd leaves it) still forwards; an internal network only forwards between its own
 *       containers.</li>
 * </ul>
 * <li>isolation, as dockerd's two stages: what comes in by one Berth bridge and leaves by
 *     another is dropped ({@value #ISOLATION_1} sends what leaves its bridge for another to
 *     {@value #ISOLATION_2}, which drops it if that other is a Berth bridge), so containers on
 *     two different networks cannot reach each other; {@value #CHAIN} jumps there first.</li>
 * </ul>
 * The chains and their jumps go with the last network's rules. A network with IPv6 gets the
 * same rules from ip6tables for its IPv6 subnet, so isolation and masquerading hold for both.
 */
final class BridgeRules {
    static final String CHAIN = "BERTH-FORWARD";
    static final String ISOLATION_1 = "BERTH-ISOLATION-STAGE-1";
    static final String ISOLATION_2 = "BERTH-ISOLATION-STAGE-2";

    private BridgeRules() {}

    /** The two tools: iptables for IPv4, ip6tables for IPv6, with the same chains and rules. */
    enum Family {
        V4("iptables"), V6("ip6tables");

        final String tool;

        Family(String tool) {
            this.tool = tool;
        }
    }

    /** Adds what is missing of the network's rules; idempotent, and safe beside another daemon. */
    static void ensure(Network n) throws IOException {
        ensure(n, Family.V4);
        if (n.hasIpv6()) ensure(n, Family.V6);
    }

    private static void ensure(Network n, Family f) throws IOException {
        ensureChain(f);
        for (List<String> rule : rules(n, f)) {
            if (iptables(f, concat("-C", rule)) != null) {
                String err = iptables(f, concat("-A", rule));
                if (err != null) throw new IOException("cannot add " + f.tool + " rule " + String.join(" ", rule) + ": " + err);
            }
        }
    }

    /** Deletes the network's rules, of both families; missing ones are fine. */
    static void remove(Network n) throws IOException {
        remove(n, Family.V4);
        if (n.hasIpv6()) remove(n, Family.V6);
    }

    private static void remove(Network n, Family f) throws IOException {
        List<String> failures = new ArrayList<>();
        for (List<String> rule : rules(n, f)) {
            while (iptables(f, concat("-C", rule)) == null) {
                String err = iptables(f, concat("-D", rule));
                if (err != null) {
                    failures.add(err);
                    break;
                }
            }
        }
        if (!failures.isEmpty()) throw new IOException("cannot remove the " + f.tool + " rules of network " + n.name() + ": " + failures);
        dropChainIfEmpty(f);
    }

    /** The last network's rules gone, the chain and its jump go too: the host is as before the first. */
    private static void dropChainIfEmpty(Family f) throws IOException {
        HostLinks.Result listing = HostLinks.exec(List.of(f.tool, "-w", "-t", "filter", "-S", CHAIN));
        if (listing.exit() != 0) return; // no chain: nothing to drop
        if (listing.output().lines().anyMatch(l -> l.startsWith("-A ") && !l.endsWith("-j " + ISOLATION_1))) return; // other networks' rules
        while (iptables(f, List.of("-t", "filter", "-C", CHAIN, "-j", ISOLATION_1)) == null) {
            String err = iptables(f, List.of("-t", "filter", "-D", CHAIN, "-j", ISOLATION_1));
            if (err != null) throw new IOException("cannot remove the jump to " + ISOLATION_1 + ": " + err);
        }
        for (String chain : List.of(ISOLATION_1, ISOLATION_2)) {
            iptables(f, List.of("-t", "filter", "-F", chain));
            String gone = iptables(f, List.of("-t", "filter", "-X", chain));
            if (gone != null && !gone.contains("No chain") && !gone.contains("does not exist")) {
                throw new IOException("cannot remove iptables chain " + chain + ": " + gone);
            }
        }

        while (iptables(f, List.of("-t", "filter", "-C", "FORWARD", "-j", CHAIN)) == null) {
            String err = iptables(f, List.of("-t", "filter", "-D", "FORWARD", "-j", CHAIN));
            if (err != null) throw new IOException("cannot remove the jump to " + CHAIN + ": " + err);
        }
        String err = iptables(f, List.of("-t", "filter", "-X", CHAIN));
        if (err != null && !err.contains("No chain")) throw new IOException("cannot remove iptables chain " + CHAIN + ": " + err);
    }

    /** Each rule as its table, chain and match arguments (without the -A/-C/-D verb). */
    static List<List<String>> rules(Network n) {
        return rules(n, Family.V4);
    }

    static List<List<String>> rules(Network n, Family f) {
        String br = n.bridgeName();
        List<List<String>> rules = new ArrayList<>();
        rules.add(List.of("-t", "filter", ISOLATION_1, "-i", br, "!", "-o", br, "-j", ISOLATION_2));
        rules.add(List.of("-t", "filter", ISOLATION_2, "-o", br, "-j", "DROP"));
        if (n.internal()) {
            rules.add(List.of("-t", "filter", CHAIN, "-i", br, "-o", br, "-j", "ACCEPT"));
            return rules;
        }
        rules.add(List.of("-t", "filter", CHAIN, "-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"));
        rules.add(List.of("-t", "filter", CHAIN, "-i", br, "-j", "ACCEPT"));
        Object subnet = f == Family.V4 ? n.subnet() : n.subnet6(); // an Ipv4.Cidr or Ipv6.Cidr, written as text
        if (subnet != null && !"false".equals(n.options().get("com.docker.network.bridge.enable_ip_masquerade"))) {
            rules.add(List.of("-t", "nat", "POSTROUTING", "-s", subnet.toString(), "!", "-o", br, "-j", "MASQUERADE"));
        }
        return rules;
    }

    private static void ensureChain(Family f) throws IOException {
        for (String chain : List.of(CHAIN, ISOLATION_1, ISOLATION_2)) {
            if (iptables(f, List.of("-t", "filter", "-L", chain, "-n")) != null) {
                String err = iptables(f, List.of("-t", "filter", "-N", chain));
                if (err != null && !err.contains("exists")) throw new IOException("cannot create iptables chain " + chain + ": " + err);
            }
        }
        // Isolation is looked at before any network's ACCEPT.
        if (iptables(f, List.of("-t", "filter", "-C", CHAIN, "-j", ISOLATION_1)) != null) {
            String err = iptables(f, List.of("-t", "filter", "-I", CHAIN, "1", "-j", ISOLATION_1));
            if (err != null) throw new IOException("cannot jump to " + ISOLATION_1 + " from " + CHAIN + ": " + err);
        }
        if (iptables(f, List.of("-t", "filter", "-C", "FORWARD", "-j", CHAIN)) != null) {
            String err = iptables(f, List.of("-t", "filter", "-I", "FORWARD", "1", "-j", CHAIN));
            if (err != null) throw new IOException("cannot jump to " + CHAIN + " from FORWARD: " + err);
        }
    }

    /** "-t table VERB chain rest..." from a rule and a verb. */
    private static List<String> concat(String verb, List<String> rule) {
        List<String> out = new ArrayList<>(rule.subList(0, 2));
        out.add(verb);
        out.addAll(rule.subList(2, rule.size()));
        return out;
    }

    /** Runs iptables or ip6tables (waiting for its lock); null on success, else its output. */
    private static String iptables(Family f, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(f.tool, "-w"));
        cmd.addAll(args);
        String out = HostLinks.run(cmd);
        return out == null ? null : out.isEmpty() ? "exit status not 0" : out;
    }
}
