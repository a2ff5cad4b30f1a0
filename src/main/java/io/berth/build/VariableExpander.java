package io.berth.build;

import io.berth.build.Instruction.KeyValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Substitutes variables in the instructions where Docker does: ADD, COPY (sources,
 * destination, --from, --chown, --chmod, ADD's --checksum), ENV and LABEL (keys and
 * values), EXPOSE, STOPSIGNAL, USER, VOLUME, WORKDIR; FROM with the meta ARGs only
 * ({@link #expandFrom}). RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD
 * come back unchanged: the shell or the child build expands those. ARG is expanded by
 * {@link BuildArgs.StageArgs#declare}, since its values depend on the build-args.
 *
 * <p>The whole instruction is expanded with the environment before it: {@code ENV a=1 b=$a}
 * gives b the value a had before this ENV, as Docker does.
 */
public final class VariableExpander {
    private VariableExpander() {}

    /**
     * Returns the instruction with its words expanded.
     *
     * @param env    the environment at this step: the stage's ARG values overlaid by its ENV
     *               ({@link BuildArgs.StageArgs#env})
     * @param escape the Dockerfile's escape character ({@link Dockerfile#escape()})
     */
    public static Instruction expand(Instruction in, Map<String, String> env, char escape) throws DockerfileParseException {
        Expander x = new Expander(env, escape, in.line());
        return switch (in) {
            case Instruction.Env e -> new Instruction.Env(e.source(), x.pairs(e.pairs()));
            case Instruction.Label l -> new Instruction.Label(l.source(), x.pairs(l.pairs()));
            case Instruction.Copy c -> new Instruction.Copy(c.source(), x.all(c.sources()), x.word(c.destination()),
                    x.word(c.from()), x.word(c.chown()), x.word(c.chmod()), c.link());
            case Instruction.Add a -> new Instruction.Add(a.source(), x.all(a.sources()), x.word(a.destination()),
                    x.word(a.chown()), x.word(a.chmod()), x.word(a.checksum()), a.keepGitDir(), a.link());
            case Instruction.Expose e -> {
                List<String> ports = new ArrayList<>();
                for (String p : e.specs()) {
                    for (String f : x.word(p).split("\\s+")) {
                        if (!f.isEmpty()) ports.add(f);
                    }
                }
                yield new Instruction.Expose(e.source(), ports);
            }
            case Instruction.StopSignal s -> new Instruction.StopSignal(s.source(), x.word(s.signal()));
            case Instruction.User u -> new Instruction.User(u.source(), x.word(u.user()));
            case Instruction.Workdir w -> new Instruction.Workdir(w.source(), x.word(w.path()));
            case Instruction.Volume v -> {
                List<String> paths = x.all(v.paths());
                for (String p : paths) {
                    if (p.isBlank()) throw new DockerfileParseException(v.line(), "VOLUME specified can not be an empty string");
                }
                yield new Instruction.Volume(v.source(), paths);
            }
            case Instruction.From f -> expandFrom(f, env, escape);
            default -> in;
        };
    }

    /** FROM's image and --platform expanded with the meta ARGs ({@link BuildArgs#metaEnv()}). */
    public static Instruction.From expandFrom(Instruction.From from, Map<String, String> metaEnv, char escape)
            throws DockerfileParseException {
        Expander x = new Expander(metaEnv, escape, from.line());
        String image = x.word(from.image());
        if (image.isEmpty()) {
            throw new DockerfileParseException(from.line(), "base name (" + from.image() + ") should not be blank");
        }
        return new Instruction.From(from.source(), image, from.stageName(), x.word(from.platform()));
    }

    /** Expands one word, naming the line in errors. */
    public static String word(String word, Map<String, String> env, char escape, int line) throws DockerfileParseException {
        return new Expander(env, escape, line).word(word);
    }

    private record Expander(Map<String, String> env, char escape, int line) {
        String word(String w) throws DockerfileParseException {
            if (w == null) return null;
            try {
                return ShellWords.expand(w, env, escape);
            } catch (ExpansionException e) {
                throw new DockerfileParseException(line, "failed to process \"" + w + "\": " + e.getMessage());
            }
        }

        List<String> all(List<String> words) throws DockerfileParseException {
            List<String> out = new ArrayList<>(words.size());
            for (String w : words) out.add(word(w));
            return out;
        }

        List<KeyValue> pairs(List<KeyValue> pairs) throws DockerfileParseException {
            List<KeyValue> out = new ArrayList<>(pairs.size());
            for (KeyValue kv : pairs) out.add(new KeyValue(word(kv.key()), word(kv.value())));
            return out;
        }
    }
}
