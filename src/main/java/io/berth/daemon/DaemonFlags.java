package io.berth.daemon;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Parses `berth daemon` flags, with dockerd's names and both `--flag value` and `--flag=value`. */
public final class DaemonFlags {
    public static final String USAGE = """
            usage: berth daemon [flags]
              --data-root DIR          images, containers and volumes (default /var/lib/berth)
              --exec-root DIR          runtime state (default /run/berth)
              -H, --host ADDR          unix:///path.sock or tcp://addr:port; repeatable (default unix:///run/berth/berth.sock)
              --tls                    serve TCP with TLS
              --tlsverify              serve TCP with TLS and require client certificates signed by --tlscacert
              --tlscacert FILE         CA certificate (PEM) that signs client certificates
              --tlscert FILE           server certificate (PEM)
              --tlskey FILE            server private key (PEM)
              --config-file FILE       daemon.json (default /etc/berth/daemon.json)
              -l, --log-level LEVEL    debug, info, warn, error or fatal
              -D, --debug              debug logging
              --default-runtime NAME   the OCI runtime containers get when they name none
              -b, --bridge NAME        the default bridge's device (default berth0)
              --bip CIDR               the default bridge's address and subnet, as 10.222.0.1/24 (default 10.89.0.1/24)
              --fixed-cidr CIDR        the range within it that containers get addresses from
              --iptables               write iptables rules for bridge networks (default true)
              --ip-masq                masquerade what leaves the default bridge (default true)
              --ip-forward             turn on the host's IPv4 forwarding (default true)
              --cri-socket PATH        serve Kubernetes' CRI (gRPC) on this unix socket (default EXEC-ROOT/cri.sock; "" turns it off)
            """;

    private DaemonFlags() {}

    public static DaemonConfigLoader.Flags parse(String[] args) {
        Path dataRoot = null, execRoot = null, caCert = null, cert = null, key = null, configFile = null;
        List<String> hosts = new ArrayList<>();
        Boolean tls = null, tlsVerify = null, debug = null, iptables = null, ipMasq = null, ipForward = null;
        String logLevel = null, defaultRuntime = null, bridge = null, bip = null, fixedCidr = null, criSocket = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            switch (name) {
                case "--tls" -> tls = bool(name, inline);
                case "--tlsverify" -> tlsVerify = bool(name, inline);
                case "-D", "--debug" -> debug = bool(name, inline);
                case "--iptables" -> iptables = bool(name, inline);
                case "--ip-masq" -> ipMasq = bool(name, inline);
                case "--ip-forward" -> ipForward = bool(name, inline);
                default -> {
                    String value = inline;
                    if (value == null) {
                        if (i + 1 >= args.length) throw new IllegalArgumentException("flag needs an argument: " + name);
                        value = args[++i];
                    }
                    switch (name) {
                        case "--data-root" -> dataRoot = Path.of(value);
                        case "--exec-root" -> execRoot = Path.of(value);
                        case "-H", "--host" -> hosts.add(value);
                        case "--tlscacert" -> caCert = Path.of(value);
                        case "--tlscert" -> cert = Path.of(value);
                        case "--tlskey" -> key = Path.of(value);
                        case "--config-file" -> configFile = Path.of(value);
                        case "-l", "--log-level" -> logLevel = value;
                        case "--default-runtime" -> defaultRuntime = value;
                        case "-b", "--bridge" -> bridge = value;
                        case "--bip" -> bip = value;
                        case "--fixed-cidr" -> fixedCidr = value;
                        case "--cri-socket" -> criSocket = value;
                        default -> throw new IllegalArgumentException("unknown flag: " + name);
                    }
                }
            }
        }
        return new DaemonConfigLoader.Flags(dataRoot, execRoot, hosts.isEmpty() ? null : hosts, tls, tlsVerify, caCert, cert, key,
                logLevel, debug, defaultRuntime, configFile, bridge, bip, fixedCidr, iptables, ipMasq, ipForward, criSocket);
    }

    private static Boolean bool(String name, String inline) {
        if (inline == null) return true;
        return switch (inline) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new IllegalArgumentException("invalid boolean for " + name + ": " + inline);
        };
    }
}
