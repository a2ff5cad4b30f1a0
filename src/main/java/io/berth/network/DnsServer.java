package io.berth.network;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * The embedded DNS server of one user network, listening on the network's gateway address,
 * port 53, over UDP and TCP. It answers A (and PTR) queries for the names of the containers
 * on the network: container names, network aliases, short IDs, and the link aliases of the
 * asking container. Other names go to the upstream resolvers (the asking container's --dns
 * servers, else the host's); with none, the answer is SERVFAIL.
 * <p>It listens in the host's namespace, so it answers only its network's containers (a
 * sender that is no endpoint of the network gets nothing), holds at most
 * {@value #MAX_IN_FLIGHT} queries at once (dockerd's resolver's cap; more are dropped, as
 * dockerd drops them), and all servers together forward at most {@value #MAX_FORWARDS}
 * queries at once, so a flood costs neither threads nor descriptors without bound.
 */
final class DnsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DnsServer.class);
    private static final long TTL = 600;
    private static final Duration UPSTREAM_TIMEOUT = Duration.ofSeconds(3);
    static final int MAX_IN_FLIGHT = 1024;
    static final int MAX_FORWARDS = 256;
    /** Sockets to upstream servers, one a forwarded query: shared by every network's server. */
    private static final Semaphore FORWARDS = new Semaphore(MAX_FORWARDS);

    /** One container endpoint on this network: its names, address, links and own upstream servers. */
    record Entry(List<String> names, List<InetAddress> addresses, Map<String, String> links, List<InetSocketAddress> upstream) {
        Entry {
            addresses = List.copyOf(addresses);
        }

        Entry(List<String> names, InetAddress address, Map<String, String> links, List<InetSocketAddress> upstream) {
            this(names, List.of(address), links, upstream);
        }

        boolean has(InetAddress a) {
            return addresses.contains(a);
        }
    }

    private final String networkName;
    private final InetAddress listen;
    private final Supplier<List<InetSocketAddress>> hostUpstream;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private volatile boolean closed;
    private volatile Peers peers;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final AtomicLong dropped = new AtomicLong();

    /**
     * Names on the other networks of the asking container: a container on two user networks
     * resolves the names of both, though its resolv.conf names only one network's server.
     */
    interface Peers {
        List<InetAddress> lookup(DnsServer asker, String containerId, String name);
    }

    void peers(Peers peers) {
        this.peers = peers;
    }

    /** Whether a container has an endpoint (so a name) on this network. */
    boolean hasContainer(String containerId) {
        for (String key : entries.keySet()) {
            if (key.startsWith(containerId + "/")) return true;
        }
        return false;
    }

    /** The addresses of {@code name} on this network only. */
    List<InetAddress> lookupLocal(String name) {
        List<InetAddress> found = new ArrayList<>();
        for (Entry e : entries.values()) {
            for (String n : e.names()) {
                if (!n.equalsIgnoreCase(name)) continue;
                for (InetAddress a : e.addresses()) if (!found.contains(a)) found.add(a);
            }
        }
        return found;
    }

    private String containerOf(InetAddress client) {
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            if (e.getValue().has(client)) {
                int slash = e.getKey().indexOf('/');
                return slash < 0 ? e.getKey() : e.getKey().substring(0, slash);
            }
        }
        return null;
    }

    DnsServer(String networkName, InetAddress listen, int port, Supplier<List<InetSocketAddress>> hostUpstream) throws IOException {
        this.networkName = networkName;
        this.listen = listen;
        this.hostUpstream = hostUpstream;
        this.udp = new DatagramSocket(null);
        udp.setReuseAddress(true);
        try {
            udp.bind(new InetSocketAddress(listen, port));
            this.tcp = new ServerSocket();
            tcp.setReuseAddress(true);
            tcp.bind(new InetSocketAddress(listen, udp.getLocalPort()), 64);
        } catch (IOException e) {
            udp.close();
            throw new IOException("cannot listen for DNS on " + listen.getHostAddress() + ":" + port
                    + " for network " + networkName + ": " + e.getMessage(), e);
        }
        Thread.ofVirtual().name("dns-udp-" + networkName).start(this::serveUdp);
        Thread.ofVirtual().name("dns-tcp-" + networkName).start(this::serveTcp);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(listen, udp.getLocalPort());
    }

    void register(String key, Entry entry) {
        entries.put(key, entry);
    }

    void unregister(String key) {
        entries.remove(key);
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    @Override
    public void close() {
        closed = true;
        udp.close();
        try {
            tcp.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private void serveUdp() {
        byte[] buf = new byte[65535];
        while (!closed) {
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            try {
                udp.receive(packet);
            } catch (IOException e) {
                if (!closed) LOG.warn("DNS on {} for network {}: {}", listen, networkName, e.toString());
                return;
            }
            InetAddress client = packet.getAddress();
            if (entryOf(client) == null) continue; // not one of this network's containers
            if (!inFlight.tryAcquire()) {
                dropped(client);
                continue;
            }
            byte[] query = java.util.Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength());
            int clientPort = packet.getPort();
            Thread.startVirtualThread(() -> {
                try {
                    byte[] answer = answer(query, client, true);
                    if (answer == null) return;
                    udp.send(new DatagramPacket(answer, answer.length, client, clientPort));
                } catch (IOException e) {
                    if (!closed) LOG.debug("DNS reply to {} failed: {}", client, e.toString());
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    private void serveTcp() {
        while (!closed) {
            Socket s;
            try {
                s = tcp.accept();
            } catch (IOException e) {
                if (!closed) LOG.warn("DNS (tcp) on {} for network {}: {}", listen, networkName, e.toString());
                return;
            }
            if (entryOf(s.getInetAddress()) == null || !inFlight.tryAcquire()) {
                if (entryOf(s.getInetAddress()) != null) dropped(s.getInetAddress());
                try {
                    s.close();
                } catch (IOException ignored) {
                    // refused anyway
                }
                continue;
            }
            Thread.startVirtualThread(() -> {
                try (s) {
                    s.setSoTimeout(10_000);
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    while (true) {
                        int len;
                        try {
                            len = in.readUnsignedShort();
                        } catch (EOFException eof) {
                            return;
                        }
                        byte[] query = in.readNBytes(len);
                        if (query.length < len) return;
                        byte[] answer = answer(query, s.getInetAddress(), false);
                        if (answer == null) return;
                        out.writeShort(answer.length);
                        out.write(answer);
                        out.flush();
                    }
                } catch (SocketException ignored) {
                    // client went away
                } catch (IOException e) {
                    LOG.debug("DNS (tcp) client {}: {}", s.getInetAddress(), e.toString());
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    private void dropped(InetAddress client) {
        long n = dropped.incrementAndGet();
        if (n == 1 || n % 10_000 == 0) {
            LOG.warn("DNS for network {}: more than {} queries in flight (from {}); {} dropped so far", networkName, MAX_IN_FLIGHT, client, n);
        }
    }

    /** Queries being answered now (for tests and figures). */
    int inFlight() {
        return MAX_IN_FLIGHT - inFlight.availablePermits();
    }

    /** The wire answer to a query, or null when it cannot even be parsed. */
    byte[] answer(byte[] wire, InetAddress client, boolean udpLimit) {
        Message query;
        try {
            query = new Message(wire);
        } catch (IOException e) {
            return null;
        }
        Record question = query.getQuestion();
        Message reply = replyTo(query);
        if (question == null || query.getHeader().getOpcode() != 0) {
            reply.getHeader().setRcode(Rcode.FORMERR);
            return reply.toWire();
        }
        int type = question.getType();
        Name qname = question.getName();
        List<InetAddress> local = lookup(qname, client);
        if (!local.isEmpty()) {
            reply.getHeader().setFlag(Flags.AA);
            for (InetAddress a : local) {
                if (a instanceof Inet4Address && (type == Type.A || type == Type.ANY)) {
                    reply.addRecord(new ARecord(qname, DClass.IN, TTL, a), Section.ANSWER);
                } else if (a instanceof Inet6Address && (type == Type.AAAA || type == Type.ANY)) {
                    reply.addRecord(new AAAARecord(qname, DClass.IN, TTL, a), Section.ANSWER);
                }
            }
            return toWire(reply, query, udpLimit);
        }
        if (type == Type.PTR) {
            String target = reverse(qname);
            if (target != null) {
                try {
                    reply.getHeader().setFlag(Flags.AA);
                    reply.addRecord(new PTRRecord(qname, DClass.IN, TTL, Name.fromString(target, Name.root)), Section.ANSWER);
                    return toWire(reply, query, udpLimit);
                } catch (IOException ignored) {
                    // not a valid name: forward
                }
            }
        }
        return forward(query, reply, client, udpLimit);
    }

    private static Message replyTo(Message query) {
        Message reply = new Message(query.getHeader().getID());
        reply.getHeader().setFlag(Flags.QR);
        if (query.getHeader().getFlag(Flags.RD)) reply.getHeader().setFlag(Flags.RD);
        reply.getHeader().setFlag(Flags.RA);
        Record q = query.getQuestion();
        if (q != null) reply.addRecord(q, Section.QUESTION);
        return reply;
    }

    private static byte[] toWire(Message reply, Message query, boolean udpLimit) {
        if (!udpLimit) return reply.toWire();
        int max = query.getOPT() != null ? Math.max(512, query.getOPT().getPayloadSize()) : 512;
        return reply.toWire(max);
    }

    private List<InetAddress> lookup(Name qname, InetAddress client) {
        String name = plain(qname);
        String suffix = "." + networkName.toLowerCase(Locale.ROOT);
        if (name.endsWith(suffix) && name.length() > suffix.length()) name = name.substring(0, name.length() - suffix.length());
        List<InetAddress> found = new ArrayList<>();
        Entry asking = client == null ? null : entryOf(client);
        if (asking != null) {
            String target = asking.links().get(name);
            if (target != null) name = target.toLowerCase(Locale.ROOT);
        }
        found.addAll(lookupLocal(name));
        Peers p = peers;
        if (found.isEmpty() && p != null && asking != null) {
            String containerId = containerOf(client);
            if (containerId != null) found.addAll(p.lookup(this, containerId, name));
        }
        return found;
    }

    private Entry entryOf(InetAddress client) {
        for (Entry e : entries.values()) {
            if (e.has(client)) return e;
        }
        return null;
    }

    private String reverse(Name qname) {
        for (Entry e : entries.values()) {
            for (InetAddress a : e.addresses()) {
                if (ReverseMap.fromAddress(a).equals(qname) && !e.names().isEmpty()) return e.names().getFirst() + "." + networkName;
            }
        }
        return null;
    }

    private byte[] forward(Message query, Message reply, InetAddress client, boolean udpLimit) {
        Entry asking = client == null ? null : entryOf(client);
        List<InetSocketAddress> servers = asking != null && !asking.upstream().isEmpty() ? asking.upstream() : hostUpstream.get();
        boolean permitted = false;
        try {
            permitted = FORWARDS.tryAcquire(UPSTREAM_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!permitted) servers = List.of(); // too many forwards in flight: SERVFAIL, at once
        try {
            return forwardTo(servers, query, reply, udpLimit);
        } finally {
            if (permitted) FORWARDS.release();
        }
    }

    private byte[] forwardTo(List<InetSocketAddress> servers, Message query, Message reply, boolean udpLimit) {
        for (InetSocketAddress server : servers) {
            try {
                SimpleResolver r = new SimpleResolver(server);
                r.setTimeout(UPSTREAM_TIMEOUT);
                r.setTCP(!udpLimit);
                Message answer = r.send(query);
                answer.getHeader().setID(query.getHeader().getID());
                return toWire(answer, query, udpLimit);
            } catch (IOException e) {
                LOG.debug("DNS upstream {} failed for {}: {}", server, query.getQuestion().getName(), e.toString());
            }
        }
        reply.getHeader().setRcode(Rcode.SERVFAIL);
        return toWire(reply, query, udpLimit);
    }

    private static String plain(Name name) {
        String s = name.toString(true);
        return s.toLowerCase(Locale.ROOT);
    }
}
