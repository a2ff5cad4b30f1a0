package io.berth.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Removes the iptables rules the bridge plugin tagged for one container ({@code name: "<net>"
 * id: "<container>"} comments) when the plugin cannot: its DEL finds the masquerade rules
 * through the addresses of the interface in the namespace, so with the namespace gone the
 * rules would stay.
 */
final class IptablesSweep {
    private IptablesSweep() {}

    /** {@code cniName} null: the container's rules of every network. */
    static void removeTagged(String cniName, String containerId) throws IOException {
        String tag = "id: \\\"" + containerId + "\\\"";
        String nameTag = cniName == null ? "" : "name: \\\"" + cniName + "\\\"";
        for (String table : List.of("nat", "filter")) {
            String dump = run(List.of("iptables-save", "-t", table));
            Set<String> chains = new LinkedHashSet<>();
            for (String line : dump.split("\n")) {
                if (!line.startsWith("-A ") || !line.contains(tag) || !line.contains(nameTag)) continue;
                List<String> args = tokenize(line);
                int j = args.indexOf("-j");
                if (j >= 0 && j + 1 < args.size() && args.get(j + 1).startsWith("CNI-") && !args.get(j + 1).startsWith("CNI-HOSTPORT")
                        && !args.get(j + 1).equals("CNI-FORWARD") && !args.get(j + 1).equals("CNI-ADMIN")) {
                    chains.add(args.get(j + 1));
                }
                List<String> cmd = new ArrayList<>(List.of("iptables", "-w", "-t", table, "-D"));
                cmd.addAll(args.subList(1, args.size()));
                run(cmd);
            }
            for (String chain : chains) {
                run(List.of("iptables", "-w", "-t", table, "-F", chain));
                run(List.of("iptables", "-w", "-t", table, "-X", chain));
            }
        }
    }

    /** Splits an iptables-save rule line into arguments, undoing its double-quote escaping. */
    static List<String> tokenize(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inQuotes = false;
        boolean any = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (inQuotes) {
                if (c == '\\' && i + 1 < line.length()) {
                    cur.append(line.charAt(++i));
                } else if (c == '"') {
                    inQuotes = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                inQuotes = true;
                any = true;
            } else if (c == ' ') {
                if (any || cur.length() > 0) out.add(cur.toString());
                cur.setLength(0);
                any = false;
            } else {
                cur.append(c);
            }
        }
        if (any || cur.length() > 0) out.add(cur.toString());
        return out;
    }

    private static String run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd));
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0 && !cmd.getFirst().equals("iptables-save")) {
            // a rule already gone is what we wanted
            if (!text.contains("does a matching rule exist") && !text.contains("No chain") && !text.contains("does not exist")) {
                throw new IOException(String.join(" ", cmd) + ": " + text.trim());
            }
        }
        return text;
    }
}
