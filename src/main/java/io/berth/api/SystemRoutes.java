package io.berth.api;

import io.berth.BuildInfo;
import io.berth.engine.Engine;
import io.berth.engine.SystemFacts;
import io.berth.runtime.OciRuntimes;
import io.berth.sys.HostInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** /_ping, /version and /info: what a client asks before anything else. */
final class SystemRoutes {
    private final Engine engine;

    SystemRoutes(Engine engine) {
        this.engine = engine;
    }

    void register(Router router) {
        router.add("GET", "/_ping", this::ping);
        router.add("HEAD", "/_ping", this::ping);
        router.add("GET", "/version", this::version);
        router.add("GET", "/info", this::info);
    }

    private void ping(ApiCall call) throws IOException {
        var ex = call.exchange();
        ex.setHeader("Builder-Version", "1");
        ex.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
        ex.setHeader("Pragma", "no-cache");
        ex.setHeader("Swarm", "inactive");
        ex.send(200, "text/plain; charset=utf-8", "OK".getBytes(StandardCharsets.US_ASCII));
    }

    private void version(ApiCall call) throws IOException {
        String kernel = HostInfo.kernelVersion();
        String javaVersion = "java" + Runtime.version().feature() + "." + Runtime.version().interim() + "." + Runtime.version().update();
        Map<String, Object> engineDetails = new LinkedHashMap<>();
        engineDetails.put("ApiVersion", ApiVersion.CURRENT.toString());
        engineDetails.put("Arch", HostInfo.goArch());
        engineDetails.put("BuildTime", "");
        engineDetails.put("Experimental", "false");
        engineDetails.put("GitCommit", "");
        engineDetails.put("GoVersion", javaVersion);
        engineDetails.put("KernelVersion", kernel);
        engineDetails.put("MinAPIVersion", ApiVersion.MINIMUM.toString());
        engineDetails.put("Os", "linux");

        List<Map<String, Object>> components = new ArrayList<>();
        components.add(component("Engine", BuildInfo.ENGINE_VERSION, engineDetails));
        OciRuntimes runtimes = engine.settings().runtimes();
        runtimes.available().forEach((name, path) -> components.add(component(
                name, OciRuntimes.version(path).orElse(""), Map.of("GitCommit", OciRuntimes.commit(path).orElse("")))));

        Map<String, Object> v = new LinkedHashMap<>();
        v.put("Platform", Map.of("Name", "Berth Engine"));
        v.put("Components", components);
        v.put("Version", BuildInfo.ENGINE_VERSION);
        v.put("ApiVersion", ApiVersion.CURRENT.toString());
        v.put("MinAPIVersion", ApiVersion.MINIMUM.toString());
        v.put("GitCommit", "");
        v.put("GoVersion", javaVersion);
        v.put("Os", "linux");
        v.put("Arch", HostInfo.goArch());
        v.put("KernelVersion", kernel);
        v.put("BuildTime", "");
        call.json(200, v);
    }

    private static Map<String, Object> component(String name, String version, Map<String, ?> details) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("Name", name);
        c.put("Version", version);
        c.put("Details", details);
        return c;
    }

    private void info(ApiCall call) throws IOException {
        SystemFacts f = engine.systemFacts();
        Map<String, Object> i = new LinkedHashMap<>();
        i.put("ID", f.daemonId());
        i.put("Containers", f.containers());
        i.put("ContainersRunning", f.containersRunning());
        i.put("ContainersPaused", f.containersPaused());
        i.put("ContainersStopped", f.containersStopped());
        i.put("Images", f.images());
        i.put("Driver", "overlay2");
        i.put("DriverStatus", List.of(
                List.of("Backing Filesystem", f.backingFilesystem()),
                List.of("Supports d_type", "true"),
                List.of("Native Overlay Diff", "true"),
                List.of("userxattr", "false")));
        i.put("Plugins", Map.of(
                "Volume", List.of("local"),
                "Network", List.of("bridge", "host", "null"),
                "Authorization", List.of(),
                "Log", List.of("json-file")));
        f.cgroupFeatures().forEach(i::put);
        i.put("IPv4Forwarding", f.ipv4Forwarding());
        i.put("BridgeNfIptables", f.bridgeNfIptables());
        i.put("BridgeNfIp6tables", f.bridgeNfIp6tables());
        i.put("Debug", f.debug());
        i.put("NFd", f.fileDescriptors());
        i.put("NGoroutines", f.threads());
        i.put("SystemTime", Instant.now().toString());
        i.put("LoggingDriver", "json-file");
        i.put("CgroupDriver", "cgroupfs");
        i.put("CgroupVersion", Integer.toString(f.cgroups().version()));
        i.put("NEventsListener", f.eventListeners());
        i.put("KernelVersion", f.kernelVersion());
        i.put("OperatingSystem", f.operatingSystem());
        i.put("OSVersion", f.osVersion());
        i.put("OSType", "linux");
        i.put("Architecture", f.architecture());
        i.put("IndexServerAddress", "https://index.docker.io/v1/");
        i.put("RegistryConfig", registryConfig(f));
        i.put("NCPU", f.ncpu());
        i.put("MemTotal", f.memTotal());
        i.put("GenericResources", null);
        i.put("DockerRootDir", f.dataRoot().toString());
        i.put("HttpProxy", env("HTTP_PROXY"));
        i.put("HttpsProxy", env("HTTPS_PROXY"));
        i.put("NoProxy", env("NO_PROXY"));
        i.put("Name", f.name());
        i.put("Labels", f.labels());
        i.put("ExperimentalBuild", false);
        i.put("ServerVersion", BuildInfo.ENGINE_VERSION);
        Map<String, Object> runtimes = new LinkedHashMap<>();
        f.runtimes().available().forEach((name, path) -> runtimes.put(name, Map.of("path", path.toString())));
        i.put("Runtimes", runtimes);
        i.put("DefaultRuntime", f.runtimes().defaultRuntime());
        Map<String, Object> swarm = new LinkedHashMap<>();
        swarm.put("NodeID", "");
        swarm.put("NodeAddr", "");
        swarm.put("LocalNodeState", "inactive");
        swarm.put("ControlAvailable", false);
        swarm.put("Error", "");
        swarm.put("RemoteManagers", null);
        i.put("Swarm", swarm);
        // Containers outlive the daemon by design: conmon holds them, not berthd.
        i.put("LiveRestoreEnabled", true);
        i.put("Isolation", "");
        i.put("InitBinary", f.initBinary().isEmpty() ? "" : Path.of(f.initBinary()).getFileName().toString());
        i.put("ContainerdCommit", Map.of("ID", "", "Expected", ""));
        Path defaultRuntimePath = f.runtimes().available().get(f.runtimes().defaultRuntime());
        String runtimeCommit = defaultRuntimePath == null ? "" : OciRuntimes.commit(defaultRuntimePath).orElse("");
        i.put("RuncCommit", Map.of("ID", runtimeCommit, "Expected", runtimeCommit));
        i.put("InitCommit", Map.of("ID", "", "Expected", ""));
        i.put("SecurityOptions", f.securityOptions());
        i.put("Warnings", f.warnings());
        call.json(200, i);
    }

    private static Map<String, Object> registryConfig(SystemFacts f) {
        List<String> insecureCidrs = new ArrayList<>(List.of("127.0.0.0/8"));
        Map<String, Object> indexConfigs = new LinkedHashMap<>();
        for (String registry : f.insecureRegistries()) {
            if (registry.contains("/")) insecureCidrs.add(registry);
            else indexConfigs.put(registry, Map.of("Name", registry, "Mirrors", List.of(), "Secure", false, "Official", false));
        }
        indexConfigs.put("docker.io", Map.of("Name", "docker.io", "Mirrors", f.registryMirrors(), "Secure", true, "Official", true));
        Map<String, Object> rc = new LinkedHashMap<>();
        rc.put("AllowNondistributableArtifactsCIDRs", List.of());
        rc.put("AllowNondistributableArtifactsHostnames", List.of());
        rc.put("InsecureRegistryCIDRs", insecureCidrs);
        rc.put("IndexConfigs", indexConfigs);
        rc.put("Mirrors", f.registryMirrors());
        return rc;
    }

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null) v = System.getenv(name.toLowerCase(java.util.Locale.ROOT));
        return v == null ? "" : v;
    }
}
