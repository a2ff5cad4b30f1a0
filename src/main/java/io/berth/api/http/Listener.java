package io.berth.api.http;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/** A bound server socket that hands out {@link Transport}s. */
public sealed interface Listener extends Closeable {
    /** Blocks for the next connection; throws once closed. */
    Transport accept() throws IOException;

    /** The address as a client would write it in DOCKER_HOST. */
    String address();

    /** A unix socket, mode 0660, owned by group {@code docker} when that group exists. */
    static Listener unix(Path path) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        // A socket file left by a daemon that died is stale: the data-root lock, taken
        // before we get here, proves no live daemon owns it.
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path), 512);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            try {
                GroupPrincipal docker = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("docker");
                Files.getFileAttributeView(path, PosixFileAttributeView.class).setGroup(docker);
            } catch (java.nio.file.attribute.UserPrincipalNotFoundException noDockerGroup) {
                // root's group then, as dockerd does
            }
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on unix socket " + path + ": " + e.getMessage(), e);
        }
        return new Unix(server, path);
    }

    static Listener tcp(InetSocketAddress address) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET);
        try {
            server.bind(address, 512);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on tcp://" + address.getHostString() + ":" + address.getPort() + ": " + e.getMessage(), e);
        }
        return new Tcp(server);
    }

    static Listener tls(InetSocketAddress address, SSLContext context, boolean requireClientCertificate) throws IOException {
        SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        try {
            server.setReuseAddress(true);
            server.bind(address, 512);
            server.setNeedClientAuth(requireClientCertificate);
            server.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on tcp://" + address.getHostString() + ":" + address.getPort() + " with TLS: " + e.getMessage(), e);
        }
        return new Tls(server);
    }

    record Unix(ServerSocketChannel server, Path path) implements Listener {
        @Override
        public Transport accept() throws IOException {
            SocketChannel channel = server.accept();
            return new ChannelTransport(channel, "unix:" + path);
        }

        @Override
        public String address() {
            return "unix://" + path;
        }

        @Override
        public void close() throws IOException {
            server.close();
            Files.deleteIfExists(path);
        }
    }

    record Tcp(ServerSocketChannel server) implements Listener {
        @Override
        public Transport accept() throws IOException {
            SocketChannel channel = server.accept();
            channel.socket().setTcpNoDelay(true);
            return new ChannelTransport(channel, String.valueOf(channel.getRemoteAddress()));
        }

        @Override
        public String address() {
            try {
                InetSocketAddress local = (InetSocketAddress) server.getLocalAddress();
                return "tcp://" + local.getHostString() + ":" + local.getPort();
            } catch (IOException e) {
                return "tcp://?";
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    record Tls(SSLServerSocket server) implements Listener {
        @Override
        public Transport accept() throws IOException {
            SSLSocket socket = (SSLSocket) server.accept();
            socket.setTcpNoDelay(true);
            return new SocketTransport(socket);
        }

        @Override
        public String address() {
            return "tcp://" + server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
