package io.berth.engine.spec;

import io.berth.container.ContainerRecord;
import io.berth.container.ContainerSettings;
import io.berth.container.Users;
import io.berth.runtime.ContainerSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * What the spec is built from: the container's record (its settings and Docker Config) and what
 * the engine resolved for this start.
 *
 * @param record           the container
 * @param rootfs           its mounted root
 * @param user             Config.User and GroupAdd resolved in the image's /etc/passwd and /etc/group
 * @param initBinary       the host's init to run as PID 1 for --init, or null
 * @param etc              the container's resolv.conf, hostname and hosts files on the host
 * @param wiredMounts      volumes, binds and tmpfs as the mount wiring made them at create
 * @param netnsPath        the network namespace the network box made, or null (host, none, container:)
 * @param linkEnv          the legacy links' variables (NAME_PORT=...), the container's own win
 * @param hostCapabilities the capabilities this host knows (what privileged gets)
 * @param peers            another container's namespace, for the container:REF modes
 */
public record SpecInput(ContainerRecord record, Path rootfs, Users.Resolved user, Path initBinary, EtcFiles etc,
                        List<ContainerSpec.Mount> wiredMounts, String netnsPath, List<String> linkEnv,
                        Set<String> hostCapabilities, Peers peers) {

    public ContainerSettings settings() {
        return record.settings();
    }

    public record EtcFiles(Path resolvConf, Path hostname, Path hosts) {}

    /** Finds a running container by name or ID and gives its namespace to join (Conflict when it is not running). */
    @FunctionalInterface
    public interface Peers {
        ContainerSpec.NamespaceMode namespaceOf(String ref, ContainerSpec.Namespace ns);
    }
}
