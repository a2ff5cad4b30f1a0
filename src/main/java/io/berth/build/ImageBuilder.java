package io.berth.build;

import io.berth.archive.ScopedPath;
import io.berth.build.BuildPlan.PlannedStage;
import io.berth.content.ContentStore;
import io.berth.content.Digest;
import io.berth.image.ImageConfig;
import io.berth.image.ImageConfigBlob;
import io.berth.image.ImageLookup;
import io.berth.image.ImageRecord;
import io.berth.image.ImageReference;
import io.berth.image.ImageStore;
import io.berth.image.MediaTypes;
import io.berth.image.Platform;
import io.berth.runtime.AttachSession;
import io.berth.snapshot.LayerUnpacker;
import io.berth.snapshot.Mount;
import io.berth.snapshot.SnapshotException;
import io.berth.snapshot.Snapshotter;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Runs one classic build: the stages the plan needs, each instruction as Docker's classic
 * builder does it, every step an image (untagged) recorded in the {@link BuildCache}.
 *
 * <p>A step that changes files (RUN, COPY, ADD, WORKDIR) prepares a writable snapshot on
 * the stage's top layer, mounts it, does its work there, and turns the snapshot's upper
 * directory into the layer ({@link LayerDiff}): the tar goes to the content store and the
 * snapshot is committed under the new chain ID. A step that changed nothing adds no layer,
 * as does every metadata-only step (history {@code empty_layer}).
 */
final class ImageBuilder {
    private static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");
    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Builds builds;
    private final ImageStore store;
    private final Snapshotter snapshots;
    private final BuildRequest request;
    private final BuildContext context;
    private final BuildHost host;
    private final BuildOutput out;
    private final String buildId = randomHex(6);
    private final List<AutoCloseable> holds = new ArrayList<>();
    private final Map<Integer, StageRun> finished = new HashMap<>();
    private char escape;
    private int step;
    private int totalSteps;
    private List<ImageStore.Image> cacheSources; // --cache-from images found here, read once
    private int counter;

    ImageBuilder(Builds builds, BuildRequest request, BuildContext context, BuildHost host, BuildOutput out) {
        this.builds = builds;
        this.store = builds.store();
        this.snapshots = store.snapshots();
        this.request = request;
        this.context = context;
        this.host = host;
        this.out = out;
    }

    /** A stage's state: the image reached so far and what the Dockerfile set beside it. */
    private static final class StageRun {
        Digest imageId;
        ImageConfig image;
        ConfigDraft config;
        List<ImageRecord.Layer> layers = List.of();
        List<ImageConfig.History> history = List.of();
        String author;
        BuildArgs.StageArgs args;
        boolean cmdSet;
        int index;

        List<String> shell() {
            return config.shell == null || config.shell.isEmpty() ? DEFAULT_SHELL : config.shell;
        }

        Digest topChain() {
            return layers.isEmpty() ? null : layers.getLast().chainId();
        }
    }

    Digest run() throws Exception {
        try {
            return build();
        } finally {
            for (AutoCloseable h : holds) {
                try {
                    h.close();
                } catch (Exception ignored) {
                    // released
                }
            }
        }
    }

    private Digest build() throws Exception {
        Dockerfile dockerfile = DockerfileParser.parse(context.dockerfile());
        escape = dockerfile.escape();
        for (String w : dockerfile.warnings()) out.stream(w + "\n");
        Platform hostPlatform = Platform.host();
        String platformText = hostPlatform.os() + "/" + hostPlatform.architecture()
                + (hostPlatform.variant() == null ? "" : "/" + hostPlatform.variant());
        BuildArgs args = new BuildArgs(request.buildArgs(), BuildArgs.platformArgs(platformText, platformText));
        args.declareMetaArgs(dockerfile.metaArgs(), escape);
        BuildPlan plan = BuildPlan.plan(dockerfile, request.target(), args);
        totalSteps = plan.stepCount(dockerfile) + (request.labels().isEmpty() ? 0 : 1);
        for (Instruction.Arg a : dockerfile.metaArgs()) header(a.source().original());

        StageRun result = null;
        for (PlannedStage p : plan.stages()) {
            StageRun st = runStage(p, args, dockerfile);
            if (p == plan.target() && !request.labels().isEmpty()) {
                StringBuilder text = new StringBuilder("LABEL");
                for (var e : new TreeMap<>(request.labels()).entrySet()) text.append(' ').append(e.getKey()).append('=').append(quoteIfNeeded(e.getValue()));
                header(text.toString());
                if (st.config.labels == null) st.config.labels = new LinkedHashMap<>();
                st.config.labels.putAll(request.labels());
                metadata(st, text.toString());
            }
            finished.put(p.index(), st);
            if (p == plan.target()) result = st;
        }
        if (result == null || result.imageId == null) throw new BuildException("No image was generated. Is your Dockerfile empty?");
        args.unconsumedWarning().ifPresent(w -> out.stream(w + "\n"));
        Digest id = result.imageId;
        builds.cache().markResult(id);
        out.imageId(id);
        out.stream("Successfully built " + id.hex().substring(0, 12) + "\n");
        for (String t : request.tags()) {
            ImageReference ref = ImageReference.parse(t).withDefaultTag();
            host.tag(id, ref);
            out.stream("Successfully tagged " + ref.familiarString() + "\n");
        }
        return id;
    }

    private void header(String original) throws BuildException {
        if (out.cancelled()) throw new BuildException("the build was cancelled: the client went away");
        step++;
        out.stream("Step " + step + "/" + totalSteps + " : " + original + "\n");
    }

    // ================================================================ stages

    private StageRun runStage(PlannedStage p, BuildArgs args, Dockerfile dockerfile) throws Exception {
        header(p.stage().from().source().original());
        Instruction.From from = p.from();
        checkPlatform(from.platform());
        StageRun st = new StageRun();
        st.index = p.index();
        st.args = args.newStage();
        if (p.baseStage() != null) {
            StageRun base = finished.get(p.baseStage());
            if (base == null) throw new BuildException("stage " + p.baseStage() + " was not built");
            st.imageId = base.imageId;
            st.image = base.image;
            st.config = ConfigDraft.of(base.config.build());
            st.layers = base.layers;
            st.history = base.history;
            st.author = base.author;
        } else if (p.fromScratch()) {
            Platform h = Platform.host();
            st.image = new ImageConfig(h.architecture(), h.os(), null, null, h.variant(), null, null, null, null, null, null, null, null, null);
            st.config = ConfigDraft.of(null);
        } else {
            adopt(st, baseImage(from.image(), request.pull()));
        }
        if (st.imageId != null) out.stream(" ---> " + st.imageId.hex().substring(0, 12) + "\n");
        List<String> triggers = st.config.onBuild == null ? List.of() : List.copyOf(st.config.onBuild);
        if (!triggers.isEmpty()) {
            st.config.onBuild = null;
            out.stream("# Executing " + triggers.size() + " build trigger" + (triggers.size() == 1 ? "" : "s") + "\n");
            for (String t : triggers) {
                Instruction in = DockerfileParser.parseInstruction(t, from.line(), escape);
                dispatch(st, in, dockerfile);
            }
        }
        for (Instruction in : p.stage().instructions()) {
            header(in.source().original());
            dispatch(st, in, dockerfile);
        }
        return st;
    }

    private void checkPlatform(String platform) throws BuildException {
        if (platform == null || platform.isEmpty()) return;
        Platform want;
        try {
            want = Platform.parse(platform);
        } catch (IllegalArgumentException e) {
            throw new BuildException(e.getMessage());
        }
        Platform h = Platform.host();
        if (!want.os().equals(h.os()) || !want.architecture().equals(h.architecture())) {
            throw new BuildException("platform " + platform + " is not supported: this daemon builds for " + h.os() + "/" + h.architecture()
                    + " only (no emulation)");
        }
    }

    /** A FROM or COPY --from image: the local one, or pulled when missing (or when {@code pull}). */
    private ImageStore.Image baseImage(String name, boolean pull) throws IOException, BuildException {
        ImageStore.Image img = null;
        if (ImageLookup.isFullId(name)) {
            img = store.resolve(name);
        } else {
            ImageReference ref;
            try {
                ref = ImageReference.parse(name);
            } catch (RuntimeException e) {
                throw new BuildException("invalid reference format: " + name + ": " + e.getMessage());
            }
            if (!pull) img = store.find(ref).orElse(null);
            if (img == null && !pull && ref.digestOrNull() == null) {
                try {
                    img = store.resolve(name); // a short ID
                } catch (RuntimeException ignored) {
                    // not here
                }
            }
            if (img == null) img = host.pull(ref, null);
        }
        holds.add(store.hold(img.record().chainIds()));
        return img;
    }

    private void adopt(StageRun st, ImageStore.Image img) {
        holds.add(store.hold(img.record().chainIds()));
        st.imageId = img.id();
        st.image = img.config();
        st.config = ConfigDraft.of(img.config().config());
        st.layers = img.record().layers();
        st.history = img.config().history() == null ? List.of() : img.config().history();
        st.author = img.config().author();
    }

    // ================================================================ instructions

    private void dispatch(StageRun st, Instruction raw, Dockerfile dockerfile) throws Exception {
        if (raw instanceof Instruction.Arg a) {
            st.args.declare(a, st.config.envMap(), escape);
            StringBuilder text = new StringBuilder("ARG");
            for (Instruction.ArgDecl d : a.args()) {
                text.append(' ').append(d.name());
                if (d.defaultValue() != null) text.append('=').append(d.defaultValue());
            }
            metadata(st, text.toString());
            return;
        }
        Instruction in = VariableExpander.expand(raw, st.args.env(st.config.envMap()), escape);
        switch (in) {
            case Instruction.Env e -> {
                StringBuilder text = new StringBuilder("ENV");
                for (Instruction.KeyValue kv : e.pairs()) {
                    st.config.setEnv(kv.key(), kv.value());
                    text.append(' ').append(kv.key()).append('=').append(kv.value());
                }
                st.config.checkSize();
                metadata(st, text.toString());
            }
            case Instruction.Label l -> {
                StringBuilder text = new StringBuilder("LABEL");
                if (st.config.labels == null) st.config.labels = new LinkedHashMap<>();
                for (Instruction.KeyValue kv : l.pairs()) {
                    st.config.labels.put(kv.key(), kv.value());
                    text.append(' ').append(kv.key()).append('=').append(kv.value());
                }
                st.config.checkSize();
                metadata(st, text.toString());
            }
            case Instruction.Maintainer m -> {
                st.author = m.maintainer();
                metadata(st, "MAINTAINER " + m.maintainer());
            }
            case Instruction.Expose e -> {
                List<String> ports = e.ports();
                if (st.config.exposedPorts == null) st.config.exposedPorts = new LinkedHashMap<>();
                for (String port : ports) st.config.exposedPorts.put(port, Map.of());
                metadata(st, "EXPOSE " + String.join(" ", ports));
            }
            case Instruction.Volume v -> {
                if (st.config.volumes == null) st.config.volumes = new LinkedHashMap<>();
                for (String path : v.paths()) st.config.volumes.put(path, Map.of());
                metadata(st, "VOLUME [" + String.join(" ", v.paths()) + "]");
            }
            case Instruction.User u -> {
                st.config.user = u.user();
                metadata(st, "USER " + u.user());
            }
            case Instruction.StopSignal s -> {
                st.config.stopSignal = s.signal();
                metadata(st, "STOPSIGNAL " + s.signal());
            }
            case Instruction.Cmd c -> {
                st.config.cmd = c.command().withShell(st.shell());
                st.cmdSet = true;
                metadata(st, "CMD " + goQuote(st.config.cmd));
            }
            case Instruction.Entrypoint e -> {
                List<String> ep = e.command().withShell(st.shell());
                st.config.entrypoint = ep.isEmpty() ? null : ep;
                if (!st.cmdSet) st.config.cmd = null;
                metadata(st, "ENTRYPOINT " + goQuote(ep));
            }
            case Instruction.Shell s -> {
                st.config.shell = s.shell();
                metadata(st, "SHELL " + goQuote(s.shell()));
            }
            case Instruction.Healthcheck h -> {
                Instruction.HealthConfig c = h.health();
                st.config.healthcheck = new ImageConfig.HealthConfig(c.test(), nanos(c.interval()), nanos(c.timeout()), nanos(c.startPeriod()),
                        nanos(c.startInterval()), c.retries() == 0 ? null : c.retries());
                metadata(st, "HEALTHCHECK " + healthText(c));
            }
            case Instruction.OnBuild o -> {
                if (st.config.onBuild == null) st.config.onBuild = new ArrayList<>();
                st.config.onBuild.add(o.expression());
                metadata(st, "ONBUILD " + o.expression());
            }
            case Instruction.Workdir w -> workdir(st, w.path());
            case Instruction.Run r -> runStep(st, r);
            case Instruction.Copy c -> copyStep(st, c.sources(), c.destination(), c.from(), c.chown(), c.chmod(), false, dockerfile);
            case Instruction.Add a -> copyStep(st, a.sources(), a.destination(), null, a.chown(), a.chmod(), true, dockerfile);
            case Instruction.From f -> throw new BuildException("FROM inside a stage");
            case Instruction.Arg a -> throw new IllegalStateException("handled above");
        }
    }

    private static Long nanos(java.time.Duration d) {
        return d == null || d.isZero() ? null : d.toNanos();
    }

    private static String healthText(Instruction.HealthConfig c) {
        return "&{" + goQuote(c.test()) + " \"" + goDuration(c.interval()) + "\" \"" + goDuration(c.timeout()) + "\" \""
                + goDuration(c.startPeriod()) + "\" \"" + goDuration(c.startInterval()) + "\" '\\x" + String.format("%02x", c.retries()) + "'}";
    }

    private static String goDuration(java.time.Duration d) {
        if (d == null || d.isZero()) return "0s";
        if (d.toMillis() % 1000 == 0) {
            long s = d.toSeconds();
            if (s >= 60) return (s / 3600 > 0 ? s / 3600 + "h" : "") + ((s % 3600) / 60) + "m" + (s % 60) + "s";
            return s + "s";
        }
        return d.toMillis() + "ms";
    }

    /** Go's {@code %q} of a string slice: {@code ["a" "b"]}. */
    static String goQuote(List<String> words) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < words.size(); i++) {
            if (i > 0) b.append(' ');
            b.append('"');
            for (char c : words.get(i).toCharArray()) {
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\t' -> b.append("\\t");
                    case '\r' -> b.append("\\r");
                    default -> {
                        if (c < 0x20) b.append(String.format("\\x%02x", (int) c)); else b.append(c);
                    }
                }
            }
            b.append('"');
        }
        return b.append(']').toString();
    }

    private static String quoteIfNeeded(String v) {
        return v.isEmpty() || v.chars().anyMatch(c -> Character.isWhitespace(c) || c == '"') ? "\"" + v.replace("\"", "\\\"") + "\"" : v;
    }

    // ================================================================ metadata

    /** A step that changes only the config: a new image with an empty-layer history entry, cached. */
    private void metadata(StageRun st, String text) throws IOException {
        String createdBy = String.join(" ", st.shell()) + " #(nop)  " + text;
        String key = BuildCache.key(parentKey(st), "META", createdBy, List.of(configKey(st)));
        if (useCache(st, key)) return;
        commit(st, createdBy, null);
        builds.cache().put(key, st.imageId);
        out.stream(" ---> " + st.imageId.hex().substring(0, 12) + "\n");
    }

    /**
     * What the key must hold beyond the parent and the text: the config as this step leaves
     * it (ONBUILD triggers cleared, an ENTRYPOINT resetting CMD, a --label).
     */
    private static String configKey(StageRun st) {
        return new String(io.berth.image.ImageJson.toBytes(st.config.build()), StandardCharsets.UTF_8) + "\0" + (st.author == null ? "" : st.author);
    }

    private static String parentKey(StageRun st) {
        return st.imageId == null ? "scratch" : st.imageId.toString();
    }

    private boolean useCache(StageRun st, String key) {
        if (request.noCache()) return false;
        Digest hit = builds.cache().get(key);
        if (hit == null) return false;
        var img = store.get(hit);
        if (img.isEmpty()) return false;
        if (!fromCacheSources(img.get())) return false;
        boolean cmdSet = st.cmdSet;
        adopt(st, img.get());
        st.cmdSet = cmdSet;
        out.stream(" ---> Using cache\n");
        out.stream(" ---> " + hit.hex().substring(0, 12) + "\n");
        return true;
    }

    /**
     * With {@code --cache-from}, dockerd's classic builder takes a cached step only when its
     * image is an ancestor of one of those images (a missing one counts for none); an image
     * is taken as another's ancestor when its layers and history begin the other's.
     */
    private boolean fromCacheSources(ImageStore.Image hit) {
        if (request.cacheFrom() == null || request.cacheFrom().isEmpty()) return true;
        if (cacheSources == null) {
            cacheSources = new ArrayList<>();
            for (String name : request.cacheFrom()) {
                try {
                    cacheSources.add(store.resolve(name));
                } catch (RuntimeException e) {
                    // a missing or malformed name is no source; dockerd only logs it
                }
            }
        }
        for (ImageStore.Image source : cacheSources) {
            if (isAncestor(hit, source)) return true;
        }
        return false;
    }

    private static boolean isAncestor(ImageStore.Image a, ImageStore.Image b) {
        if (a.id().equals(b.id())) return true;
        List<?> la = a.record().layers();
        List<?> lb = b.record().layers();
        List<ImageConfig.History> ha = a.config().history() == null ? List.of() : a.config().history();
        List<ImageConfig.History> hb = b.config().history() == null ? List.of() : b.config().history();
        if (la.size() > lb.size() || ha.size() > hb.size()) return false;
        if (!lb.subList(0, la.size()).equals(la)) return false;
        for (int i = 0; i < ha.size(); i++) {
            if (!java.util.Objects.equals(ha.get(i).createdBy(), hb.get(i).createdBy())) return false;
        }
        return true;
    }

    /** Records the stage's next image: its config as it stands, plus {@code layer} when the step made one. */
    private void commit(StageRun st, String createdBy, ImageRecord.Layer layer) throws IOException {
        String now = Instant.now().toString();
        List<ImageRecord.Layer> layers = new ArrayList<>(st.layers);
        if (layer != null) layers.add(layer);
        List<ImageConfig.History> history = new ArrayList<>(st.history);
        history.add(new ImageConfig.History(now, createdBy, null, null, layer == null ? Boolean.TRUE : null));
        ImageConfig base = st.image;
        ImageConfig config = new ImageConfig(base.architecture(), base.os() == null ? "linux" : base.os(), base.osVersion(), base.osFeatures(),
                base.variant(), now, st.author, st.config.build(),
                ImageConfig.RootFs.layers(layers.stream().map(ImageRecord.Layer::diffId).toList()), history, null, null, null, null);
        ImageStore.Image img = store.add(ImageConfigBlob.of(config), layers, List.of());
        boolean cmdSet = st.cmdSet;
        adopt(st, img);
        st.cmdSet = cmdSet;
    }

    // ================================================================ WORKDIR

    private void workdir(StageRun st, String path) throws Exception {
        String abs = path.startsWith("/") ? path : (st.config.workingDir == null ? "/" : st.config.workingDir) + "/" + path;
        abs = normalize(abs);
        st.config.workingDir = abs;
        String text = "WORKDIR " + abs;
        String createdBy = String.join(" ", st.shell()) + " #(nop)  " + text;
        String key = BuildCache.key(parentKey(st), "WORKDIR", createdBy, List.of(configKey(st)));
        if (useCache(st, key)) return;
        String dir = abs;
        layerStep(st, key, createdBy, List.of(), root -> {
            Path p = ScopedPath.resolve(root, dir, true);
            if (!Files.isDirectory(p)) {
                makeDirs(root, dir);
            }
        });
    }

    private static void makeDirs(Path root, String dir) throws IOException {
        StringBuilder sofar = new StringBuilder();
        for (String c : dir.split("/")) {
            if (c.isEmpty()) continue;
            sofar.append('/').append(c);
            Path p = ScopedPath.resolve(root, sofar.toString(), true);
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(p);
                io.berth.sys.Syscalls.chmod(p, 0755);
            } else if (!Files.isDirectory(p)) {
                throw new IOException("cannot create the working directory " + dir + ": " + sofar + " is not a directory");
            }
        }
    }

    static String normalize(String path) {
        List<String> parts = new ArrayList<>();
        for (String c : path.split("/")) {
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (!parts.isEmpty()) parts.removeLast();
            } else {
                parts.add(c);
            }
        }
        return "/" + String.join("/", parts);
    }

    // ================================================================ RUN

    private void runStep(StageRun st, Instruction.Run r) throws Exception {
        List<String> argv = r.command().withShell(st.shell());
        Map<String, String> env = st.config.envMap();
        TreeMap<String, String> argsInUse = new TreeMap<>();
        Map<String, String> argValues = st.args.values();
        argValues.forEach((k, v) -> {
            if (!env.containsKey(k) && st.args.isDeclared(k)) argsInUse.put(k, v);
        });
        StringBuilder createdBy = new StringBuilder();
        if (!argsInUse.isEmpty()) {
            createdBy.append('|').append(argsInUse.size());
            argsInUse.forEach((k, v) -> createdBy.append(' ').append(k).append('=').append(v));
            createdBy.append(' ');
        }
        createdBy.append(String.join(" ", argv));
        String key = BuildCache.key(parentKey(st), "RUN", createdBy.toString(), List.of(configKey(st)));
        if (useCache(st, key)) return;

        String id = randomHex(32);
        String shortId = id.substring(0, 12);
        out.stream(" ---> Running in " + shortId + "\n");
        String network = r.network() == null || r.network().equals("default") ? request.networkMode() : r.network();
        List<String> runEnv = new ArrayList<>();
        Map<String, String> all = new LinkedHashMap<>();
        argValues.forEach((k, v) -> {
            if (!env.containsKey(k)) all.put(k, v);
        });
        all.putAll(env);
        all.putIfAbsent("PATH", DEFAULT_PATH);
        all.putIfAbsent("HOSTNAME", shortId);
        String workdir = st.config.workingDir == null ? "/" : st.config.workingDir;
        String user = st.config.user;
        layerStep(st, key, createdBy.toString(), BuildContainers.mountPoints(network), root -> {
            StageUsers.Identity who = StageUsers.read(root).user(user);
            Map<String, String> e = new LinkedHashMap<>(all);
            e.putIfAbsent("HOME", who.home() == null ? "/" : who.home());
            e.forEach((k, v) -> runEnv.add(k + "=" + v));
            StreamForwarder fwd = new StreamForwarder(out);
            int code = builds.containers().run(new BuildContainers.RunSpec(id, root, argv, runEnv, workdir, who, network, request.extraHosts()), fwd,
                    out::cancelled);
            fwd.flush();
            if (out.cancelled()) throw new BuildException("the build was cancelled: the client went away");
            if (code != 0) {
                throw new StepFailedException("The command '" + String.join(" ", argv) + "' returned a non-zero code: " + code, code);
            }
            out.stream("Removing intermediate container " + shortId + "\n");
        });
    }

    /** Forwards RUN output as whole UTF-8 lines (or chunks), so multi-byte characters are never split. */
    private static final class StreamForwarder implements BuildContainers.Output {
        /** dockerd's classic builder shows RUN's stderr in red: each chunk wrapped in these. */
        static final String STDERR_START = "\u001b[91m";
        static final String STDERR_END = "\u001b[0m";

        private final BuildOutput out;
        private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
        private boolean pendingIsStderr;

        StreamForwarder(BuildOutput out) {
            this.out = out;
        }

        @Override
        public synchronized void write(AttachSession.StdStream stream, byte[] data) {
            boolean stderr = stream == AttachSession.StdStream.STDERR;
            if (stderr != pendingIsStderr) {
                flush(); // keep the two streams' order as they came
                pendingIsStderr = stderr;
            }
            int start = 0;
            for (int i = 0; i < data.length; i++) {
                if (data[i] == '\n') {
                    pending.write(data, start, i + 1 - start);
                    start = i + 1;
                    emit();
                }
            }
            pending.write(data, start, data.length - start);
            if (pending.size() > 8192) emit();
        }

        synchronized void flush() {
            if (pending.size() > 0) emit();
        }

        private void emit() {
            byte[] b = pending.toByteArray();
            pending.reset();
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                text = new String(b, StandardCharsets.UTF_8);
            }
            out.stream(pendingIsStderr ? STDERR_START + text + STDERR_END : text);
        }
    }

    // ================================================================ COPY, ADD

    private void copyStep(StageRun st, List<String> sources, String dest, String from, String chown, String chmod, boolean add,
                          Dockerfile dockerfile) throws Exception {
        String keyword = add ? "ADD" : "COPY";
        if (add) {
            for (String s : sources) {
                String l = s.toLowerCase(Locale.ROOT);
                if (l.startsWith("http://") || l.startsWith("https://")) {
                    throw new BuildException("ADD from a URL is not supported offline: " + s + " (download it into the build context and COPY it)");
                }
                if (l.startsWith("git@") || l.endsWith(".git")) throw new BuildException("ADD of a git repository is not supported: " + s);
            }
        }
        Integer mode = FileCopier.parseChmod(chmod);
        try (SourceRoot src = sourceRoot(st, from, dockerfile)) {
            List<ContextSources.SourceMatch> matches = ContextSources.resolve(src.path(), sources, true);
            String hash = ContextSources.contentHash(matches, null, null, chmod, src.digests());
            String kind = matches.size() > 1 ? "multi" : matches.getFirst().directory() ? "dir" : "file";
            String destAbs = absoluteDest(dest, st.config.workingDir);
            String text = keyword + " " + kind + ":" + hash.substring("sha256:".length()) + " in " + destAbs + " ";
            String createdBy = String.join(" ", st.shell()) + " #(nop)  " + text;
            String key = BuildCache.key(parentKey(st), keyword, createdBy,
                    List.of(configKey(st), "chown=" + (chown == null ? "" : chown), "chmod=" + (chmod == null ? "" : chmod)));
            if (useCache(st, key)) return;
            layerStep(st, key, createdBy, List.of(), root -> {
                int uid = 0;
                int gid = 0;
                if (chown != null && !chown.isEmpty()) {
                    int[] owner = StageUsers.read(root).chown(chown);
                    uid = owner[0];
                    gid = owner[1];
                }
                new FileCopier(root, uid, gid, mode).copy(matches, destAbs, add, keyword);
            });
        }
    }

    static String absoluteDest(String dest, String workdir) {
        if (dest.startsWith("/")) return dest;
        String base = workdir == null || workdir.isEmpty() ? "/" : workdir;
        String joined = (base.endsWith("/") ? base : base + "/") + dest;
        boolean dir = dest.endsWith("/") || dest.equals(".") || dest.endsWith("/.");
        String n = normalize(joined);
        return dir && !n.endsWith("/") ? n + "/" : n;
    }

    /** Where COPY reads: the context, another stage's file system, or an image's (mounted read-only). */
    private interface SourceRoot extends AutoCloseable {
        Path path();

        /** File digests known without reading the files (the context's, hashed as it was received). */
        default ContextSources.KnownDigests digests() {
            return ContextSources.KnownDigests.NONE;
        }

        @Override
        void close() throws IOException;
    }

    private SourceRoot sourceRoot(StageRun st, String from, Dockerfile dockerfile) throws Exception {
        if (from == null || from.isEmpty()) {
            Path root = context.root();
            return new SourceRoot() {
                public Path path() {
                    return root;
                }

                public ContextSources.KnownDigests digests() {
                    return context;
                }

                public void close() {}
            };
        }
        BuildPlan.CopyFrom ref = BuildPlan.resolveCopyFrom(dockerfile, from, st.index, 0);
        List<ImageRecord.Layer> layers;
        if (ref.isStage()) {
            StageRun s = finished.get(ref.stageIndex());
            if (s == null) throw new BuildException("stage " + from + " was not built before it is copied from");
            layers = s.layers;
        } else {
            layers = baseImage(ref.image(), false).record().layers();
        }
        return view(layers.isEmpty() ? null : layers.getLast().chainId());
    }

    /** A read-only mount of the file system whose top layer is {@code chain} (an empty directory for none). */
    private SourceRoot view(Digest chain) throws IOException {
        String key = "build-" + buildId + "-view-" + (++counter);
        Path mnt = builds.mountDir().resolve(buildId + "-v" + counter);
        Files.createDirectories(mnt);
        if (chain == null) {
            return new SourceRoot() {
                public Path path() {
                    return mnt;
                }

                public void close() throws IOException {
                    io.berth.sys.FileTrees.deleteTree(mnt);
                }
            };
        }
        List<Mount> mounts = snapshots.view(key, ImageStore.snapshotKey(chain));
        try {
            Mount.mountAll(mounts, mnt);
        } catch (IOException e) {
            snapshots.remove(key);
            Files.deleteIfExists(mnt);
            throw e;
        }
        return new SourceRoot() {
            public Path path() {
                return mnt;
            }

            public void close() throws IOException {
                try {
                    Mount.unmount(mnt);
                    Files.deleteIfExists(mnt);
                } finally {
                    snapshots.remove(key);
                }
            }
        };
    }

    // ================================================================ layers

    @FunctionalInterface
    private interface RootWork {
        void apply(Path root) throws Exception;
    }

    /**
     * Prepares a writable snapshot on the stage's top layer, mounts it, lets {@code work}
     * change it, and records the result: a layer when files changed, else an empty-layer
     * step. Mount points the runtime made for the step ({@code stubs}, absent before) are
     * dropped from the layer. Whatever fails, the mount and the snapshot are gone after.
     */
    private void layerStep(StageRun st, String cacheKey, String createdBy, List<String> stubs, RootWork work) throws Exception {
        String key = "build-" + buildId + "-" + (++counter);
        Digest parent = st.topChain();
        Path mnt = builds.mountDir().resolve(buildId + "-" + counter);
        Files.createDirectories(mnt);
        List<Mount> mounts = snapshots.prepare(key, parent == null ? null : ImageStore.snapshotKey(parent));
        boolean keep = false;
        try {
            List<String> absent = new ArrayList<>();
            boolean mounted = false;
            try {
                Mount.mountAll(mounts, mnt);
                mounted = true;
                for (String s : stubs) {
                    if (!Files.exists(mnt.resolve(s.substring(1)), LinkOption.NOFOLLOW_LINKS)) absent.add(s);
                }
                work.apply(mnt);
            } finally {
                if (mounted) Mount.unmount(mnt);
                Files.deleteIfExists(mnt);
            }
            Path upper = snapshots.diffDir(key);
            for (String s : absent) removeStub(upper, s);
            if (LayerDiff.isEmpty(upper)) {
                snapshots.remove(key);
                keep = true;
                commit(st, createdBy, null);
            } else {
                ImageRecord.Layer layer = recordLayer(key, parent, upper);
                keep = true;
                commit(st, createdBy, layer);
            }
            builds.cache().put(cacheKey, st.imageId);
            out.stream(" ---> " + st.imageId.hex().substring(0, 12) + "\n");
        } finally {
            if (!keep) {
                try {
                    snapshots.remove(key);
                } catch (IOException ignored) {
                    // already gone
                }
            }
        }
    }

    /** Removes a mount point the runtime created, if it is still an empty file or directory. */
    private static void removeStub(Path upper, String stub) throws IOException {
        Path p = upper.resolve(stub.substring(1));
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                if (ds.iterator().hasNext()) return;
            }
            Files.delete(p);
        } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == 0) {
            Files.delete(p);
        }
        // a parent made only for it (/etc for /etc/hosts) goes too when left empty
        Path parent = p.getParent();
        if (!parent.equals(upper) && Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
                if (!ds.iterator().hasNext()) Files.delete(parent);
            }
        }
    }

    /** Writes the layer tar into the content store and commits the snapshot under the new chain ID. */
    private ImageRecord.Layer recordLayer(String snapshotKey, Digest parent, Path upper) throws IOException {
        ContentStore content = store.content();
        LayerDiff.Result diff;
        Digest blob;
        ContentStore.Writer w = content.openWriter("build-" + UUID.randomUUID(), null, -1);
        boolean ok = false;
        try {
            diff = LayerDiff.write(upper, w, false);
            blob = w.commit();
            ok = true;
        } finally {
            if (!ok) w.abort();
            w.close();
        }
        holds.add(content.lease(List.of(blob)));
        Digest diffId = blob; // the tar is stored uncompressed: its digest is the DiffID
        Digest chain = parent == null ? diffId : Digest.sha256((parent + " " + diffId).getBytes(StandardCharsets.US_ASCII));
        holds.add(store.hold(List.of(chain)));
        if (store.hasLayer(chain)) {
            snapshots.remove(snapshotKey);
        } else {
            try {
                snapshots.commit(ImageStore.snapshotKey(chain), snapshotKey);
            } catch (SnapshotException e) {
                if (e.kind() != io.berth.errdefs.ErrorKind.ALREADY_EXISTS) throw e;
                snapshots.remove(snapshotKey);
            }
        }
        return new ImageRecord.Layer(diffId, chain, diff.size(), diff.tarBytes(), blob, MediaTypes.DOCKER_LAYER);
    }

    static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
