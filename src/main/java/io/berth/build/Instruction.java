package io.berth.build;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One Dockerfile instruction as written: words are raw (quotes and variables not yet
 * processed) wherever Docker substitutes variables, so that the builder can expand them
 * with the environment in force at that step ({@link VariableExpander}). Each carries its
 * {@link Source}: line numbers and the original text for {@code Step N/M : ...}.
 */
public sealed interface Instruction {

    Source source();

    /** The keyword in upper case, e.g. {@code RUN}. */
    String keyword();

    default int line() {
        return source().line();
    }

    /** Where an instruction came from: first and last line (1-based) and the joined logical line. */
    record Source(int line, int endLine, String original) {
        public Source {
            Objects.requireNonNull(original, "original");
        }
    }

    /**
     * A command line of RUN, CMD, ENTRYPOINT or HEALTHCHECK CMD. Exec (JSON) form: the
     * arguments as given. Shell form: one element, the command text, to be run with the
     * stage's SHELL.
     */
    record CommandLine(List<String> args, boolean shellForm) {
        public CommandLine {
            args = List.copyOf(args);
        }

        /** The argv to run: exec form as is, shell form as {@code shell + [text]}. */
        public List<String> withShell(List<String> shell) {
            if (!shellForm) return args;
            List<String> out = new ArrayList<>(shell);
            out.addAll(args);
            return List.copyOf(out);
        }
    }

    /** A {@code key=value} of ENV or LABEL, raw (quotes and variables unprocessed until expanded). */
    record KeyValue(String key, String value) {}

    /** One name of an ARG, with its default (raw) or null when it has none. */
    record ArgDecl(String name, String defaultValue) {}

    /** A health check: test {@code ["NONE"]}, {@code ["CMD", args...]} or {@code ["CMD-SHELL", text]}. Zero means the default. */
    record HealthConfig(List<String> test, Duration interval, Duration timeout, Duration startPeriod,
                        Duration startInterval, int retries) {
        public HealthConfig {
            test = List.copyOf(test);
        }
    }

    /** FROM: starts a stage. {@code stageName} is lower case or null; {@code platform} null unless given. */
    record From(Source source, String image, String stageName, String platform) implements Instruction {
        public String keyword() {
            return "FROM";
        }
    }

    /** RUN; {@code network} is null, {@code default}, {@code none} or {@code host}. */
    record Run(Source source, CommandLine command, String network) implements Instruction {
        public String keyword() {
            return "RUN";
        }
    }

    record Cmd(Source source, CommandLine command) implements Instruction {
        public String keyword() {
            return "CMD";
        }
    }

    /** ENTRYPOINT; {@code ENTRYPOINT []} is an empty exec form, which clears it. */
    record Entrypoint(Source source, CommandLine command) implements Instruction {
        public String keyword() {
            return "ENTRYPOINT";
        }
    }

    record Shell(Source source, List<String> shell) implements Instruction {
        public Shell {
            shell = List.copyOf(shell);
        }

        public String keyword() {
            return "SHELL";
        }
    }

    record Env(Source source, List<KeyValue> pairs) implements Instruction {
        public Env {
            pairs = List.copyOf(pairs);
        }

        public String keyword() {
            return "ENV";
        }
    }

    record Label(Source source, List<KeyValue> pairs) implements Instruction {
        public Label {
            pairs = List.copyOf(pairs);
        }

        public String keyword() {
            return "LABEL";
        }
    }

    record Arg(Source source, List<ArgDecl> args) implements Instruction {
        public Arg {
            args = List.copyOf(args);
        }

        public String keyword() {
            return "ARG";
        }
    }

    record Workdir(Source source, String path) implements Instruction {
        public String keyword() {
            return "WORKDIR";
        }
    }

    record User(Source source, String user) implements Instruction {
        public String keyword() {
            return "USER";
        }
    }

    /** EXPOSE: raw words; after expansion {@link #ports()} gives {@code 80/tcp}-style keys. */
    record Expose(Source source, List<String> specs) implements Instruction {
        public Expose {
            specs = List.copyOf(specs);
        }

        public String keyword() {
            return "EXPOSE";
        }

        /** The ports as {@code port/proto}, ranges expanded, in order; call after expansion. */
        public List<String> ports() throws DockerfileParseException {
            try {
                return ExposedPorts.parse(specs);
            } catch (IllegalArgumentException e) {
                throw new DockerfileParseException(line(), e.getMessage());
            }
        }
    }

    record Volume(Source source, List<String> paths) implements Instruction {
        public Volume {
            paths = List.copyOf(paths);
        }

        public String keyword() {
            return "VOLUME";
        }
    }

    /**
     * COPY. Sources are patterns relative to the context (or to {@code from}'s root):
     * wildcards are kept for {@link ContextSources#resolve}. {@code from}, {@code chown},
     * {@code chmod} are null unless given; {@code --link} is accepted and has no effect.
     */
    record Copy(Source source, List<String> sources, String destination, String from, String chown, String chmod,
                boolean link) implements Instruction {
        public Copy {
            sources = List.copyOf(sources);
        }

        public String keyword() {
            return "COPY";
        }
    }

    /** ADD: like COPY, sources may be URLs or local archives; {@code checksum} null unless given. */
    record Add(Source source, List<String> sources, String destination, String chown, String chmod, String checksum,
               boolean keepGitDir, boolean link) implements Instruction {
        public Add {
            sources = List.copyOf(sources);
        }

        public String keyword() {
            return "ADD";
        }
    }

    record StopSignal(Source source, String signal) implements Instruction {
        public String keyword() {
            return "STOPSIGNAL";
        }
    }

    record Healthcheck(Source source, HealthConfig health) implements Instruction {
        public String keyword() {
            return "HEALTHCHECK";
        }
    }

    /**
     * ONBUILD: {@code expression} is the trigger's text as stored in the image config's
     * {@code OnBuild}; {@code trigger} the same parsed (never ONBUILD, FROM or MAINTAINER).
     */
    record OnBuild(Source source, String expression, Instruction trigger) implements Instruction {
        public String keyword() {
            return "ONBUILD";
        }
    }

    record Maintainer(Source source, String maintainer) implements Instruction {
        public String keyword() {
            return "MAINTAINER";
        }
    }
}
