package io.berth.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The /etc/hosts, /etc/resolv.conf and /etc/hostname Docker writes for a container. */
public final class EtcFiles {
    private EtcFiles() {}

    /** Docker's answer when the host has no usable resolver. */
    public static final List<String> FALLBACK_NAMESERVERS = List.of("8.8.8.8", "8.8.4.4");

    /** An entry of --add-host: {@code host:ip}; {@code host-gateway} as ip means the network's gateway. */
    public record ExtraHost(String host, String ip) {
        public static ExtraHost parse(String spec) {
            int sep = spec.indexOf('=') >= 0 ? spec.indexOf('=') : spec.indexOf(':');
            if (sep <= 0 || sep == spec.length() - 1) {
                throw NetworkException.invalid("invalid argument \"" + spec + "\" for \"--add-host\" flag: bad format for add-host: \"" + spec + "\"");
            }
            String ip = spec.substring(sep + 1);
            if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.substring(1, ip.length() - 1);
            return new ExtraHost(spec.substring(0, sep), ip);
        }
    }

    /** A link on the default bridge: the target's address, the alias, the target's name and hostname. */
    public record Link(String ip, String alias, String name, String hostname) {}

    /**
     * /etc/hosts: localhost and the IPv6 names, the --add-host entries ({@code host-gateway}
     * replaced by {@code hostGateway}), the links, then the container's own address with its
     * hostname (and {@code hostname.domainname} first when a domain is set). {@code ip} null
     * (network none) leaves the own line out.
     */
    public static String hosts(String ip, String hostname, String domainname, List<ExtraHost> extraHosts, List<Link> links, String hostGateway) {
        return hosts(ip == null ? List.of() : List.of(ip), hostname, domainname, extraHosts, links, hostGateway);
    }

    /** /etc/hosts with a line for each of the container's own addresses (one a network, IPv4 then IPv6). */
    public static String hosts(List<String> ips, String hostname, String domainname, List<ExtraHost> extraHosts, List<Link> links, String hostGateway) {
        StringBuilder b = new StringBuilder();
        b.append("127.0.0.1\tlocalhost\n");
        b.append("::1\tlocalhost ip6-localhost ip6-loopback\n");
        b.append("fe00::0\tip6-localnet\n");
        b.append("ff00::0\tip6-mcastprefix\n");
        b.append("ff02::1\tip6-allnodes\n");
        b.append("ff02::2\tip6-allrouters\n");
        for (ExtraHost h : extraHosts) {
            String addr = h.ip();
            if ("host-gateway".equals(addr)) {
                if (hostGateway == null) {
                    throw NetworkException.invalid("unable to derive the IP value for host-gateway: the container has no gateway");
                }
                addr = hostGateway;
            }
            b.append(addr).append('\t').append(h.host()).append('\n');
        }
        for (Link l : links) {
            Set<String> names = new LinkedHashSet<>();
            names.add(l.alias());
            if (l.name() != null) names.add(l.name());
            if (l.hostname() != null) names.add(l.hostname());
            b.append(l.ip()).append('\t').append(String.join(" ", names)).append('\n');
        }
        if (hostname != null) {
            for (String ip : ips) b.append(ip).append('\t').append(selfNames(hostname, domainname)).append('\n');
        }
        return b.toString();
    }

    private static String selfNames(String hostname, String domainname) {
        return domainname != null && !domainname.isEmpty() ? hostname + "." + domainname + " " + hostname : hostname;
    }

    /**
     * A live container's /etc/hosts after a network connect or disconnect, as dockerd edits
     * it: the lines naming the container itself follow its addresses now (a new network's
     * addresses are appended, a left network's lines go); every other line, the user's edits
     * included, stays as it is.
     */
    public static String withOwnAddresses(String current, List<String> ips, String hostname, String domainname) {
        if (hostname == null) return current;
        String names = selfNames(hostname, domainname);
        StringBuilder b = new StringBuilder();
        Set<String> present = new LinkedHashSet<>();
        for (String line : current.lines().toList()) {
            int tab = line.indexOf('\t');
            boolean self = tab > 0 && line.substring(tab + 1).equals(names);
            if (self) {
                String addr = line.substring(0, tab);
                if (!ips.contains(addr)) continue;
                present.add(addr);
            }
            b.append(line).append('\n');
        }
        for (String ip : ips) if (!present.contains(ip)) b.append(ip).append('\t').append(names).append('\n');
        return b.toString();
    }

    /** /etc/hostname: the hostname and a newline. */
    public static String hostname(String hostname) {
        return hostname + "\n";
    }

    /** The host's resolver settings, from resolv.conf; systemd-resolved's stub is looked past. */
    public record HostResolv(List<String> nameservers, List<String> search, List<String> options) {
        public static HostResolv read() {
            Path main = Path.of("/etc/resolv.conf");
            HostResolv r = read(main);
            if (r.nameservers().contains("127.0.0.53")) {
                HostResolv upstream = read(Path.of("/run/systemd/resolve/resolv.conf"));
                if (!upstream.nameservers().isEmpty()) return upstream;
            }
            return r;
        }

        public static HostResolv read(Path file) {
            try {
                return parse(Files.readString(file));
            } catch (IOException e) {
                return new HostResolv(List.of(), List.of(), List.of());
            }
        }

        public static HostResolv parse(String text) {
            List<String> ns = new ArrayList<>();
            List<String> search = new ArrayList<>();
            List<String> options = new ArrayList<>();
            for (String line : text.split("\n")) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#") || t.startsWith(";")) continue;
                String[] f = t.split("\\s+");
                switch (f[0]) {
                    case "nameserver" -> { if (f.length > 1) ns.add(f[1]); }
                    case "search", "domain" -> { search.clear(); for (int i = 1; i < f.length; i++) search.add(f[i]); }
                    case "options" -> { for (int i = 1; i < f.length; i++) options.add(f[i]); }
                    default -> { }
                }
            }
            return new HostResolv(List.copyOf(ns), List.copyOf(search), List.copyOf(options));
        }

        /** The nameservers a container can reach: loopback ones dropped. */
        public List<String> reachableNameservers() {
            List<String> out = new ArrayList<>();
            for (String n : nameservers) {
                String lower = n.toLowerCase();
                if (lower.startsWith("127.") || lower.equals("::1") || lower.startsWith("0:0:0:0:0:0:0:1")) continue;
                out.add(n);
            }
            return out;
        }
    }

    /**
     * /etc/resolv.conf. On a user network ({@code embeddedDns} the gateway address where our
     * DNS listens) the only nameserver is the embedded one, which forwards to the --dns servers
     * or the host's. On the default bridge: the --dns servers, else the host's reachable ones,
     * else Google's. Search domains and options: the --dns-search and --dns-option values
     * when given, else the host's.
     */
    public static String resolvConf(HostResolv host, String embeddedDns, List<String> dns, List<String> dnsSearch, List<String> dnsOptions) {
        List<String> servers;
        if (embeddedDns != null) {
            servers = List.of(embeddedDns);
        } else if (!dns.isEmpty()) {
            servers = dns;
        } else {
            servers = host.reachableNameservers();
            if (servers.isEmpty()) servers = FALLBACK_NAMESERVERS;
        }
        List<String> search = dnsSearch.isEmpty() ? host.search() : dnsSearch;
        List<String> options = new ArrayList<>(dnsOptions.isEmpty() ? host.options() : dnsOptions);
        if (embeddedDns != null && options.stream().noneMatch(o -> o.startsWith("ndots:"))) options.add(0, "ndots:0");
        StringBuilder b = new StringBuilder();
        for (String s : servers) b.append("nameserver ").append(s).append('\n');
        if (!search.isEmpty() && !(search.size() == 1 && search.getFirst().equals("."))) {
            b.append("search ").append(String.join(" ", search)).append('\n');
        }
        if (!options.isEmpty()) b.append("options ").append(String.join(" ", options)).append('\n');
        return b.toString();
    }
}
