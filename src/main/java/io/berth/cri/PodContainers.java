package io.berth.cri;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.ContainerSettings;
import io.berth.container.ContainerSettings.NamespaceMode;
import io.berth.container.ContainerStatus;
import io.berth.engine.ContainerService;
import io.berth.engine.Engine;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.KindedException;
import io.berth.image.ImageConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The containers of pods: made, started, stopped and removed by the engine's container box
 * (the same state machine, runtime and records as the Docker API's containers), from
 * {@link PodContainerSpec}s turned here into the engine's typed settings. A pod's container
 * joins the pod's pinned namespaces, sees the pod's resolv.conf, hostname and hosts, and
 * writes its log where kubelet asked; the Docker API does not list it.
 */
public final class PodContainers {
    /** Docker's default /dev/shm, which kubelet does not set. */
    private static final long SHM_SIZE = 64L << 20;

    private final Engine engine;
    private final Pods pods;

    public PodContainers(Engine engine, Pods pods) {
        this.engine = engine;
        this.pods = pods;
    }

    private ContainerService containers() {
        return engine.containers();
    }

    // ================================================================ create

    /** CreateContainer: the container made in its pod, not started. */
    public String create(PodContainerSpec spec) throws IOException {
        Pod pod = pods.get(spec.podId());
        if (pod.state() != Pod.State.READY) {
            throw new KindedException(ErrorKind.FAILED_PRECONDITION, "pod sandbox " + pod.id() + " is not ready");
        }
        String name = "k8s_" + spec.name() + "_" + pod.identity().name() + "_" + pod.identity().namespace() + "_"
                + pod.identity().uid() + "_" + spec.attempt();
        for (ContainerRecord r : inPods()) {
            ContainerSettings.PodMember m = r.settings().pod();
            if (m.podId().equals(pod.id()) && m.name().equals(spec.name()) && m.attempt() == spec.attempt()) {
                throw new KindedException(ErrorKind.ALREADY_EXISTS, "container " + spec.name() + " (attempt " + spec.attempt()
                        + ") already exists in pod " + pod.id() + " as " + r.id());
            }
        }
        ContainerSettings settings = settings(pod, spec);
        ImageConfig.ContainerConfig asked = config(pod, spec);
        try {
            return containers().create(new ContainerService.NewContainer(sanitize(name), asked, settings, Map.of())).id();
        } catch (ContainerException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) {
                throw new KindedException(ErrorKind.NOT_FOUND, "image \"" + spec.image() + "\" not found: pull it first");
            }
            throw e;
        }
    }

    /** Docker's name charset: kubelet's names are DNS labels, uids UUIDs; anything else becomes '_'. */
    private static String sanitize(String name) {
        return name.replaceAll("[^a-zA-Z0-9_.-]", "_");
    }

    /** The process as the pod's container runs it: command and args over the image's, env, user, terminal. */
    private static ImageConfig.ContainerConfig config(Pod pod, PodContainerSpec spec) {
        PodContainerSpec.Security sec = spec.security();
        String user = "";
        if (sec.runAsUser() != null) {
            user = Long.toString(sec.runAsUser()) + (sec.runAsGroup() != null ? ":" + sec.runAsGroup() : "");
        } else if (sec.runAsUsername() != null && !sec.runAsUsername().isEmpty()) {
            user = sec.runAsUsername() + (sec.runAsGroup() != null ? ":" + sec.runAsGroup() : "");
        }
        // kubelet's command is the image's entrypoint replaced, its args the image's cmd
        List<String> entrypoint = spec.command().isEmpty() ? null : spec.command();
        List<String> cmd = spec.args().isEmpty() ? null : spec.args();
        Map<String, String> labels = new java.util.LinkedHashMap<>(spec.labels());
        String hostname = pod.hostNetwork() || pod.hostname().isEmpty() ? io.berth.sys.HostInfo.hostname() : pod.hostname();
        return new ImageConfig.ContainerConfig(hostname, "", user, spec.stdin(), true, true, null, spec.tty(), spec.stdin(),
                spec.stdinOnce(), spec.env(), cmd, null, null, spec.image(), null, spec.workingDir(), entrypoint, null, labels, null,
                null, null);
    }

    /** How the container is hosted: in its pod's namespaces and cgroup, confined as its security context says. */
    private ContainerSettings settings(Pod pod, PodContainerSpec spec) throws IOException {
        PodContainerSpec.Resources r = spec.resources();
        ContainerSettings.Resources resources = new ContainerSettings.Resources(r.cpuShares(), 0, r.cpuPeriod(), r.cpuQuota(), 0, 0,
                nz(r.cpusetCpus()), nz(r.cpusetMems()), r.memoryLimit(), 0, r.memoryLimit() > 0 ? r.memoryLimit() : 0, null, false,
                null, 0, pod.cgroupParent(), List.of());
        PodContainerSpec.Security s = spec.security();
        ContainerSettings.Seccomp seccomp = switch (s.seccomp()) {
            case PodContainerSpec.Seccomp.RuntimeDefault d -> new ContainerSettings.Seccomp.Default();
            case PodContainerSpec.Seccomp.Unconfined u -> new ContainerSettings.Seccomp.Unconfined();
            case PodContainerSpec.Seccomp.Localhost l -> new ContainerSettings.Seccomp.Custom(readProfile(l.file()));
        };
        ContainerSettings.Security security = new ContainerSettings.Security(s.privileged(), caps(s.capAdd()), caps(s.capDrop()),
                s.noNewPrivileges(), seccomp, null, List.of(), s.readOnlyRootfs(),
                s.maskedPaths().isEmpty() ? null : s.maskedPaths(), s.readonlyPaths().isEmpty() ? null : s.readonlyPaths(),
                s.supplementalGroups().stream().map(String::valueOf).toList(), List.of(), s.strictGroups());
        NamespaceMode ipc = pod.namespaces().ipc() == Pod.Mode.NODE ? NamespaceMode.HOST
                : new NamespaceMode.Path(pods.ipcNamespace(pod.id()).toString());
        NamespaceMode uts = pod.hostNetwork() ? NamespaceMode.HOST : new NamespaceMode.Path(pods.utsNamespace(pod.id()).toString());
        ContainerSettings.Namespaces namespaces = new ContainerSettings.Namespaces(ipc, pidMode(pod, s), uts, NamespaceMode.DEFAULT,
                NamespaceMode.DEFAULT);
        String network = pod.hostNetwork() ? "host" : "ns:" + pod.netns();
        ContainerSettings.Networking networking = new ContainerSettings.Networking(network, Map.of(), false, List.of(), List.of(),
                List.of(), List.of(), List.of());
        List<String> binds = new ArrayList<>();
        List<ContainerSettings.MountRequest> recursiveReadOnly = new ArrayList<>();
        for (PodContainerSpec.MountSpec m : spec.mounts()) {
            if (m.recursiveReadOnly()) {
                // Docker's --mount form carries it (BindOptions.ReadOnlyForceRecursive); -v's cannot
                recursiveReadOnly.add(new ContainerSettings.MountRequest("bind", m.hostPath(), m.containerPath(), true,
                        Map.of("Propagation", "rprivate", "ReadOnlyForceRecursive", true), null));
                continue;
            }
            String options = (m.readOnly() ? "ro" : "rw") + "," + switch (m.propagation()) {
                case PRIVATE -> "rprivate";
                case HOST_TO_CONTAINER -> "rslave";
                case BIDIRECTIONAL -> "rshared";
            };
            binds.add(m.hostPath() + ":" + m.containerPath() + ":" + options);
        }
        ContainerSettings.Mounts mounts = new ContainerSettings.Mounts(binds, List.of(), Map.of(), recursiveReadOnly);
        ContainerSettings.Process process = new ContainerSettings.Process(null, SHM_SIZE, oomScoreAdj(r.oomScoreAdj()), 0, 0, Map.of());
        List<ContainerSettings.Device> devices = spec.devices().stream()
                .map(d -> new ContainerSettings.Device(d.hostPath(), d.containerPath(), d.permissions()))
                .toList();
        ContainerSettings settings = new ContainerSettings(resources, security, namespaces, networking, mounts,
                ContainerSettings.RestartPolicy.NO, false, new ContainerSettings.LogSettings("json-file", Map.of()), process, devices,
                List.of(), engine.settings().runtimes().defaultRuntime(), new ContainerSettings.DockerOnly("", "", "", ""), null);
        io.berth.container.CreateChecks.check(settings);
        io.berth.container.CreateChecks.checkResources(settings.resources());
        return settings.inPod(new ContainerSettings.PodMember(pod.id(), spec.name(), spec.attempt(), spec.annotations(), spec.logPath(),
                pods.dir(pod.id()).toString()));
    }

    /**
     * The PID namespace: the container's own, the host's, a target container's, or the pod's,
     * which its init holds (see {@link PodPidNamespace}).
     */
    private NamespaceMode pidMode(Pod pod, PodContainerSpec.Security s) {
        return switch (s.pidMode()) {
            case NODE -> NamespaceMode.HOST;
            case TARGET -> {
                ContainerRecord target = find(s.pidTarget())
                        .orElseThrow(() -> new KindedException(ErrorKind.NOT_FOUND, "target container " + s.pidTarget() + " not found"));
                yield new NamespaceMode.Container(target.id());
            }
            case POD -> pods.pidNamespace(pod.id()).<NamespaceMode>map(f -> new NamespaceMode.Path(f.toString())).orElseGet(() -> inPods().stream()
                    .filter(r -> r.settings().pod().podId().equals(pod.id()) && r.state().status() == ContainerStatus.RUNNING)
                    .findFirst()
                    .<NamespaceMode>map(r -> new NamespaceMode.Container(r.id()))
                    .orElse(NamespaceMode.PRIVATE)); // a pod made before pods had a PID init
            case CONTAINER -> NamespaceMode.PRIVATE;
        };
    }

    /** kubelet writes capabilities without the CAP_ prefix (and ALL); Docker's form has it. */
    private static List<String> caps(List<String> names) {
        return names.stream().map(c -> c.equalsIgnoreCase("ALL") || c.startsWith("CAP_") ? c : "CAP_" + c).toList();
    }

    /**
     * kubelet asks -997 for a Guaranteed pod; lowering the score below berthd's own needs
     * CAP_SYS_RESOURCE, which some hosts (this one) do not give: it is clamped to berthd's.
     */
    static int oomScoreAdj(long asked) {
        int own = 0;
        try {
            own = Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj")).trim());
        } catch (IOException | NumberFormatException e) {
            // 0, the usual
        }
        return (int) Math.max(Math.max(asked, own), -1000);
    }

    private static String readProfile(String file) throws IOException {
        try {
            return Files.readString(Path.of(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new KindedException(ErrorKind.NOT_FOUND, "seccomp profile " + file + " not found");
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    // ================================================================ start, stop, remove

    public void start(String id) throws IOException {
        ContainerRecord r = get(id);
        Pod pod = pods.get(r.settings().pod().podId());
        if (pod.state() != Pod.State.READY) {
            throw new KindedException(ErrorKind.FAILED_PRECONDITION, "pod sandbox " + pod.id() + " is not ready");
        }
        if (r.state().status() != ContainerStatus.CREATED) {
            throw new KindedException(ErrorKind.FAILED_PRECONDITION, "container " + r.id() + " is " + r.state().status().word()
                    + ", not created: it can only be started once");
        }
        containers().lifecycle().start(r.id());
    }

    /** StopContainer: the stop signal, SIGKILL after {@code timeoutSeconds}; a stopped or missing container is fine. */
    public void stop(String id, long timeoutSeconds) throws IOException, InterruptedException {
        Optional<ContainerRecord> r = find(id);
        if (r.isEmpty() || !r.get().state().status().hasProcess()) return;
        try {
            containers().lifecycle().stop(r.get().id(), (int) Math.min(Math.max(timeoutSeconds, 0), Integer.MAX_VALUE), null);
        } catch (ContainerException e) {
            if (e.kind() != ErrorKind.NOT_MODIFIED && e.kind() != ErrorKind.NOT_FOUND) throw e;
        }
    }

    /** RemoveContainer: killed if it runs, then removed with its writable layer; a missing container is fine. */
    public void remove(String id) throws IOException, InterruptedException {
        Optional<ContainerRecord> r = find(id);
        if (r.isEmpty()) return;
        try {
            containers().remove(r.get().id(), true, false);
        } catch (ContainerException e) {
            if (e.kind() != ErrorKind.NOT_FOUND) throw e;
        }
    }

    /** Every container of the pod, stopped at once (StopPodSandbox) or removed (RemovePodSandbox). */
    public void stopAll(String podId) throws IOException, InterruptedException {
        for (ContainerRecord r : ofPod(podId)) stop(r.id(), 0);
    }

    public void removeAll(String podId) throws IOException, InterruptedException {
        for (ContainerRecord r : ofPod(podId)) remove(r.id());
    }

    /**
     * UpdateContainerResources: new CPU and memory limits, written into the running container's
     * cgroup and kept for its next start (the engine's `docker update`). Zero leaves a value as it is.
     */
    public void updateResources(String id, PodContainerSpec.Resources r) throws IOException {
        ContainerRecord c = get(id);
        Map<String, Object> changes = new java.util.LinkedHashMap<>();
        if (r.cpuShares() > 0) changes.put("CpuShares", r.cpuShares());
        if (r.cpuPeriod() > 0) changes.put("CpuPeriod", r.cpuPeriod());
        if (r.cpuQuota() != 0) changes.put("CpuQuota", r.cpuQuota());
        if (r.memoryLimit() > 0) {
            changes.put("Memory", r.memoryLimit());
            changes.put("MemorySwap", r.memorySwapLimit() > 0 ? r.memorySwapLimit() : r.memoryLimit()); // no swap, as kubelet asks
        }
        if (r.cpusetCpus() != null && !r.cpusetCpus().isEmpty()) changes.put("CpusetCpus", r.cpusetCpus());
        if (r.cpusetMems() != null && !r.cpusetMems().isEmpty()) changes.put("CpusetMems", r.cpusetMems());
        if (changes.isEmpty()) return;
        engine.containers().stats().update(c.id(), DOCKER_JSON.convertValue(changes, io.berth.container.HostConfig.class));
    }

    private static final tools.jackson.databind.json.JsonMapper DOCKER_JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    public void reopenLog(String id) throws IOException {
        containers().lifecycle().reopenLog(get(id).id());
    }

    // ================================================================ lookups

    /** The pod containers, in creation order. */
    public List<ContainerRecord> inPods() {
        return containers().store().list().stream()
                .map(Container::record)
                .filter(r -> r.settings().inPod())
                .sorted(java.util.Comparator.comparing(ContainerRecord::created))
                .toList();
    }

    public List<ContainerRecord> ofPod(String podId) {
        return inPods().stream().filter(r -> r.settings().pod().podId().equals(podId)).toList();
    }

    /** A pod container by ID or unique ID prefix. */
    public Optional<ContainerRecord> find(String idOrPrefix) {
        if (idOrPrefix == null || idOrPrefix.isEmpty()) return Optional.empty();
        List<ContainerRecord> hits = inPods().stream().filter(r -> r.id().startsWith(idOrPrefix)).toList();
        if (hits.size() > 1) {
            Optional<ContainerRecord> exact = hits.stream().filter(r -> r.id().equals(idOrPrefix)).findFirst();
            if (exact.isPresent()) return exact;
            throw new KindedException(ErrorKind.INVALID_ARGUMENT, "container ID prefix " + idOrPrefix + " is ambiguous");
        }
        return hits.stream().findFirst();
    }

    public ContainerRecord get(String idOrPrefix) {
        return find(idOrPrefix).orElseThrow(() -> new KindedException(ErrorKind.NOT_FOUND, "container " + idOrPrefix + " not found"));
    }
}
