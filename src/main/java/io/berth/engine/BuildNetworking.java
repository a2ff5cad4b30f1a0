package io.berth.engine;

import io.berth.errdefs.ErrorKind;
import io.berth.build.BuildException;
import io.berth.build.BuildNetworks;
import io.berth.network.AttachRequest;
import io.berth.network.AttachResult;
import io.berth.network.Attachment;
import io.berth.network.Network;
import io.berth.network.NetworkException;
import java.nio.file.Path;
import java.util.List;

/**
 * The networks the classic builder's RUN containers join: the default bridge for
 * {@code default}, else the network the build names, through the same attach as a
 * container's start (namespace, veth, address, rules), undone when the step ends. A build
 * container has no record in the container store, so the network reconcile at daemon start
 * undoes whatever a crash left.
 */
final class BuildNetworking implements BuildNetworks {
    private final NetworkUseCases networks;

    BuildNetworking(NetworkUseCases networks) {
        this.networks = networks;
    }

    @Override
    public Sandbox attach(String containerId, String hostname, String mode) throws BuildException {
        if (mode.startsWith("container:")) {
            throw new BuildException("network mode " + mode + " is not supported for RUN in a build: use default, bridge, host, none or a network's name");
        }
        boolean byDefault = mode.equals("default");
        String name = byDefault ? "bridge" : mode;
        Network n;
        try {
            n = networks.inspect(name);
        } catch (NetworkException e) {
            if (e.kind() != ErrorKind.NOT_FOUND) throw new BuildException(e.getMessage(), e);
            if (byDefault) return null; // no default bridge on this daemon (bridge: none): loopback only, as dockerd
            throw new BuildException("network " + mode + " not found");
        }
        if (n.driver().equals("host")) throw new BuildException("network " + mode + " is the host's network: build with --network host");
        AttachResult r;
        try {
            r = networks.service().attach(new AttachRequest(containerId, null, List.of(Attachment.to(n.id())), List.of(), List.of()));
        } catch (NetworkException e) {
            throw new BuildException("cannot join network " + n.name() + ": " + e.getMessage(), e);
        }
        try {
            if (r.hostNetwork() || r.netnsPath() == null) throw new BuildException("network " + mode + " gave no network namespace");
            String hosts = networks.service().hostsFile(containerId, hostname, null, List.of(), List.of());
            String resolv = networks.service().resolvConf(containerId, List.of(), List.of(), List.of());
            return new Sandbox(Path.of(r.netnsPath()), hosts, resolv);
        } catch (BuildException | RuntimeException e) {
            try {
                networks.service().detach(containerId);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    @Override
    public void detach(String containerId) {
        networks.service().detach(containerId);
    }
}
