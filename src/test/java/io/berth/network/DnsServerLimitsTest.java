package io.berth.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The embedded DNS under a flood (issue 13, point 7): it answers only its network's
 * containers, holds at most 1024 queries at once and forwards through a bounded number of
 * sockets, whatever a container sends. Runs on 127.0.0.1 with a silent upstream on loopback.
 */
class DnsServerLimitsTest {

    @Test
    void aFloodCostsBoundedThreadsAndSocketsAndStrangersGetNothing() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (DatagramSocket silentUpstream = new DatagramSocket(new InetSocketAddress(loopback, 0));
             DnsServer dns = new DnsServer("floodnet", loopback, 0, List::of)) {
            InetSocketAddress upstream = new InetSocketAddress(loopback, silentUpstream.getLocalPort());
            dns.register("c1/floodnet", new DnsServer.Entry(List.of("web"), loopback, Map.of(), List.of(upstream)));

            try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
                client.setSoTimeout(2000);
                assertThat(ask(client, dns.address(), "web", 1)).as("a container's own network name").isNotNull();
            }
            // 127.0.0.2 is no endpoint of the network: no answer at all.
            try (DatagramSocket stranger = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0))) {
                stranger.setSoTimeout(1000);
                assertThat(ask(stranger, dns.address(), "web", 2)).as("answer to a stranger").isNull();
            }

            long fdsBefore = openDescriptors();
            int threadsBefore = Thread.activeCount();
            try (DatagramSocket flood = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
                for (int i = 0; i < 5000; i++) {
                    byte[] q = query("name" + i + ".example", 1000 + i);
                    flood.send(new DatagramPacket(q, q.length, dns.address()));
                }
                Thread.sleep(1500); // the upstream never answers: every forward waits its 3 s
                long fdsDuring = openDescriptors();
                System.out.printf("DNS flood of 5000 queries: %d in flight, descriptors %d -> %d, platform threads %d -> %d%n",
                        dns.inFlight(), fdsBefore, fdsDuring, threadsBefore, Thread.activeCount());
                assertThat(dns.inFlight()).isBetween(1, DnsServer.MAX_IN_FLIGHT);
                assertThat(fdsDuring - fdsBefore).as("descriptors taken by the flood").isLessThanOrEqualTo(DnsServer.MAX_FORWARDS + 16);
                assertThat(Thread.activeCount() - threadsBefore).as("platform threads").isLessThan(16);
            }
        }
    }

    static byte[] query(String name, int id) throws Exception {
        Message m = Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), Type.A, DClass.IN));
        m.getHeader().setID(id & 0xffff);
        return m.toWire();
    }

    /** The answer's A records as text, or null when none came in time. */
    static String ask(DatagramSocket s, InetSocketAddress server, String name, int id) throws Exception {
        byte[] q = query(name, id);
        s.send(new DatagramPacket(q, q.length, server));
        byte[] buf = new byte[4096];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            s.receive(p);
        } catch (SocketTimeoutException e) {
            return null;
        }
        Message answer = new Message(java.util.Arrays.copyOf(buf, p.getLength()));
        return answer.getSection(Section.ANSWER).toString();
    }

    static long openDescriptors() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
