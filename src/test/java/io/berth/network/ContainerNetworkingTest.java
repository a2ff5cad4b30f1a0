package io.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.sys.NetNamespaces;
import io.berth.testing.HostNet;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * Real namespaces, veths, bridges, iptables rules and IPAM leases through the CNI plugins
 * (root). Every test checks the host is left as it was; cleanup runs even on failure.
 */
class ContainerNetworkingTest {
    private Path root;
    private NetworkService service;
    private String defaultBridge;
    private final List<String> containers = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private Set<String> linksBefore;
    private Set<String> rulesBefore;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("berth-net-");
        defaultBridge = "bt" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        linksBefore = HostNet.links();
        rulesBefore = HostNet.iptables();
        service = newService();
    }

    private NetworkService newService() {
        return new NetworkService(NetworkService.Options.defaults(root.resolve("data"), root.resolve("run"))
                .withAddressPools(List.of(new NetworkService.AddressPool("10.198.0.0/16", 24)))
                .withDefaultBridge(defaultBridge, "10.197.0.0/24")
                .withDnsUpstream(List::of));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor();
        }
        if (service != null) {
            for (String c : containers) {
                try {
                    service.detach(c);
                } catch (RuntimeException e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
            for (Network n : service.list()) {
                if (n.isPredefined()) continue;
                try {
                    service.remove(n.id(), id -> false);
                } catch (RuntimeException e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
            service.close();
        }
        for (String c : containers) {
            try {
                IptablesSweep.removeTagged(null, c);
            } catch (Exception e) {
                System.err.println("cleanup: " + e.getMessage());
            }
        }
        try {
            if (service != null) service.removeDefaultBridge(); // its rules; the link goes below in any case
        } catch (Exception e) {
            System.err.println("cleanup: " + e.getMessage());
        }
        HostNet.run("ip", "link", "del", defaultBridge);
        for (String m : HostNet.mountsUnder(root).reversed()) HostNet.run("umount", "-l", m);
        if (Files.exists(root)) {
            try (var walk = Files.walk(root)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private String newContainerId() {
        byte[] b = new byte[32];
        ThreadLocalRandom.current().nextBytes(b);
        String id = HexFormat.of().formatHex(b);
        containers.add(id);
        return id;
    }

    private void assertHostClean(Network... removed) {
        assertThat(HostNet.mountsUnder(root)).as("pinned namespaces").isEmpty();
        assertThat(service.netnsDirectory().toFile().list()).as("namespace files").satisfiesAnyOf(
                l -> assertThat(l).isNull(), l -> assertThat(l).isEmpty());
        assertThat(HostNet.leases(service.ipamDirectory())).as("IPAM leases").isEmpty();
        Set<String> links = HostNet.links();
        links.removeAll(linksBefore);
        for (Network n : service.list()) links.remove(n.bridgeName());
        assertThat(links).as("links left").isEmpty();
        for (Network n : removed) assertThat(HostLinks.exists(n.bridgeName())).as("bridge of " + n.name()).isFalse();
        assertThat(HostNet.leakedRules(rulesBefore)).as("iptables rules left").isEmpty();
        assertThat(root.resolve("data/network/attachments").toFile().list()).as("attachment records")
                .satisfiesAnyOf(l -> assertThat(l).isNull(), l -> assertThat(l).isEmpty());
    }

    @Test
    void twoContainersPingResolveAndPublishAPort() throws Exception {
        Network net = service.create(NetworkSpec.named("app"));
        String a = newContainerId();
        String b = newContainerId();
        long t0 = System.nanoTime();
        AttachResult ra = service.attach(new AttachRequest(a, "/web", List.of(Attachment.to("app").withAliases("frontend")),
                List.of(PortBinding.of("127.0.0.1", 0, 80, "tcp")), List.of()));
        long t1 = System.nanoTime();
        AttachResult rb = service.attach(AttachRequest.of(b, "client", Attachment.to("app")));

        Endpoint ea = ra.endpoint("app");
        Endpoint eb = rb.endpoint("app");
        assertThat(ea.ifName()).isEqualTo("eth0");
        assertThat(ea.gateway()).isEqualTo(net.gateway());
        assertThat(net.subnet().contains(Ipv4.parse(ea.ipAddress()))).isTrue();
        assertThat(ea.prefixLen()).isEqualTo(24);
        assertThat(ea.macAddress()).matches("([0-9a-f]{2}:){5}[0-9a-f]{2}");
        assertThat(ea.dnsNames()).containsExactly("web", "frontend", a.substring(0, 12));
        assertThat(ra.netnsPath()).isEqualTo(service.netnsDirectory().resolve(a).toString());
        assertThat(NetNamespaces.isPinned(Path.of(ra.netnsPath()))).isTrue();

        // inside: eth0 with the address, lo up, default route through the gateway
        assertThat(HostNet.inNs(ra.netnsPath(), "ip", "-o", "-4", "addr", "show", "eth0").out()).contains(ea.ipAddress() + "/24");
        assertThat(HostNet.inNs(ra.netnsPath(), "ip", "link", "show", "lo").out()).contains("UP");
        assertThat(HostNet.inNs(ra.netnsPath(), "ip", "route").out()).contains("default via " + net.gateway());

        // ping both ways by address
        assertThat(HostNet.inNs(ra.netnsPath(), "busybox", "ping", "-c1", "-W2", eb.ipAddress()).exit()).isZero();
        assertThat(HostNet.inNs(rb.netnsPath(), "busybox", "ping", "-c1", "-W2", ea.ipAddress()).exit()).isZero();

        // names through the embedded DNS at the gateway
        HostNet.Result byName = HostNet.inNs(rb.netnsPath(), "busybox", "nslookup", "web", net.gateway());
        assertThat(byName.out()).contains(ea.ipAddress());
        assertThat(HostNet.inNs(rb.netnsPath(), "busybox", "nslookup", "frontend", net.gateway()).out()).contains(ea.ipAddress());
        assertThat(HostNet.inNs(ra.netnsPath(), "busybox", "nslookup", "client", net.gateway()).out()).contains(eb.ipAddress());
        assertThat(HostNet.inNs(ra.netnsPath(), "busybox", "nslookup", "client.app", net.gateway()).out()).contains(eb.ipAddress());
        assertThat(HostNet.inNs(ra.netnsPath(), "busybox", "nslookup", b.substring(0, 12), net.gateway()).out()).contains(eb.ipAddress());
        long q0 = System.nanoTime();
        HostNet.Result unknown = HostNet.inNs(ra.netnsPath(), "busybox", "nslookup", "nosuchname.invalid", net.gateway());
        assertThat(unknown.exit()).isNotZero();
        assertThat(Duration.ofNanos(System.nanoTime() - q0)).isLessThan(Duration.ofSeconds(3));
        // the same with a real DNS client over UDP and TCP, from inside the client's namespace
        // (the embedded DNS answers its network's containers only, as dockerd's is reachable from them only)
        HostNet.inNetns(rb.netnsPath(), () -> {
            SimpleResolver r = new SimpleResolver(new InetSocketAddress(InetAddress.getByName(net.gateway()), 53));
            r.setTimeout(Duration.ofSeconds(2));
            Message m = r.send(Message.newQuery(Record.newRecord(Name.fromString("web."), Type.A, 1)));
            assertThat(m.getRcode()).isEqualTo(Rcode.NOERROR);
            assertThat(m.getSection(Section.ANSWER)).extracting(x -> x.rdataToString()).containsExactly(ea.ipAddress());
            r.setTCP(true);
            m = r.send(Message.newQuery(Record.newRecord(Name.fromString("client."), Type.A, 1)));
            assertThat(m.getSection(Section.ANSWER)).extracting(x -> x.rdataToString()).containsExactly(eb.ipAddress());
            m = r.send(Message.newQuery(Record.newRecord(Name.fromString("nosuch.example."), Type.A, 1)));
            assertThat(m.getRcode()).isIn(Rcode.SERVFAIL, Rcode.NXDOMAIN);
            return null;
        });

        // the files a container gets
        assertThat(service.resolvConf(a, List.of(), List.of(), List.of())).startsWith("nameserver " + net.gateway() + "\n");
        assertThat(service.hostsFile(a, a.substring(0, 12), null, List.of(EtcFiles.ExtraHost.parse("gw:host-gateway")), List.of()))
                .contains("10.197.0.1\tgw\n").endsWith(ea.ipAddress() + "\t" + a.substring(0, 12) + "\n");

        // a published port on 127.0.0.1 reaches busybox httpd in the namespace
        PortBinding published = ra.ports().getFirst();
        assertThat(published.hostPort()).isPositive();
        Path www = Files.createDirectories(root.resolve("www"));
        Files.writeString(www.resolve("hello.txt"), "hello from the namespace\n");
        processes.add(new ProcessBuilder("nsenter", "--net=" + ra.netnsPath(), "busybox", "httpd", "-f", "-p", "80", "-h", www.toString())
                .redirectErrorStream(true).start());
        String url = "http://127.0.0.1:" + published.hostPort() + "/hello.txt";
        HostNet.Result curl = null;
        for (int i = 0; i < 50; i++) {
            curl = HostNet.run("curl", "-sS", "--max-time", "2", url);
            if (curl.exit() == 0) break;
            Thread.sleep(100);
        }
        assertThat(curl.out()).isEqualTo("hello from the namespace\n");
        // and from the other container through the bridge
        assertThat(HostNet.inNs(rb.netnsPath(), "busybox", "wget", "-q", "-O", "-", "http://" + ea.ipAddress() + "/hello.txt").out())
                .isEqualTo("hello from the namespace\n");

        // a port taken by a container is refused to the next
        String c = newContainerId();
        assertThatThrownBy(() -> service.attach(new AttachRequest(c, "c", List.of(Attachment.to("app")),
                List.of(PortBinding.of("127.0.0.1", published.hostPort(), 80, "tcp")), List.of())))
                .hasMessageContaining("port is already allocated");
        assertThat(service.attachment(c)).isEmpty();

        long t2 = System.nanoTime();
        service.detach(a);
        long t3 = System.nanoTime();
        System.out.printf("attach of one namespace (with a published port): %.1f ms, detach: %.1f ms%n",
                (t1 - t0) / 1e6, (t3 - t2) / 1e6);
        service.detach(b);
        service.detach(a); // idempotent
        assertThatThrownBy(() -> service.remove("bridge", id -> false)).isInstanceOf(NetworkException.class);
        service.remove("app", id -> false);
        assertHostClean(net);
        assertThat(root.resolve("data/network/ipam/" + CniConfigs.cniName(net))).doesNotExist();
    }

    @Test
    void internalNetworkHasNoDefaultRouteNorMasquerade() {
        Network internal = service.create(NetworkSpec.named("secret").withInternal(true));
        Network open = service.create(NetworkSpec.named("open"));
        String a = newContainerId();
        AttachResult r = service.attach(AttachRequest.of(a, "x", Attachment.to("secret"), Attachment.to("open")));
        assertThat(r.endpoints()).extracting(Endpoint::ifName).containsExactly("eth0", "eth1");
        Endpoint ei = r.endpoint("secret");
        assertThat(ei.gateway()).isNull();
        String routes = HostNet.inNs(r.netnsPath(), "ip", "route").out();
        assertThat(routes).doesNotContain("via " + internal.gateway());
        assertThat(routes).contains("default via " + open.gateway());
        List<String> nat = List.of(HostNet.run("iptables-save", "-t", "nat").out().split("\n"));
        assertThat(nat).as("masquerade of the open network").anyMatch(l -> l.contains("-s " + open.subnet() + " ")
                && l.contains("-j MASQUERADE"));
        assertThat(nat).as("no masquerade of the internal one").noneMatch(l -> l.contains(internal.subnet().toString()));
        // the gateway address is there for DNS, and the names resolve on the internal network too
        assertThat(HostNet.inNs(r.netnsPath(), "busybox", "nslookup", "x", internal.gateway()).out()).contains(ei.ipAddress());
        service.detach(a);
        service.remove("secret", id -> false);
        service.remove("open", id -> false);
        assertHostClean(internal, open);
    }

    @Test
    void aCrashIsUndoneFromTheAttachmentRecords() throws Exception {
        Network net = service.create(NetworkSpec.named("crashy"));
        String a = newContainerId();
        String b = newContainerId();
        String live = newContainerId();
        service.attach(new AttachRequest(a, "a", List.of(Attachment.to("crashy")), List.of(PortBinding.of("127.0.0.1", 0, 80, "tcp")), List.of()));
        service.attach(AttachRequest.of(b, "b", Attachment.to("bridge")));
        AttachResult rl = service.attach(AttachRequest.of(live, "survivor", Attachment.to("crashy")));
        assertThat(HostNet.leases(service.ipamDirectory())).hasSize(3);
        // a stray namespace with no record, as a crash between create and record would leave
        Path stray = service.netnsDirectory().resolve("stray");
        try {
            NetNamespaces.create(stray);
        } catch (Exception e) {
            throw new AssertionError(e);
        }

        // the daemon dies: no detach, only the Java objects dropped
        service.close();
        service = newService();
        NetworkService.ReconcileReport report = service.reconcile(Set.of(live));
        assertThat(report.failures()).isEmpty();
        assertThat(report.cleanedContainers()).containsExactlyInAnyOrder(a, b);
        assertThat(report.removedNamespaces()).containsExactly("stray");
        assertThat(HostNet.leases(service.ipamDirectory())).hasSize(1);
        // the survivor's name is served again by the new DNS server
        Endpoint el = rl.endpoint("crashy");
        assertThat(HostNet.inNs(rl.netnsPath(), "busybox", "nslookup", "survivor", net.gateway()).out()).contains(el.ipAddress());

        service.close();
        service = newService();
        report = service.reconcile(Set.of());
        assertThat(report.cleanedContainers()).containsExactly(live);
        service.remove("crashy", id -> false);
        service.removeDefaultBridge();
        assertHostClean(net);
    }

    @Test
    void twentyAttachDetachCyclesLeakNothing() {
        Network net = service.create(NetworkSpec.named("cycles"));
        String id = newContainerId();
        long total = 0;
        for (int i = 0; i < 20; i++) {
            long t0 = System.nanoTime();
            AttachResult r = service.attach(new AttachRequest(id, "c", List.of(Attachment.to("cycles")),
                    List.of(PortBinding.of("127.0.0.1", 0, 8080, "tcp")), List.of()));
            assertThat(r.endpoints()).hasSize(1);
            service.detach(id);
            total += System.nanoTime() - t0;
        }
        System.out.printf("attach+detach of one namespace: %.1f ms on average over 20 cycles%n", total / 20 / 1e6);
        assertThat(HostNet.leases(service.ipamDirectory())).isEmpty();
        // the network's own rules stay while it exists; assertHostClean checks they go with it
        assertThat(HostNet.leakedRules(rulesBefore)).allMatch(l -> l.contains(net.bridgeName()));
        service.remove("cycles", id2 -> false);
        assertHostClean(net);
    }

    @Test
    void connectDisconnectStaticAddressAliasesAndNone() {
        Network one = service.create(NetworkSpec.named("one").withPool("10.198.200.0/24", null, null));
        Network two = service.create(NetworkSpec.named("two").withPool("10.198.201.0/24", null, "10.198.201.128/25"));
        String a = newContainerId();
        String b = newContainerId();
        AttachResult ra = service.attach(AttachRequest.of(a, "alpha",
                Attachment.to("one").withIp("10.198.200.77").withMac("02:42:0a:c6:c8:4d")));
        assertThat(ra.endpoint("one").ipAddress()).isEqualTo("10.198.200.77");
        assertThat(ra.endpoint("one").macAddress()).isEqualTo("02:42:0a:c6:c8:4d");
        assertThat(HostNet.inNs(ra.netnsPath(), "ip", "link", "show", "eth0").out()).contains("02:42:0a:c6:c8:4d");
        service.attach(AttachRequest.of(b, "beta", Attachment.to("two")));
        assertThatThrownBy(() -> service.attach(AttachRequest.of(newContainerId(), "dup", Attachment.to("one").withIp("10.198.200.77"))))
                .isInstanceOf(NetworkException.class);

        Endpoint e2 = service.connect(a, Attachment.to("two").withAliases("db").withLinks(Map.of("peer", "beta")));
        assertThat(e2.ifName()).isEqualTo("eth1");
        assertThat(Ipv4.parse(e2.ipAddress()) >= Ipv4.parse("10.198.201.128")).isTrue();
        assertThat(HostNet.inNs(ra.netnsPath(), "ip", "-o", "-4", "addr", "show", "eth1").out()).contains(e2.ipAddress());
        String nsB = service.attachment(b).orElseThrow().netnsPath();
        assertThat(HostNet.inNs(nsB, "busybox", "nslookup", "db", two.gateway()).out()).contains(e2.ipAddress());
        assertThat(HostNet.inNs(nsB, "busybox", "ping", "-c1", "-W2", e2.ipAddress()).exit()).isZero();
        // the link alias answers for the container that has the link only
        assertThat(HostNet.inNs(ra.netnsPath(), "busybox", "nslookup", "peer", two.gateway()).out())
                .contains(service.attachment(b).orElseThrow().endpoint("two").ipAddress());
        long q0 = System.nanoTime();
        assertThat(HostNet.inNs(nsB, "busybox", "nslookup", "peer", two.gateway()).exit()).isNotZero();
        System.out.printf("nslookup of an unknown name: %.0f ms%n", (System.nanoTime() - q0) / 1e6);
        assertThatThrownBy(() -> service.connect(a, Attachment.to("two"))).hasMessageContaining("already exists in network two");
        assertThatThrownBy(() -> service.remove("two", id -> false)).hasMessageContaining("has active endpoints");
        assertThat(service.endpointsOn(two.id())).containsOnlyKeys(a, b);

        service.disconnect(a, "two");
        assertThat(HostNet.inNs(ra.netnsPath(), "ip", "link", "show", "eth1").exit()).isNotZero();
        assertThat(HostNet.inNs(nsB, "busybox", "nslookup", "db", two.gateway()).exit()).isNotZero();
        assertThat(service.attachment(a).orElseThrow().endpoints()).extracting(Endpoint::networkName).containsExactly("one");

        // none: a namespace with loopback only; host: no namespace
        String n = newContainerId();
        AttachResult rn = service.attach(AttachRequest.of(n, "n", Attachment.to("none")));
        assertThat(rn.endpoints()).isEmpty();
        assertThat(HostNet.inNs(rn.netnsPath(), "ip", "-o", "link").out().strip().split("\n")).hasSize(1);
        assertThat(HostNet.inNs(rn.netnsPath(), "busybox", "ping", "-c1", "-W1", "127.0.0.1").exit()).isZero();
        String h = newContainerId();
        AttachResult rh = service.attach(AttachRequest.of(h, "h", Attachment.to("host")));
        assertThat(rh.hostNetwork()).isTrue();
        assertThat(rh.netnsPath()).isNull();
        assertThatThrownBy(() -> service.attach(AttachRequest.of(newContainerId(), "x", Attachment.to("host"), Attachment.to("one"))))
                .hasMessageContaining("host");

        for (String c : List.of(a, b, n, h)) service.detach(c);
        service.remove("one", id -> false);
        service.remove("two", id -> false);
        assertHostClean(one, two);
    }

    @Test
    void parallelAttachesGetDistinctAddresses() throws Exception {
        Network net = service.create(NetworkSpec.named("busy"));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) ids.add(newContainerId());
        List<java.util.concurrent.Future<AttachResult>> futures = new ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                String name = "p" + i;
                futures.add(pool.submit(() -> service.attach(AttachRequest.of(id, name, Attachment.to("busy")))));
            }
        }
        Set<String> ips = new java.util.HashSet<>();
        for (var f : futures) ips.add(f.get().endpoint("busy").ipAddress());
        assertThat(ips).hasSize(4);
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (String id : ids) pool.submit(() -> service.detach(id));
        }
        service.remove("busy", id -> false);
        assertHostClean(net);
    }

    @Test
    void aVanishedNamespaceStillReleasesItsLeaseAndRules() throws Exception {
        Network net = service.create(NetworkSpec.named("vanish"));
        String a = newContainerId();
        AttachResult r = service.attach(new AttachRequest(a, "v", List.of(Attachment.to("vanish")),
                List.of(PortBinding.of("127.0.0.1", 0, 80, "tcp")), List.of()));
        // the namespace disappears behind our back (a reboot, a manual umount)
        NetNamespaces.remove(Path.of(r.netnsPath()));
        service.detach(a);
        service.remove("vanish", id -> false);
        assertHostClean(net);
    }

    @Test
    void unknownNamesAreForwardedToTheUpstreamResolvers() throws Exception {
        // a fake upstream resolver on 127.0.0.1 that knows one name
        java.net.DatagramSocket upstream = new java.net.DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread fake = Thread.startVirtualThread(() -> {
            byte[] buf = new byte[4096];
            while (!upstream.isClosed()) {
                try {
                    java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
                    upstream.receive(p);
                    Message q = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                    Message ans = new Message(q.getHeader().getID());
                    ans.getHeader().setFlag(org.xbill.DNS.Flags.QR);
                    ans.addRecord(q.getQuestion(), Section.QUESTION);
                    if (q.getQuestion().getName().toString().equals("ext.example.")) {
                        ans.addRecord(new org.xbill.DNS.ARecord(q.getQuestion().getName(), 1, 60, InetAddress.getByName("192.0.2.10")), Section.ANSWER);
                    } else {
                        ans.getHeader().setRcode(Rcode.NXDOMAIN);
                    }
                    byte[] out = ans.toWire();
                    upstream.send(new java.net.DatagramPacket(out, out.length, p.getSocketAddress()));
                } catch (java.io.IOException e) {
                    return;
                }
            }
        });
        service.close();
        service = new NetworkService(NetworkService.Options.defaults(root.resolve("data"), root.resolve("run"))
                .withAddressPools(List.of(new NetworkService.AddressPool("10.198.0.0/16", 24)))
                .withDefaultBridge(defaultBridge, "10.197.0.0/24")
                .withDnsUpstream(() -> List.of((InetSocketAddress) upstream.getLocalSocketAddress())));
        try {
            Network net = service.create(NetworkSpec.named("fwd"));
            String a = newContainerId();
            AttachResult r = service.attach(AttachRequest.of(a, "asker", Attachment.to("fwd")));
            assertThat(HostNet.inNs(r.netnsPath(), "busybox", "nslookup", "ext.example", net.gateway()).out()).contains("192.0.2.10");
            assertThat(HostNet.inNs(r.netnsPath(), "busybox", "nslookup", "other.example", net.gateway()).out()).contains("NXDOMAIN");
            assertThat(HostNet.inNs(r.netnsPath(), "busybox", "nslookup", "asker", net.gateway()).out()).contains(r.endpoint("fwd").ipAddress());
            service.detach(a);
            service.remove("fwd", id -> false);
            assertHostClean(net);
        } finally {
            upstream.close();
            fake.join();
        }
    }
}
