package io.berth.cri;

import java.util.List;
import java.util.Map;

/**
 * What CreateContainer asks for a container in a pod, in Berth's terms: the CRI layer maps
 * its messages into this once, and the engine is asked from this, never from the messages.
 *
 * @param command replaces the image's entrypoint when not empty
 * @param args replaces the image's command when not empty
 * @param logPath the absolute path of the CRI log (the pod's log directory + the container's log path), or "" for none
 */
public record PodContainerSpec(
        String podId,
        String name,
        int attempt,
        String image,
        List<String> command,
        List<String> args,
        String workingDir,
        List<String> env,
        List<MountSpec> mounts,
        List<DeviceSpec> devices,
        Map<String, String> labels,
        Map<String, String> annotations,
        String logPath,
        boolean stdin,
        boolean stdinOnce,
        boolean tty,
        Resources resources,
        Security security) {

    public PodContainerSpec {
        command = List.copyOf(command);
        args = List.copyOf(args);
        env = List.copyOf(env);
        mounts = List.copyOf(mounts);
        devices = List.copyOf(devices);
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
    }

    /** A host path mounted into the container. */
    public record MountSpec(String containerPath, String hostPath, boolean readOnly, Propagation propagation, boolean recursiveReadOnly) {}

    public enum Propagation { PRIVATE, HOST_TO_CONTAINER, BIDIRECTIONAL }

    /** A host device made available in the container, with cgroup permissions (r, w, m). */
    public record DeviceSpec(String containerPath, String hostPath, String permissions) {}

    /** Zero means "not asked" for every number, as the CRI sends them. */
    public record Resources(long cpuPeriod, long cpuQuota, long cpuShares, long memoryLimit, long memorySwapLimit, long oomScoreAdj,
                            String cpusetCpus, String cpusetMems) {}

    /** How the container's process is confined. */
    public record Security(
            boolean privileged,
            List<String> capAdd,
            List<String> capDrop,
            Long runAsUser,
            Long runAsGroup,
            String runAsUsername,
            List<Long> supplementalGroups,
            boolean strictGroups,
            boolean readOnlyRootfs,
            boolean noNewPrivileges,
            List<String> maskedPaths,
            List<String> readonlyPaths,
            Seccomp seccomp,
            Pod.Mode pidMode,
            String pidTarget) {

        public Security {
            capAdd = List.copyOf(capAdd);
            capDrop = List.copyOf(capDrop);
            supplementalGroups = List.copyOf(supplementalGroups);
            maskedPaths = List.copyOf(maskedPaths);
            readonlyPaths = List.copyOf(readonlyPaths);
        }
    }

    /** The seccomp profile: the runtime's default, none, or a JSON file on the node. */
    public sealed interface Seccomp {
        record RuntimeDefault() implements Seccomp {}

        record Unconfined() implements Seccomp {}

        record Localhost(String file) implements Seccomp {}
    }
}
