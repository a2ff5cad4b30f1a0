package io.berth.cri;

import io.berth.container.ContainerRecord;
import io.berth.cri.v1.ContainerAttributes;
import io.berth.cri.v1.ContainerStats;
import io.berth.cri.v1.CpuUsage;
import io.berth.cri.v1.FilesystemIdentifier;
import io.berth.cri.v1.FilesystemUsage;
import io.berth.cri.v1.LinuxPodSandboxStats;
import io.berth.cri.v1.MemoryUsage;
import io.berth.cri.v1.NetworkInterfaceUsage;
import io.berth.cri.v1.NetworkUsage;
import io.berth.cri.v1.PodSandboxAttributes;
import io.berth.cri.v1.PodSandboxStats;
import io.berth.cri.v1.ProcessUsage;
import io.berth.cri.v1.UInt64Value;
import io.berth.engine.Engine;
import io.berth.engine.NetworkCounters;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CRI's statistics, read from the containers' cgroups (the counters `docker stats` reads),
 * their writable layers and the pod's network namespace. CPU use per second needs two readings:
 * the last one of each container is kept, and the first call tells the cumulative time only.
 */
final class PodStats {
    private final Engine engine;
    private final PodContainers containers;
    /** Per container: the last cumulative CPU time read (nanoseconds) and when (nanoseconds since the epoch). */
    private final Map<String, long[]> lastCpu = new ConcurrentHashMap<>();

    PodStats(Engine engine, PodContainers containers) {
        this.engine = engine;
        this.containers = containers;
    }

    ContainerStats of(ContainerRecord r) {
        long now = CriImages.nowNanos();
        ContainerStats.Builder b = ContainerStats.newBuilder().setAttributes(ContainerAttributes.newBuilder()
                .setId(r.id())
                .setMetadata(ContainerMessages.metadata(r))
                .putAllLabels(ContainerMessages.labels(r))
                .putAllAnnotations(r.settings().pod().annotations()));
        if (r.state().status().hasProcess()) {
            var s = engine.containers().stats().sample(r.id());
            CpuUsage.Builder cpu = CpuUsage.newBuilder().setTimestamp(now).setUsageCoreNanoSeconds(u64(s.cpuTotalNanos()));
            long[] before = lastCpu.put(r.id(), new long[] {s.cpuTotalNanos(), now});
            if (before != null && now > before[1] && s.cpuTotalNanos() >= before[0]) {
                cpu.setUsageNanoCores(u64((s.cpuTotalNanos() - before[0]) * 1_000_000_000L / (now - before[1])));
            }
            b.setCpu(cpu);
            // kubelet's working set: what the container uses less the page cache it could give back
            long inactive = s.memoryStat().getOrDefault(s.cgroupV2() ? "inactive_file" : "total_inactive_file", 0L);
            long workingSet = Math.max(0, s.memoryUsage() - inactive);
            MemoryUsage.Builder mem = MemoryUsage.newBuilder().setTimestamp(now)
                    .setWorkingSetBytes(u64(workingSet))
                    .setUsageBytes(u64(s.memoryUsage()))
                    .setRssBytes(u64(s.memoryStat().getOrDefault(s.cgroupV2() ? "anon" : "total_rss", 0L)))
                    .setPageFaults(u64(s.memoryStat().getOrDefault(s.cgroupV2() ? "pgfault" : "total_pgfault", 0L)))
                    .setMajorPageFaults(u64(s.memoryStat().getOrDefault(s.cgroupV2() ? "pgmajfault" : "total_pgmajfault", 0L)));
            if (s.memoryLimit() > 0) mem.setAvailableBytes(u64(Math.max(0, s.memoryLimit() - workingSet)));
            b.setMemory(mem);
        } else {
            lastCpu.remove(r.id());
        }
        b.setWritableLayer(FilesystemUsage.newBuilder().setTimestamp(now)
                .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(engine.settings().dataRoot().toString()))
                .setUsedBytes(u64(engine.containers().sizeRw(r))));
        return b.build();
    }

    /** The pod: the sums of its containers, its processes and the network of its namespace. */
    PodSandboxStats of(Pod pod) {
        long now = CriImages.nowNanos();
        LinuxPodSandboxStats.Builder linux = LinuxPodSandboxStats.newBuilder();
        long cpuNanos = 0;
        long nanoCores = 0;
        long workingSet = 0;
        long usage = 0;
        long rss = 0;
        long processes = 0;
        long anyPid = 0;
        List<ContainerRecord> members = containers.ofPod(pod.id());
        for (ContainerRecord r : members) {
            ContainerStats cs = of(r);
            linux.addContainers(cs);
            cpuNanos += cs.getCpu().getUsageCoreNanoSeconds().getValue();
            nanoCores += cs.getCpu().getUsageNanoCores().getValue();
            workingSet += cs.getMemory().getWorkingSetBytes().getValue();
            usage += cs.getMemory().getUsageBytes().getValue();
            rss += cs.getMemory().getRssBytes().getValue();
            if (r.state().status().hasProcess()) {
                processes += Math.max(0, engine.containers().stats().sample(r.id()).pidsCurrent());
                if (anyPid == 0) anyPid = r.state().pid();
            }
        }
        linux.setCpu(CpuUsage.newBuilder().setTimestamp(now).setUsageCoreNanoSeconds(u64(cpuNanos)).setUsageNanoCores(u64(nanoCores)));
        linux.setMemory(MemoryUsage.newBuilder().setTimestamp(now).setWorkingSetBytes(u64(workingSet)).setUsageBytes(u64(usage))
                .setRssBytes(u64(rss)));
        linux.setProcess(ProcessUsage.newBuilder().setTimestamp(now).setProcessCount(u64(processes)));
        // the counters of the pod's namespace, read through a process living in it
        if (!pod.hostNetwork() && anyPid > 0) {
            NetworkUsage.Builder net = NetworkUsage.newBuilder().setTimestamp(now);
            NetworkCounters.of(anyPid).forEach((name, c) -> {
                NetworkInterfaceUsage i = NetworkInterfaceUsage.newBuilder().setName(name)
                        .setRxBytes(u64(c.getOrDefault("rx_bytes", 0L))).setRxErrors(u64(c.getOrDefault("rx_errors", 0L)))
                        .setTxBytes(u64(c.getOrDefault("tx_bytes", 0L))).setTxErrors(u64(c.getOrDefault("tx_errors", 0L))).build();
                if (name.equals("eth0")) net.setDefaultInterface(i);
                net.addInterfaces(i);
            });
            linux.setNetwork(net);
        }
        return PodSandboxStats.newBuilder()
                .setAttributes(PodSandboxAttributes.newBuilder().setId(pod.id()).setMetadata(PodMessages.metadata(pod))
                        .putAllLabels(pod.labels()).putAllAnnotations(pod.annotations()))
                .setLinux(linux)
                .build();
    }

    private static UInt64Value u64(long v) {
        return UInt64Value.newBuilder().setValue(Math.max(0, v)).build();
    }
}
