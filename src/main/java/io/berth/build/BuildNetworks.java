package io.berth.build;

import java.io.IOException;
import java.nio.file.Path;

/**
 * RUN's networks, lent by the engine (the network box sits beside the builder, not under it):
 * a build container joins the daemon's default bridge, or a network the build names, the
 * way {@code docker run} joins it, and leaves it when its command ends.
 *
 * <p>The builder itself handles {@code host} (the host's namespace) and {@code none} (a
 * fresh namespace with only loopback); everything else comes here.
 */
public interface BuildNetworks {
    /**
     * What a build container got.
     *
     * @param netns      the network namespace to run in (a path the runtime joins)
     * @param hosts      the container's /etc/hosts
     * @param resolvConf the container's /etc/resolv.conf
     */
    record Sandbox(Path netns, String hosts, String resolvConf) {}

    /**
     * Joins a new namespace for build container {@code containerId} to {@code network}
     * ({@code default}, {@code bridge} or a network's name or ID).
     *
     * @return the sandbox, or null when {@code network} is {@code default} and the daemon
     *         has no default bridge (the container then gets loopback only, as with dockerd)
     * @throws BuildException the network does not exist, or cannot take a build container
     */
    Sandbox attach(String containerId, String hostname, String network) throws IOException, BuildException;

    /** Undoes {@link #attach}: interfaces, address, rules, namespace; nothing to undo is fine. */
    void detach(String containerId);

    /** No networks to lend: only {@code default} works, as {@code none}. */
    BuildNetworks NONE = new BuildNetworks() {
        @Override
        public Sandbox attach(String containerId, String hostname, String network) throws BuildException {
            if (network.equals("default")) return null;
            throw new BuildException("network " + network + " not found");
        }

        @Override
        public void detach(String containerId) {}
    };
}
