package io.berth.api;

import io.berth.container.ContainerRecord;
import io.berth.container.ContainerState;
import io.berth.container.ContainerStatus;
import io.berth.container.HealthProbe;
import io.berth.container.DockerHostConfig;
import io.berth.container.HostConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Docker's JSON shapes for containers: the list entry, inspect, and the Status phrase. */
final class ContainerJson {
    static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    private ContainerJson() {}

    static String time(Instant t) {
        return t == null ? ZERO_TIME : t.toString();
    }

    static String command(ContainerRecord r) {
        List<String> words = new ArrayList<>();
        words.add(r.path());
        words.addAll(r.args());
        StringBuilder b = new StringBuilder();
        for (String w : words) {
            if (!b.isEmpty()) b.append(' ');
            b.append(w.isEmpty() || w.contains(" ") ? "\"" + w + "\"" : w);
        }
        return b.toString();
    }

    /** "Up 5 minutes", "Exited (0) 2 seconds ago", "Created", ... */
    static String statusPhrase(ContainerRecord r, Instant now) {
        ContainerState s = r.state();
        return switch (s.status()) {
            case RUNNING -> "Up " + human(Duration.between(s.startedAt(), now)) + (s.health() == null ? ""
                    : s.health().equals("starting") ? " (health: starting)" : " (" + s.health() + ")");
            case PAUSED -> "Up " + human(Duration.between(s.startedAt(), now)) + " (Paused)";
            case RESTARTING -> "Restarting (" + s.exitCode() + ") " + human(Duration.between(finished(s, now), now)) + " ago";
            case EXITED -> s.finishedAt() == null ? "Created" : "Exited (" + s.exitCode() + ") " + human(Duration.between(s.finishedAt(), now)) + " ago";
            case CREATED -> "Created";
            case REMOVING -> "Removal In Progress";
            case DEAD -> "Dead";
        };
    }

    private static Instant finished(ContainerState s, Instant now) {
        return s.finishedAt() == null ? now : s.finishedAt();
    }

    /** Go's units.HumanDuration. */
    static String human(Duration d) {
        long secs = Math.max(0, d.getSeconds());
        if (secs < 1) return "Less than a second";
        if (secs == 1) return "1 second";
        if (secs < 60) return secs + " seconds";
        long mins = secs / 60;
        if (mins == 1) return "About a minute";
        if (mins < 60) return mins + " minutes";
        long hours = Math.round(secs / 3600.0);
        if (hours == 1) return "About an hour";
        if (hours < 48) return hours + " hours";
        if (hours < 24 * 7 * 2) return hours / 24 + " days";
        if (hours < 24 * 30 * 2) return hours / 24 / 7 + " weeks";
        if (hours < 24 * 365 * 2) return hours / 24 / 30 + " months";
        return hours / 24 / 365 + " years";
    }

    static Map<String, Object> listEntry(ContainerRecord r, Long sizeRw, Long sizeRootFs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Id", r.id());
        m.put("Names", List.of(r.name()));
        m.put("Image", r.imageName());
        m.put("ImageID", r.image());
        m.put("Command", command(r));
        m.put("Created", r.created().getEpochSecond());
        m.put("Ports", List.of());
        if (sizeRw != null) {
            m.put("SizeRw", sizeRw);
            m.put("SizeRootFs", sizeRootFs);
        }
        m.put("Labels", r.config().labels() == null ? Map.of() : r.config().labels());
        m.put("State", r.state().status().word());
        m.put("Status", statusPhrase(r, Instant.now()));
        m.put("HostConfig", Map.of("NetworkMode", r.settings().networking().mode()));
        m.put("NetworkSettings", Map.of("Networks", Map.of()));
        m.put("Mounts", mounts(r));
        return m;
    }

    static List<Map<String, Object>> mounts(ContainerRecord r) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String b : r.settings().mounts().binds()) {
            String[] p = b.split(":");
            if (p.length < 2 || !p[0].startsWith("/")) continue;
            String mode = p.length > 2 ? p[2] : "";
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Type", "bind");
            m.put("Source", p[0]);
            m.put("Destination", p[1]);
            m.put("Mode", mode);
            m.put("RW", !List.of(mode.split(",")).contains("ro"));
            m.put("Propagation", "rprivate");
            out.add(m);
        }
        // tmpfs mounts: Docker lists them only in HostConfig
        return out;
    }

    record Paths(String resolvConf, String hostname, String hosts, String log, String rootfs, String upper, String work, String lowers) {}

    static Map<String, Object> inspect(ContainerRecord r, List<String> execIds, Paths paths, Long sizeRw, Long sizeRootFs) {
        ContainerState s = r.state();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Id", r.id());
        m.put("Created", time(r.created()));
        m.put("Path", r.path());
        m.put("Args", r.args());
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("Status", s.status().word());
        st.put("Running", s.status() == ContainerStatus.RUNNING || s.status() == ContainerStatus.PAUSED || s.status() == ContainerStatus.RESTARTING);
        st.put("Paused", s.status() == ContainerStatus.PAUSED);
        st.put("Restarting", s.status() == ContainerStatus.RESTARTING);
        st.put("OOMKilled", s.oomKilled());
        st.put("Dead", s.status() == ContainerStatus.DEAD);
        st.put("Pid", s.pid());
        st.put("ExitCode", s.exitCode());
        st.put("Error", s.error());
        st.put("StartedAt", time(s.startedAt()));
        st.put("FinishedAt", time(s.finishedAt()));
        if (s.health() != null) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("Status", s.health());
            h.put("FailingStreak", s.failingStreak());
            List<Map<String, Object>> log = new ArrayList<>();
            for (HealthProbe p : s.healthLog()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("Start", time(p.start()));
                e.put("End", time(p.end()));
                e.put("ExitCode", p.exitCode());
                e.put("Output", p.output());
                log.add(e);
            }
            h.put("Log", log);
            st.put("Health", h);
        }
        m.put("State", st);
        m.put("Image", r.image());
        m.put("ResolvConfPath", paths.resolvConf());
        m.put("HostnamePath", paths.hostname());
        m.put("HostsPath", paths.hosts());
        m.put("LogPath", paths.log());
        m.put("Name", r.name());
        m.put("RestartCount", r.restartCount());
        m.put("Driver", "overlay2");
        m.put("Platform", "linux");
        m.put("MountLabel", "");
        m.put("ProcessLabel", "");
        m.put("AppArmorProfile", "");
        m.put("ExecIDs", execIds.isEmpty() ? null : execIds);
        m.put("HostConfig", DockerHostConfig.toDocker(r.settings())); // Docker's shape, as dockerd shows it
        Map<String, Object> gd = new LinkedHashMap<>();
        gd.put("Name", "overlay2");
        Map<String, String> data = new LinkedHashMap<>();
        data.put("LowerDir", paths.lowers());
        data.put("MergedDir", paths.rootfs());
        data.put("UpperDir", paths.upper());
        data.put("WorkDir", paths.work());
        gd.put("Data", data);
        m.put("GraphDriver", gd);
        if (sizeRw != null) {
            m.put("SizeRw", sizeRw);
            m.put("SizeRootFs", sizeRootFs);
        }
        m.put("Mounts", mounts(r));
        m.put("Config", r.config());
        Map<String, Object> ns = new LinkedHashMap<>();
        ns.put("Bridge", "");
        ns.put("SandboxID", "");
        ns.put("SandboxKey", "");
        ns.put("Ports", Map.of());
        ns.put("HairpinMode", false);
        ns.put("LinkLocalIPv6Address", "");
        ns.put("LinkLocalIPv6PrefixLen", 0);
        ns.put("SecondaryIPAddresses", null);
        ns.put("SecondaryIPv6Addresses", null);
        ns.put("EndpointID", "");
        ns.put("Gateway", "");
        ns.put("GlobalIPv6Address", "");
        ns.put("GlobalIPv6PrefixLen", 0);
        ns.put("IPAddress", "");
        ns.put("IPPrefixLen", 0);
        ns.put("IPv6Gateway", "");
        ns.put("MacAddress", "");
        ns.put("Networks", Map.of());
        m.put("NetworkSettings", ns);
        return m;
    }

    static HostConfig hostConfigOrEmpty(HostConfig h) {
        return h == null ? HostConfig.empty() : h;
    }
}
