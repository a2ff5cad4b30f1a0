package io.berth.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The docker-machine model: a CA signs the server's and the client's certificates, berthd
 * requires a client certificate. Needs: openssl, docker CLI.
 */
class TlsTest {
    static Path certs;
    static BerthdProcess daemon;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        certs = Files.createTempDirectory("berth-tls");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=berth-test-ca",
                "-keyout", "ca-key.pem", "-out", "ca.pem");
        Files.writeString(certs.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server-key.pem", "-out", "server.csr");
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "2",
                "-extfile", "server.ext", "-out", "server-cert.pem");
        // The client's key in the old PKCS#1 form, as docker-machine writes it.
        openssl("genrsa", "-traditional", "-out", "key.pem", "2048");
        Files.writeString(certs.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        openssl("req", "-new", "-key", "key.pem", "-subj", "/CN=client", "-out", "client.csr");
        openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "2",
                "-extfile", "client.ext", "-out", "cert.pem");
        // A second, unrelated CA and client: its certificate must be refused.
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=rogue",
                "-keyout", "rogue-key.pem", "-out", "rogue.pem");
        port = DaemonLifecycleTest.freePort();
        daemon = BerthdProcess.start("-H", "tcp://127.0.0.1:" + port, "--tlsverify",
                "--tlscacert", certs.resolve("ca.pem").toString(),
                "--tlscert", certs.resolve("server-cert.pem").toString(),
                "--tlskey", certs.resolve("server-key.pem").toString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
        if (certs != null) BerthdProcess.deleteTree(certs);
    }

    private static void openssl(String... args) throws Exception {
        var command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(certs.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException("openssl " + String.join(" ", args) + " failed:\n" + out);
    }

    private DockerCli cli() {
        return new DockerCli("tcp://127.0.0.1:" + port, daemon.dir().resolve("cli-config"));
    }

    @Test
    void clientWithCertificateIsServed() throws Exception {
        DockerCli.Result r = cli().run("--tlsverify", "--tlscacert", certs.resolve("ca.pem").toString(),
                "--tlscert", certs.resolve("cert.pem").toString(), "--tlskey", certs.resolve("key.pem").toString(), "version");
        assertThat(r.exitCode()).as(r + daemon.log()).isZero();
        assertThat(r.stdout()).contains("Server: Berth Engine");
    }

    @Test
    void clientWithoutCertificateIsRefused() throws Exception {
        DockerCli.Result r = cli().run("--tlsverify", "--tlscacert", certs.resolve("ca.pem").toString(), "version");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stdout()).doesNotContain("Berth Engine");
        assertThat(r.stderr()).containsIgnoringCase("certificate");
        assertThat(daemon.httpGet("/_ping")).endsWith("OK");
    }

    @Test
    void clientWithAForeignCertificateIsRefused() throws Exception {
        DockerCli.Result r = cli().run("--tlsverify", "--tlscacert", certs.resolve("ca.pem").toString(),
                "--tlscert", certs.resolve("rogue.pem").toString(), "--tlskey", certs.resolve("rogue-key.pem").toString(), "version");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stdout()).doesNotContain("Berth Engine");
    }

    @Test
    void plainHttpOnTheTlsPortIsRefused() throws Exception {
        DockerCli.Result r = cli().run("version");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stdout()).doesNotContain("Berth Engine");
    }
}
