package io.berth.engine;

import io.berth.container.Container;
import io.berth.container.ContainerRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The variables a legacy link (--link on the default bridge) gives the linking container, as
 * dockerd does: ALIAS_NAME, ALIAS_ENV_* (the target's variables but HOME and PATH), and
 * ALIAS_PORT, ALIAS_PORT_N_PROTO{,_ADDR,_PORT,_PROTO} for the target's exposed ports at its
 * address on the default bridge. Links on user networks are names in the embedded DNS only.
 */
final class LinkEnvironment {
    private LinkEnvironment() {}

    static List<String> of(ContainerRecord r, ContainerService service) {
        List<String> out = new ArrayList<>();
        List<String> links = r.settings().networking().links();
        String mode = r.settings().networking().mode();
        if (links == null || links.isEmpty() || !(mode.isEmpty() || mode.equals("default") || mode.equals("bridge"))) return out;
        for (String link : links) {
            String[] p = ContainerNetworking.parseLink(link);
            Optional<Container> target = service.store().find(p[0]);
            if (target.isEmpty()) continue;
            ContainerRecord t = target.get().record();
            String prefix = p[1].toUpperCase(Locale.ROOT).replace('-', '_');
            out.add(prefix + "_NAME=/" + r.plainName() + "/" + p[1]);
            if (t.config().env() != null) {
                for (String kv : t.config().env()) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0) continue;
                    String key = kv.substring(0, eq);
                    if (key.equals("HOME") || key.equals("PATH")) continue;
                    out.add(prefix + "_ENV_" + kv);
                }
            }
            String ip = bridgeAddress(t, service);
            Map<String, ?> exposed = t.config().exposedPorts();
            if (ip == null || exposed == null || exposed.isEmpty()) continue;
            TreeSet<int[]> ports = new TreeSet<>((a, b) -> a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]));
            List<String> protos = new ArrayList<>();
            for (String key : exposed.keySet()) {
                String[] pp = key.split("/", 2);
                String proto = pp.length > 1 ? pp[1] : "tcp";
                try {
                    if (!protos.contains(proto)) protos.add(proto);
                    ports.add(new int[] {Integer.parseInt(pp[0]), protos.indexOf(proto)});
                } catch (NumberFormatException e) {
                    // not a single port: dockerd would not have stored it
                }
            }
            boolean first = true;
            for (int[] port : ports) {
                String proto = protos.get(port[1]);
                String url = proto + "://" + ip + ":" + port[0];
                if (first) out.add(prefix + "_PORT=" + url);
                first = false;
                String base = prefix + "_PORT_" + port[0] + "_" + proto.toUpperCase(Locale.ROOT);
                out.add(base + "=" + url);
                out.add(base + "_ADDR=" + ip);
                out.add(base + "_PORT=" + port[0]);
                out.add(base + "_PROTO=" + proto);
            }
        }
        return out;
    }

    private static String bridgeAddress(ContainerRecord t, ContainerService service) {
        if (!(service.wiring() instanceof Wiring wiring)) return null;
        for (Wiring.EndpointView e : wiring.networkView(t).endpoints()) {
            if (e.network().isDefaultBridge() && e.live() != null) return e.live().ipAddress();
        }
        return null;
    }
}
