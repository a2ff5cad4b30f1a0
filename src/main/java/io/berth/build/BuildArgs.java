package io.berth.build;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Docker's build-arg rules for one build.
 *
 * <ul>
 *   <li>ARGs before the first FROM (meta ARGs) are usable in FROM lines only
 *       ({@link #metaEnv()}); a stage sees one only if it declares it again with
 *       {@code ARG NAME} (no default: it takes the meta value).</li>
 *   <li>In a stage an ARG is usable from its declaration on; its value is the
 *       {@code --build-arg} if given, else its default (expanded with what is in force at
 *       that line), else the meta ARG's value.</li>
 *   <li>ENV of the same name wins over an ARG ({@link StageArgs#env}).</li>
 *   <li>The proxy args (HTTP_PROXY ...) reach RUN when given, without a declaration.</li>
 *   <li>The platform args (TARGETPLATFORM, TARGETARCH, BUILDPLATFORM ...) are set in the
 *       meta scope, and in a stage when declared.</li>
 *   <li>A build-arg that no ARG declared gives the warning of {@link #unconsumedWarning()}.</li>
 * </ul>
 */
public final class BuildArgs {
    /** Args usable without an ARG line (their values are kept out of the image history by Docker). */
    public static final Set<String> PREDEFINED = Set.of("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
            "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy");

    private final Map<String, String> options;
    private final Map<String, String> automatic;
    private final Map<String, String> meta = new LinkedHashMap<>();
    private final Set<String> consumed = new HashSet<>();

    /**
     * @param options   the {@code buildargs} of the request; a null value means "not set"
     * @param automatic automatic args such as {@link #platformArgs}; may be empty
     */
    public BuildArgs(Map<String, String> options, Map<String, String> automatic) {
        this.options = Collections.unmodifiableMap(new HashMap<>(options));
        this.automatic = Map.copyOf(automatic);
    }

    /** The platform args for a build on {@code build} for {@code target}, each given as os/arch[/variant]. */
    public static Map<String, String> platformArgs(String build, String target) {
        Map<String, String> out = new LinkedHashMap<>();
        put(out, "BUILD", build);
        put(out, "TARGET", target);
        return out;
    }

    private static void put(Map<String, String> out, String prefix, String platform) {
        String[] p = platform.split("/");
        out.put(prefix + "PLATFORM", platform);
        out.put(prefix + "OS", p[0]);
        out.put(prefix + "ARCH", p.length > 1 ? p[1] : "");
        out.put(prefix + "VARIANT", p.length > 2 ? p[2] : "");
    }

    /** Declares the ARGs before the first FROM, in order; defaults see the meta ARGs before them. */
    public void declareMetaArgs(List<Instruction.Arg> metaArgs, char escape) throws DockerfileParseException {
        for (Instruction.Arg arg : metaArgs) {
            for (Instruction.ArgDecl d : arg.args()) {
                String name = VariableExpander.word(d.name(), metaEnv(), escape, arg.line());
                consumed.add(name);
                String value;
                if (options.get(name) != null) {
                    value = options.get(name);
                } else if (d.defaultValue() != null) {
                    value = VariableExpander.word(d.defaultValue(), metaEnv(), escape, arg.line());
                } else {
                    value = automatic.get(name);
                }
                meta.put(name, value);
                checkTotal(meta, arg.line());
            }
        }
    }

    /**
     * Refuses ARG values that add up past one expansion's cap: each ARG may reuse the last
     * ones, so a short chain of them would otherwise hold gigabytes.
     */
    private static void checkTotal(Map<String, String> values, int line) throws DockerfileParseException {
        long total = 0;
        for (String v : values.values()) total += v == null ? 0 : v.length();
        if (total > ShellWords.MAX_EXPANSION) {
            throw new DockerfileParseException(line, "ARG values exceed " + ShellWords.MAX_EXPANSION + " bytes in all");
        }
    }

    /** What FROM lines are expanded with: automatic args, given proxy args, meta ARGs with values. */
    public Map<String, String> metaEnv() {
        Map<String, String> env = new LinkedHashMap<>(automatic);
        for (String p : PREDEFINED) {
            if (options.get(p) != null) env.put(p, options.get(p));
        }
        meta.forEach((k, v) -> {
            if (v != null) env.put(k, v);
        });
        return env;
    }

    /** A fresh scope for one stage. */
    public StageArgs newStage() {
        return new StageArgs();
    }

    /** Build-args no ARG declared (the proxy args excepted), sorted. */
    public List<String> unconsumed() {
        Set<String> left = new TreeSet<>();
        for (String k : options.keySet()) {
            if (!consumed.contains(k) && !PREDEFINED.contains(k)) left.add(k);
        }
        return new ArrayList<>(left);
    }

    /** Docker's warning for build-args no ARG declared: {@code [Warning] One or more build-args [foo] were not consumed}. */
    public Optional<String> unconsumedWarning() {
        List<String> left = unconsumed();
        if (left.isEmpty()) return Optional.empty();
        return Optional.of("[Warning] One or more build-args [" + String.join(" ", left) + "] were not consumed");
    }

    /** The ARGs in force in one stage. */
    public final class StageArgs {
        private final Map<String, String> declared = new LinkedHashMap<>();

        private StageArgs() {}

        /**
         * Applies an ARG line of this stage. Defaults are expanded one after the other, so
         * {@code ARG a=1 b=$a} gives b=1; {@code configEnv} is the stage's ENV at this line.
         */
        public void declare(Instruction.Arg arg, Map<String, String> configEnv, char escape) throws DockerfileParseException {
            for (Instruction.ArgDecl d : arg.args()) {
                String name = VariableExpander.word(d.name(), env(configEnv), escape, arg.line());
                consumed.add(name);
                String value;
                if (options.get(name) != null) {
                    value = options.get(name);
                } else if (d.defaultValue() != null) {
                    value = VariableExpander.word(d.defaultValue(), env(configEnv), escape, arg.line());
                } else if (meta.get(name) != null) {
                    value = meta.get(name);
                } else {
                    value = automatic.get(name);
                }
                declared.put(name, value);
                checkTotal(declared, arg.line());
            }
        }

        /** True once an ARG line of this stage declared the name. */
        public boolean isDeclared(String name) {
            return declared.containsKey(name);
        }

        /** The declared ARGs that have a value, plus the given proxy args: what RUN gets besides ENV. */
        public Map<String, String> values() {
            Map<String, String> out = new LinkedHashMap<>();
            for (String p : PREDEFINED) {
                if (options.get(p) != null) out.put(p, options.get(p));
            }
            declared.forEach((k, v) -> {
                if (v != null) out.put(k, v);
            });
            return out;
        }

        /** The environment for expansion and for RUN: {@link #values()} overlaid by the stage's ENV. */
        public Map<String, String> env(Map<String, String> configEnv) {
            Map<String, String> out = values();
            out.putAll(configEnv);
            return out;
        }
    }
}
