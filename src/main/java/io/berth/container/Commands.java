package io.berth.container;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Docker's rules for what a container runs and with which environment. */
public final class Commands {
    public static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private Commands() {}

    /** The entrypoint and command a container gets. */
    public record Resolved(List<String> entrypoint, List<String> cmd) {
        /** The program: the entrypoint's first word, else the command's. */
        public String path() {
            List<String> all = argv();
            return all.isEmpty() ? "" : all.getFirst();
        }

        public List<String> args() {
            List<String> all = argv();
            return all.isEmpty() ? List.of() : all.subList(1, all.size());
        }

        public List<String> argv() {
            List<String> all = new ArrayList<>();
            if (entrypoint != null) all.addAll(entrypoint);
            if (cmd != null) all.addAll(cmd);
            return all;
        }
    }

    /**
     * An entrypoint given at create replaces the image's and drops the image's command (an
     * empty one, {@code [""]}, clears it); a command given at create replaces the image's.
     */
    public static Resolved resolve(List<String> imageEntrypoint, List<String> imageCmd, List<String> entrypoint, List<String> cmd) {
        List<String> ep;
        List<String> c;
        if (entrypoint != null) {
            ep = entrypoint.size() == 1 && entrypoint.getFirst().isEmpty() ? List.of() : List.copyOf(entrypoint);
            c = cmd == null ? List.of() : List.copyOf(cmd);
        } else {
            ep = imageEntrypoint == null ? List.of() : List.copyOf(imageEntrypoint);
            c = cmd != null && !cmd.isEmpty() ? List.copyOf(cmd) : imageCmd == null ? List.of() : List.copyOf(imageCmd);
        }
        if (ep.isEmpty() && c.isEmpty()) throw ContainerException.invalid("No command specified");
        return new Resolved(ep, c);
    }

    /** The image's variables, then the create's: a later one replaces an earlier of the same name. */
    public static List<String> mergeEnv(List<String> image, List<String> create) {
        Map<String, String> byName = new LinkedHashMap<>();
        for (List<String> list : new ArrayList<>(java.util.Arrays.asList(image, create))) {
            if (list == null) continue;
            for (String kv : list) {
                int eq = kv.indexOf('=');
                String key = eq < 0 ? kv : kv.substring(0, eq);
                if (key.isEmpty()) throw ContainerException.invalid("invalid environment variable: " + kv);
                // "-e NAME" with NAME unset on the client stays in Config.Env as dockerd keeps it; it unsets NAME for the process
                byName.remove(key);
                byName.put(key, kv);
            }
        }
        return new ArrayList<>(byName.values());
    }

    /** The environment the process sees: PATH when missing, HOSTNAME, and TERM for a tty. */
    public static List<String> processEnv(List<String> env, String hostname, boolean tty) {
        List<String> out = new ArrayList<>();
        boolean hasPath = env.stream().anyMatch(e -> e.startsWith("PATH="));
        if (!hasPath) out.add(DEFAULT_PATH);
        out.add("HOSTNAME=" + hostname);
        if (tty && env.stream().noneMatch(e -> e.startsWith("TERM="))) out.add("TERM=xterm");
        for (String e : env) {
            if (!e.contains("=")) continue; // an unset variable (see mergeEnv)
            if (e.startsWith("HOSTNAME=")) out.removeIf(x -> x.startsWith("HOSTNAME="));
            out.add(e);
        }
        return out;
    }
}
