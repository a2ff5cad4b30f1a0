package io.berth.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The real docker CLI pointed at a daemon, with its own config dir so the user's is never read. */
public final class DockerCli {
    private final String host;
    private final Path configDir;
    private final Map<String, String> extraEnv;

    public DockerCli(String host, Path configDir) {
        this(host, configDir, Map.of());
    }

    private DockerCli(String host, Path configDir, Map<String, String> extraEnv) {
        this.host = host;
        this.configDir = configDir;
        this.extraEnv = extraEnv;
    }

    public DockerCli withEnv(Map<String, String> env) {
        return new DockerCli(host, configDir, env);
    }

    public record Result(int exitCode, String stdout, String stderr) {
        public String out() {
            return stdout;
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    public Result run(String... args) throws IOException, InterruptedException {
        return run(Duration.ofSeconds(60), args);
    }

    public Result run(Duration timeout, String... args) throws IOException, InterruptedException {
        Process p = start(args);
        p.getOutputStream().close();
        var stdout = p.getInputStream();
        var stderr = p.getErrorStream();
        var errText = new StringBuilder();
        Thread errReader = Thread.ofVirtual().start(() -> {
            try {
                errText.append(new String(stderr.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // process gone
            }
        });
        String out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException("docker " + String.join(" ", args) + " did not finish in " + timeout);
        }
        errReader.join();
        return new Result(p.exitValue(), out, errText.toString());
    }

    /** Starts the CLI and leaves its streams to the caller. */
    public Process start(String... args) throws IOException {
        Files.createDirectories(configDir);
        List<String> command = new ArrayList<>();
        command.add("docker");
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("DOCKER_TLS_VERIFY");
        pb.environment().remove("DOCKER_CERT_PATH");
        pb.environment().remove("DOCKER_CONTEXT");
        if (host != null) pb.environment().put("DOCKER_HOST", host);
        else pb.environment().remove("DOCKER_HOST");
        pb.environment().put("DOCKER_CONFIG", configDir.toString());
        pb.environment().putAll(extraEnv);
        return pb.start();
    }
}
