package io.berth.build;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A parsed Dockerfile.
 *
 * @param metaArgs ARG instructions before the first FROM: usable in FROM lines only
 * @param stages   the stages, in order (at least one)
 * @param escape   the escape character ({@code \} or the {@code # escape=} directive's)
 * @param warnings notes for the build output: ignored directives, empty continuation lines
 */
public record Dockerfile(List<Instruction.Arg> metaArgs, List<Stage> stages, char escape, List<String> warnings) {
    public Dockerfile {
        metaArgs = List.copyOf(metaArgs);
        stages = List.copyOf(stages);
        warnings = List.copyOf(warnings);
    }

    /** The stage with this AS name (case-insensitive), if any. */
    public Optional<Stage> stageNamed(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return stages.stream().filter(s -> n.equals(s.name())).findFirst();
    }

    /** The last stage, built when no target is given. */
    public Stage lastStage() {
        return stages.getLast();
    }
}
