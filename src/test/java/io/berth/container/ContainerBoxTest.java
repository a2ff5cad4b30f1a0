package io.berth.container;

import io.berth.errdefs.ErrorKind;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.image.ImageConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerBoxTest {
    @TempDir
    Path root;

    private ContainerRecord record(ContainerStore store, String name) {
        return new ContainerRecord(store.newId(), name, Instant.now(), "sh", List.of("-c", "true"), ImageConfig.ContainerConfig.empty(),
                DockerHostConfig.toSettings(HostConfig.empty().withDefaults("runc")), "sha256:" + "a".repeat(64), "busybox", "container-x", ContainerState.created(), 0, false,
                "linux");
    }

    @Test
    void namesAreUniqueAndLookupsWorkByIdPrefixAndName() throws Exception {
        ContainerStore store = new ContainerStore(root);
        Container a = store.add(record(store, "/web"));
        assertThat(a.id()).matches("[0-9a-f]{64}");
        assertThatThrownBy(() -> store.add(record(store, "/web")))
                .isInstanceOf(ContainerException.class)
                .hasMessage("Conflict. The container name \"/web\" is already in use by container \"" + a.id()
                        + "\". You have to remove (or rename) that container to be able to reuse that name.");
        assertThat(store.get("web")).isSameAs(a);
        assertThat(store.get("/web")).isSameAs(a);
        assertThat(store.get(a.id().substring(0, 6))).isSameAs(a);
        assertThatThrownBy(() -> store.get("nope")).hasMessage("No such container: nope");

        Container b = store.add(record(store, null));
        assertThat(b.record().name()).matches("/[a-z]+_[a-z]+");

        store.rename(a, "/api");
        assertThat(store.get("api")).isSameAs(a);
        assertThat(store.find("web")).isEmpty();
        store.add(record(store, "/web")); // the old name is free again

        // the records survive a reopen
        ContainerStore again = new ContainerStore(root);
        assertThat(again.get("api").id()).isEqualTo(a.id());
        assertThat(again.count()).isEqualTo(3);

        store.remove(b);
        assertThat(Files.exists(store.directory(b.id()))).isFalse();
        assertThat(b.isRemoved()).isTrue();
    }

    @Test
    void nameValidation() {
        assertThat(Names.normalize("good_name.1-x")).isEqualTo("/good_name.1-x");
        assertThatThrownBy(() -> Names.normalize("bad name"))
                .hasMessage("Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        assertThatThrownBy(() -> Names.normalize("_x")).isInstanceOf(ContainerException.class);
    }

    @Test
    void stateMachineRefusesWithDockersMessages() throws Exception {
        ContainerStore store = new ContainerStore(root);
        Container c = store.add(record(store, "/s"));
        String id = c.id();
        assertThatThrownBy(() -> c.check(Operation.EXEC)).hasMessage("Container " + id + " is not running");
        assertThatThrownBy(() -> c.check(Operation.STOP))
                .isInstanceOfSatisfying(ContainerException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_MODIFIED));
        c.started(123, false);
        assertThatThrownBy(() -> c.check(Operation.START))
                .isInstanceOfSatisfying(ContainerException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_MODIFIED));
        assertThatThrownBy(() -> c.check(Operation.REMOVE))
                .hasMessage("You cannot remove a running container " + id + ". Stop the container before attempting removal or force remove");
        c.check(Operation.FORCE_REMOVE);
        c.check(Operation.EXEC);
        long exits = c.exitCount();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                c.awaitExitAfter(exits, Duration.ofSeconds(10));
            } catch (InterruptedException ignored) {
            }
        });
        c.exited(3, false, false);
        waiter.join(5000);
        assertThat(waiter.isAlive()).isFalse();
        assertThat(c.record().state().exitCode()).isEqualTo(3);
        assertThat(c.record().state().status()).isEqualTo(ContainerStatus.EXITED);
        assertThatThrownBy(() -> c.check(Operation.KILL)).hasMessageContaining("Container " + id + " is not running");
    }

    @Test
    void entrypointAndCmdRules() {
        var r = Commands.resolve(List.of("/entry"), List.of("default"), null, null);
        assertThat(r.argv()).containsExactly("/entry", "default");
        r = Commands.resolve(List.of("/entry"), List.of("default"), null, List.of("given"));
        assertThat(r.argv()).containsExactly("/entry", "given");
        r = Commands.resolve(List.of("/entry"), List.of("default"), List.of("/other"), null);
        assertThat(r.argv()).containsExactly("/other");
        r = Commands.resolve(List.of("/entry"), List.of("default"), List.of(""), List.of("echo", "hi"));
        assertThat(r.path()).isEqualTo("echo");
        assertThat(r.args()).containsExactly("hi");
        assertThatThrownBy(() -> Commands.resolve(null, null, null, null)).hasMessage("No command specified");
        assertThat(Commands.mergeEnv(List.of("PATH=/bin", "A=1"), List.of("A=2", "B=3")))
                .containsExactly("PATH=/bin", "A=2", "B=3");
    }

    @Test
    void usersFromPasswdAndGroup() throws Exception {
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n");
        Files.writeString(root.resolve("etc/group"), "root:x:0:\nwww:x:33:\nextra:x:500:www\n");
        assertThat(Users.resolve(root, "", List.of())).isEqualTo(new Users.Resolved(0, 0, List.of(0), "/root"));
        assertThat(Users.resolve(root, "www", List.of())).isEqualTo(new Users.Resolved(33, 33, List.of(33, 500), "/var/www"));
        assertThat(Users.resolve(root, "www:www", List.of("7")).additionalGids()).containsExactly(33, 7);
        assertThat(Users.resolve(root, "33:44", List.of()).additionalGids()).containsExactly(44);
        assertThat(Users.resolve(root, "1000:1000", List.of()).uid()).isEqualTo(1000);
        assertThat(Users.resolve(root, "www:root", List.of("extra")).gid()).isEqualTo(0);
        assertThatThrownBy(() -> Users.resolve(root, "nobody", List.of())).hasMessageContaining("unable to find user nobody");
    }

    @Test
    void restartPolicies() {
        var onFailure2 = new ContainerSettings.RestartPolicy(ContainerSettings.RestartMode.ON_FAILURE, 2);
        var always = new ContainerSettings.RestartPolicy(ContainerSettings.RestartMode.ALWAYS, 0);
        var unlessStopped = new ContainerSettings.RestartPolicy(ContainerSettings.RestartMode.UNLESS_STOPPED, 0);
        assertThat(RestartPolicies.shouldRestart(onFailure2, 1, 0, false)).isTrue();
        assertThat(RestartPolicies.shouldRestart(onFailure2, 1, 2, false)).isFalse();
        assertThat(RestartPolicies.shouldRestart(onFailure2, 0, 0, false)).isFalse();
        assertThat(RestartPolicies.shouldRestart(always, 0, 9, false)).isTrue();
        assertThat(RestartPolicies.shouldRestart(always, 0, 9, true)).isFalse();
        assertThat(RestartPolicies.shouldRestart(ContainerSettings.RestartPolicy.NO, 1, 0, false)).isFalse();
        assertThat(RestartPolicies.startOnDaemonStart(always, true)).isTrue();
        assertThat(RestartPolicies.startOnDaemonStart(unlessStopped, true)).isFalse();
        assertThat(RestartPolicies.startOnDaemonStart(unlessStopped, false)).isTrue();
        assertThat(RestartPolicies.startOnDaemonStart(onFailure2, false)).isFalse();
        assertThat(RestartPolicies.nextDelay(null, Duration.ZERO)).isEqualTo(Duration.ofMillis(100));
        assertThat(RestartPolicies.nextDelay(Duration.ofMillis(100), Duration.ZERO)).isEqualTo(Duration.ofMillis(200));
        assertThat(StopSignals.parse("SIGKILL")).isEqualTo(9);
        assertThat(StopSignals.parse("term")).isEqualTo(15);
        assertThatThrownBy(() -> RestartPolicies.validate(new HostConfig.RestartPolicy("sometimes", 0), false))
                .isInstanceOf(ContainerException.class);
    }
}
