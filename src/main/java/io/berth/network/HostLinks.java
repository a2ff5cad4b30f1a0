package io.berth.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The host side: bridge devices (through {@code ip}) and the host's routes (from /proc/net/route). */
final class HostLinks {
    private HostLinks() {}

    static boolean exists(String device) {
        return Files.exists(Path.of("/sys/class/net", device));
    }

    /**
     * Makes the bridge device with the gateway address, up, so the embedded DNS can listen on
     * the gateway before the first container joins. The bridge plugin finds it and keeps it.
     */
    static void ensureBridge(String device, String gateway, int prefix) throws IOException {
        if (!exists(device)) {
            String out = ip("link", "add", "name", device, "address", randomMac(), "type", "bridge");
            if (out != null && !exists(device)) throw new IOException("cannot create bridge " + device + ": " + out);
        }
        keepMacAddress(device);
        if (gateway != null) {
            String out = ip("addr", "add", gateway + "/" + prefix, "dev", device);
            if (out != null && !out.contains("File exists") && !out.contains("Address already assigned")) {
                throw new IOException("cannot add address " + gateway + "/" + prefix + " to bridge " + device + ": " + out);
            }
        }
        String out = ip("link", "set", device, "up");
        if (out != null) throw new IOException("cannot bring bridge " + device + " up: " + out);
    }

    /**
     * A bridge whose address the kernel chose takes the lowest address of its ports, so it
     * changes as containers come and go; containers that cached the gateway's old address then
     * send their DNS queries and outbound traffic to no one until their ARP entry expires (up
     * to a minute). An address set by hand stays, as dockerd sets one: a bridge made before
     * (by an older berthd) gets its present address set as its own.
     */
    private static void keepMacAddress(String device) throws IOException {
        Path type = Path.of("/sys/class/net", device, "addr_assign_type");
        Path address = Path.of("/sys/class/net", device, "address");
        if (!Files.exists(type) || Files.readString(type).trim().equals("3")) return; // 3: NET_ADDR_SET
        String current = Files.readString(address).trim();
        String mac = current.equals("00:00:00:00:00:00") ? randomMac() : current;
        String out = ip("link", "set", device, "address", mac);
        if (out != null) throw new IOException("cannot set the address of bridge " + device + ": " + out);
    }

    /** A random unicast, locally administered MAC address. */
    static String randomMac() {
        byte[] b = new byte[6];
        new java.security.SecureRandom().nextBytes(b);
        b[0] = (byte) ((b[0] & 0xfe) | 0x02);
        return java.util.HexFormat.ofDelimiter(":").formatHex(b);
    }

    static void deleteLink(String device) throws IOException {
        if (!exists(device)) return;
        String out = ip("link", "del", device);
        if (out != null && exists(device)) throw new IOException("cannot delete " + device + ": " + out);
    }

    /** Runs {@code ip}; null on success, else its error text. */
    static String ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    /** Runs a host command ({@code ip}, {@code iptables}); null on success, else its output. */
    static String run(List<String> cmd) throws IOException {
        Result r = exec(cmd);
        return r.exit() == 0 ? null : r.output();
    }

    /** A host command's exit status (-1 when it timed out) and its output, stdout and stderr together. */
    record Result(int exit, String output) {}

    static Result exec(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + String.join(" ", cmd));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).trim());
    }

    /** The IPv4 routes of the host other than default routes, to keep auto-chosen subnets clear of them. */
    static List<Ipv4.Cidr> routes() {
        List<Ipv4.Cidr> out = new ArrayList<>();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/route"));
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 8) continue;
                int dst = Integer.reverseBytes((int) Long.parseLong(f[1], 16));
                int mask = Integer.reverseBytes((int) Long.parseLong(f[7], 16));
                int prefix = Integer.bitCount(mask);
                if (prefix == 0) continue;
                out.add(new Ipv4.Cidr(dst, prefix));
            }
        } catch (IOException | RuntimeException ignored) {
            // no routes known
        }
        return out;
    }
}
