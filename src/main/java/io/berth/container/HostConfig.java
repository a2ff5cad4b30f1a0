package io.berth.container;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a container is hosted: resources, security, mounts, restart policy, network mode.
 * Kept in Docker's own on-disk form (hostconfig.json, the same names as the API), with the
 * defaults dockerd fills in applied by {@link #withDefaults}.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record HostConfig(
        @JsonProperty("Binds") List<String> binds,
        @JsonProperty("ContainerIDFile") String containerIdFile,
        @JsonProperty("LogConfig") LogConfig logConfig,
        @JsonProperty("NetworkMode") String networkMode,
        @JsonProperty("PortBindings") Map<String, List<PortBinding>> portBindings,
        @JsonProperty("RestartPolicy") RestartPolicy restartPolicy,
        @JsonProperty("AutoRemove") Boolean autoRemove,
        @JsonProperty("VolumeDriver") String volumeDriver,
        @JsonProperty("VolumesFrom") List<String> volumesFrom,
        @JsonProperty("ConsoleSize") List<Integer> consoleSize,
        @JsonProperty("CapAdd") List<String> capAdd,
        @JsonProperty("CapDrop") List<String> capDrop,
        @JsonProperty("CgroupnsMode") String cgroupnsMode,
        @JsonProperty("Dns") List<String> dns,
        @JsonProperty("DnsOptions") List<String> dnsOptions,
        @JsonProperty("DnsSearch") List<String> dnsSearch,
        @JsonProperty("ExtraHosts") List<String> extraHosts,
        @JsonProperty("GroupAdd") List<String> groupAdd,
        @JsonProperty("IpcMode") String ipcMode,
        @JsonProperty("Cgroup") String cgroup,
        @JsonProperty("Links") List<String> links,
        @JsonProperty("OomScoreAdj") Integer oomScoreAdj,
        @JsonProperty("PidMode") String pidMode,
        @JsonProperty("Privileged") Boolean privileged,
        @JsonProperty("PublishAllPorts") Boolean publishAllPorts,
        @JsonProperty("ReadonlyRootfs") Boolean readonlyRootfs,
        @JsonProperty("SecurityOpt") List<String> securityOpt,
        @JsonProperty("Tmpfs") Map<String, String> tmpfs,
        @JsonProperty("UTSMode") String utsMode,
        @JsonProperty("UsernsMode") String usernsMode,
        @JsonProperty("ShmSize") Long shmSize,
        @JsonProperty("Sysctls") Map<String, String> sysctls,
        @JsonProperty("Runtime") String runtime,
        @JsonProperty("Isolation") String isolation,
        @JsonProperty("CpuShares") Long cpuShares,
        @JsonProperty("Memory") Long memory,
        @JsonProperty("NanoCpus") Long nanoCpus,
        @JsonProperty("CgroupParent") String cgroupParent,
        @JsonProperty("BlkioWeight") Integer blkioWeight,
        @JsonProperty("CpuPeriod") Long cpuPeriod,
        @JsonProperty("CpuQuota") Long cpuQuota,
        @JsonProperty("CpuRealtimePeriod") Long cpuRealtimePeriod,
        @JsonProperty("CpuRealtimeRuntime") Long cpuRealtimeRuntime,
        @JsonProperty("CpusetCpus") String cpusetCpus,
        @JsonProperty("CpusetMems") String cpusetMems,
        @JsonProperty("Devices") List<DeviceMapping> devices,
        @JsonProperty("DeviceCgroupRules") List<String> deviceCgroupRules,
        @JsonProperty("MemoryReservation") Long memoryReservation,
        @JsonProperty("MemorySwap") Long memorySwap,
        @JsonProperty("MemorySwappiness") Long memorySwappiness,
        @JsonProperty("OomKillDisable") Boolean oomKillDisable,
        @JsonProperty("PidsLimit") Long pidsLimit,
        @JsonProperty("Ulimits") List<Ulimit> ulimits,
        @JsonProperty("Init") Boolean init,
        @JsonProperty("Mounts") List<MountSpec> mounts,
        @JsonProperty("MaskedPaths") List<String> maskedPaths,
        @JsonProperty("ReadonlyPaths") List<String> readonlyPaths) {

    public record LogConfig(@JsonProperty("Type") String type, @JsonProperty("Config") Map<String, String> config) {}

    public record PortBinding(@JsonProperty("HostIp") String hostIp, @JsonProperty("HostPort") String hostPort) {}

    public record RestartPolicy(@JsonProperty("Name") String name, @JsonProperty("MaximumRetryCount") Integer maximumRetryCount) {
        public String nameOrNo() {
            return name == null || name.isEmpty() ? "no" : name;
        }

        public int retries() {
            return maximumRetryCount == null ? 0 : maximumRetryCount;
        }
    }

    public record DeviceMapping(@JsonProperty("PathOnHost") String pathOnHost, @JsonProperty("PathInContainer") String pathInContainer,
                                @JsonProperty("CgroupPermissions") String cgroupPermissions) {}

    public record Ulimit(@JsonProperty("Name") String name, @JsonProperty("Soft") Long soft, @JsonProperty("Hard") Long hard) {}

    /** A --mount: type bind, volume or tmpfs. */
    public record MountSpec(@JsonProperty("Type") String type, @JsonProperty("Source") String source, @JsonProperty("Target") String target,
                            @JsonProperty("ReadOnly") Boolean readOnly, @JsonProperty("BindOptions") Map<String, Object> bindOptions,
                            @JsonProperty("TmpfsOptions") TmpfsOptions tmpfsOptions) {}

    public record TmpfsOptions(@JsonProperty("SizeBytes") Long sizeBytes, @JsonProperty("Mode") Integer mode) {}

    /** An empty host config: what a create without HostConfig asks for. */
    public static HostConfig empty() {
        return new HostConfig(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** With dockerd's defaults where nothing was asked: what inspect shows. */
    public HostConfig withDefaults(String defaultRuntime) {
        String net = networkMode == null || networkMode.isEmpty() || networkMode.equals("default") ? "bridge" : networkMode;
        return new HostConfig(binds, or(containerIdFile, ""), logConfig == null || logConfig.type() == null || logConfig.type().isEmpty()
                        ? new LogConfig("json-file", Map.of()) : new LogConfig(logConfig.type(), nz(logConfig.config())),
                net, nz(portBindings), restartPolicy == null ? new RestartPolicy("no", 0)
                        : new RestartPolicy(restartPolicy.nameOrNo(), restartPolicy.retries()),
                or(autoRemove, false), or(volumeDriver, ""), volumesFrom, consoleSize == null ? List.of(0, 0) : consoleSize,
                capAdd, capDrop, or(cgroupnsMode, "host"), nz(dns), nz(dnsOptions), nz(dnsSearch), extraHosts, groupAdd,
                ipcMode == null || ipcMode.isEmpty() ? "private" : ipcMode, or(cgroup, ""), links, or(oomScoreAdj, 0),
                or(pidMode, ""), or(privileged, false), or(publishAllPorts, false), or(readonlyRootfs, false), securityOpt, tmpfs,
                or(utsMode, ""), or(usernsMode, ""), shmSize == null || shmSize == 0 ? 64L << 20 : shmSize, sysctls,
                runtime == null || runtime.isEmpty() ? defaultRuntime : runtime, or(isolation, ""), or(cpuShares, 0L), or(memory, 0L),
                or(nanoCpus, 0L), or(cgroupParent, ""), or(blkioWeight, 0), or(cpuPeriod, 0L), or(cpuQuota, 0L),
                or(cpuRealtimePeriod, 0L), or(cpuRealtimeRuntime, 0L), or(cpusetCpus, ""), or(cpusetMems, ""), nz(devices),
                deviceCgroupRules, or(memoryReservation, 0L), or(memorySwap, 0L), memorySwappiness, or(oomKillDisable, false),
                pidsLimit, ulimits, init, mounts, maskedPaths, readonlyPaths);
    }

    public RestartPolicy restart() {
        return restartPolicy == null ? new RestartPolicy("no", 0) : restartPolicy;
    }

    public boolean isAutoRemove() {
        return Boolean.TRUE.equals(autoRemove);
    }

    public boolean isPrivileged() {
        return Boolean.TRUE.equals(privileged);
    }

    public String network() {
        return networkMode == null || networkMode.isEmpty() || networkMode.equals("default") ? "bridge" : networkMode;
    }

    /** A copy with the resource fields of {@code u} that are set (docker update). */
    public HostConfig withResources(HostConfig u) {
        return new HostConfig(binds, containerIdFile, logConfig, networkMode, portBindings,
                u.restartPolicy != null ? u.restartPolicy : restartPolicy, autoRemove, volumeDriver, volumesFrom, consoleSize, capAdd,
                capDrop, cgroupnsMode, dns, dnsOptions, dnsSearch, extraHosts, groupAdd, ipcMode, cgroup, links, oomScoreAdj, pidMode,
                privileged, publishAllPorts, readonlyRootfs, securityOpt, tmpfs, utsMode, usernsMode, shmSize, sysctls, runtime, isolation,
                pick(u.cpuShares, cpuShares), pick(u.memory, memory), pick(u.nanoCpus, nanoCpus), cgroupParent,
                pick(u.blkioWeight, blkioWeight), pick(u.cpuPeriod, cpuPeriod), pick(u.cpuQuota, cpuQuota), cpuRealtimePeriod,
                cpuRealtimeRuntime, pickS(u.cpusetCpus, cpusetCpus), pickS(u.cpusetMems, cpusetMems), devices, deviceCgroupRules,
                pick(u.memoryReservation, memoryReservation), pick(u.memorySwap, memorySwap), memorySwappiness, oomKillDisable,
                pick(u.pidsLimit, pidsLimit), ulimits, init, mounts, maskedPaths, readonlyPaths);
    }

    public HostConfig withRuntime(String r) {
        return new HostConfig(binds, containerIdFile, logConfig, networkMode, portBindings, restartPolicy, autoRemove, volumeDriver,
                volumesFrom, consoleSize, capAdd, capDrop, cgroupnsMode, dns, dnsOptions, dnsSearch, extraHosts, groupAdd, ipcMode,
                cgroup, links, oomScoreAdj, pidMode, privileged, publishAllPorts, readonlyRootfs, securityOpt, tmpfs, utsMode,
                usernsMode, shmSize, sysctls, r, isolation, cpuShares, memory, nanoCpus, cgroupParent, blkioWeight, cpuPeriod,
                cpuQuota, cpuRealtimePeriod, cpuRealtimeRuntime, cpusetCpus, cpusetMems, devices, deviceCgroupRules, memoryReservation,
                memorySwap, memorySwappiness, oomKillDisable, pidsLimit, ulimits, init, mounts, maskedPaths, readonlyPaths);
    }

    public HostConfig withLinks(List<String> value) {
        return new HostConfig(binds, containerIdFile, logConfig, networkMode, portBindings, restartPolicy, autoRemove, volumeDriver,
                volumesFrom, consoleSize, capAdd, capDrop, cgroupnsMode, dns, dnsOptions, dnsSearch, extraHosts, groupAdd, ipcMode,
                cgroup, value, oomScoreAdj, pidMode, privileged, publishAllPorts, readonlyRootfs, securityOpt, tmpfs, utsMode,
                usernsMode, shmSize, sysctls, runtime, isolation, cpuShares, memory, nanoCpus, cgroupParent, blkioWeight, cpuPeriod,
                cpuQuota, cpuRealtimePeriod, cpuRealtimeRuntime, cpusetCpus, cpusetMems, devices, deviceCgroupRules, memoryReservation,
                memorySwap, memorySwappiness, oomKillDisable, pidsLimit, ulimits, init, mounts, maskedPaths, readonlyPaths);
    }

    public HostConfig withLogConfig(LogConfig l) {
        return new HostConfig(binds, containerIdFile, l, networkMode, portBindings, restartPolicy, autoRemove, volumeDriver,
                volumesFrom, consoleSize, capAdd, capDrop, cgroupnsMode, dns, dnsOptions, dnsSearch, extraHosts, groupAdd, ipcMode,
                cgroup, links, oomScoreAdj, pidMode, privileged, publishAllPorts, readonlyRootfs, securityOpt, tmpfs, utsMode,
                usernsMode, shmSize, sysctls, runtime, isolation, cpuShares, memory, nanoCpus, cgroupParent, blkioWeight, cpuPeriod,
                cpuQuota, cpuRealtimePeriod, cpuRealtimeRuntime, cpusetCpus, cpusetMems, devices, deviceCgroupRules, memoryReservation,
                memorySwap, memorySwappiness, oomKillDisable, pidsLimit, ulimits, init, mounts, maskedPaths, readonlyPaths);
    }

    private static <T> T pick(T update, T old) {
        if (update == null) return old;
        if (update instanceof Number n && n.longValue() == 0) return old;
        return update;
    }

    private static String pickS(String update, String old) {
        return update == null || update.isEmpty() ? old : update;
    }

    private static <T> T or(T v, T fallback) {
        return v == null ? fallback : v;
    }

    private static <T> List<T> nz(List<T> v) {
        return v == null ? new ArrayList<>() : v;
    }

    private static <K, V> Map<K, V> nz(Map<K, V> v) {
        return v == null ? new LinkedHashMap<>() : v;
    }
}
