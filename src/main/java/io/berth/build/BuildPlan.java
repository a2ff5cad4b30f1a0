package io.berth.build;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which stages a build needs and in which order: the target stage (by {@code --target}
 * name, else the last), and, transitively, the stages it names in {@code FROM <stage>}
 * (an earlier stage) and {@code COPY --from=<stage name or index>}. Stages nothing needs
 * are left out, as BuildKit does. A name that is no stage is an image.
 *
 * @param stages the needed stages, each after those it depends on (file order otherwise)
 * @param target the stage whose result is the image
 */
public record BuildPlan(List<PlannedStage> stages, PlannedStage target) {
    public BuildPlan {
        stages = List.copyOf(stages);
    }

    /**
     * One needed stage.
     *
     * @param stage       the stage as parsed
     * @param from        its FROM with image and platform expanded by the meta ARGs
     * @param baseStage   the index of the stage FROM names, or null when FROM names an image
     *                    (or {@code scratch})
     * @param dependsOn   indexes of the stages it needs (base and COPY --from), sorted
     * @param copyImages  images named by COPY --from, in order
     */
    public record PlannedStage(Stage stage, Instruction.From from, Integer baseStage, Set<Integer> dependsOn,
                               List<String> copyImages) {
        public PlannedStage {
            dependsOn = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(dependsOn));
            copyImages = List.copyOf(copyImages);
        }

        public int index() {
            return stage.index();
        }

        /** True when FROM is {@code scratch}: the stage starts from an empty file system. */
        public boolean fromScratch() {
            return baseStage == null && from.image().equalsIgnoreCase("scratch");
        }
    }

    /** What {@code COPY --from=X} refers to: a stage (index) or an image reference. */
    public record CopyFrom(Integer stageIndex, String image) {
        public boolean isStage() {
            return stageIndex != null;
        }
    }

    /**
     * Plans a build.
     *
     * @param target the {@code --target} stage name, or null/empty for the last stage
     * @param args   the build's args with the meta ARGs declared ({@link BuildArgs#declareMetaArgs})
     */
    public static BuildPlan plan(Dockerfile dockerfile, String target, BuildArgs args)
            throws BuildException, DockerfileParseException {
        List<Stage> all = dockerfile.stages();
        Stage targetStage;
        if (target == null || target.isEmpty()) {
            targetStage = dockerfile.lastStage();
        } else {
            targetStage = dockerfile.stageNamed(target)
                    .orElseThrow(() -> new BuildException("failed to reach build target " + target + " in Dockerfile"));
        }
        Map<String, String> metaEnv = args.metaEnv();
        char escape = dockerfile.escape();
        Map<Integer, PlannedStage> planned = new HashMap<>();
        for (Stage s : all) {
            Instruction.From from = VariableExpander.expandFrom(s.from(), metaEnv, escape);
            Integer base = null;
            String baseName = from.image().toLowerCase(Locale.ROOT);
            for (Stage earlier : all.subList(0, s.index())) {
                if (baseName.equals(earlier.name())) base = earlier.index();
            }
            Set<Integer> deps = new TreeSet<>();
            if (base != null) deps.add(base);
            List<String> images = new ArrayList<>();
            for (Instruction in : s.instructions()) {
                if (in instanceof Instruction.Copy c && c.from() != null) {
                    String value = VariableExpander.word(c.from(), metaEnv, escape, c.line());
                    CopyFrom ref = resolveCopyFrom(dockerfile, value, s.index(), c.line());
                    if (ref.isStage()) deps.add(ref.stageIndex()); else images.add(ref.image());
                }
            }
            planned.put(s.index(), new PlannedStage(s, from, base, deps, images));
        }
        LinkedHashSet<Integer> order = new LinkedHashSet<>();
        visit(targetStage.index(), planned, order, new LinkedHashSet<>());
        List<PlannedStage> stages = new ArrayList<>();
        for (int i : order) stages.add(planned.get(i));
        return new BuildPlan(stages, planned.get(targetStage.index()));
    }

    private static void visit(int index, Map<Integer, PlannedStage> planned, LinkedHashSet<Integer> done,
                              LinkedHashSet<Integer> path) throws BuildException {
        if (done.contains(index)) return;
        PlannedStage p = planned.get(index);
        if (!path.add(index)) {
            throw new BuildException("circular dependency detected on stage: " + p.stage().displayName());
        }
        for (int dep : p.dependsOn()) visit(dep, planned, done, path);
        path.remove(index);
        done.add(index);
    }

    /**
     * Resolves a (expanded) {@code COPY --from} value in stage {@code current}: a number is
     * a stage index and must be an earlier stage; a stage name (case-insensitive) is that
     * stage, which must not be the current one; anything else is an image.
     */
    public static CopyFrom resolveCopyFrom(Dockerfile dockerfile, String value, int current, int line)
            throws DockerfileParseException {
        if (value.isEmpty()) throw new DockerfileParseException(line, "COPY --from needs a stage name, index or image");
        if (value.chars().allMatch(Character::isDigit)) {
            int index;
            try {
                index = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                index = Integer.MAX_VALUE;
            }
            if (index >= current) {
                throw new DockerfileParseException(line, "invalid from flag value " + value
                        + ": refers to current or future build stage");
            }
            return new CopyFrom(index, null);
        }
        String name = value.toLowerCase(Locale.ROOT);
        for (Stage s : dockerfile.stages()) {
            if (name.equals(s.name())) {
                if (s.index() == current) {
                    throw new DockerfileParseException(line, "circular dependency detected on stage: " + s.name());
                }
                return new CopyFrom(s.index(), null);
            }
        }
        return new CopyFrom(null, value);
    }

    /**
     * The M of {@code Step N/M : ...}: the meta ARGs, then for each needed stage its FROM and
     * its instructions (the classic builder numbers steps this way).
     */
    public int stepCount(Dockerfile dockerfile) {
        int n = dockerfile.metaArgs().size();
        for (PlannedStage p : stages) n += 1 + p.stage().instructions().size();
        return n;
    }

    /** The planned stage with this index, if the build needs it. */
    public PlannedStage stage(int index) {
        for (PlannedStage p : stages) {
            if (p.index() == index) return p;
        }
        return null;
    }
}
