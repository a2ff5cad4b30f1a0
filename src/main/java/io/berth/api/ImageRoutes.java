package io.berth.api;

import io.berth.content.Digest;
import io.berth.engine.Engine;
import io.berth.engine.ImageService;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.ErrorKinds;
import io.berth.errdefs.KindedException;
import io.berth.image.ImageArchive;
import io.berth.image.ImageConfig;
import io.berth.image.ImageRecord;
import io.berth.image.ImageReference;
import io.berth.image.ImageStore;
import io.berth.image.Platform;
import io.berth.registry.LoginResult;
import io.berth.registry.RegistryAuth;
import io.berth.registry.RegistryException;
import io.berth.registry.UnauthorizedException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** The /images endpoints, /auth and /system/df: JSON shapes only; the work is in {@link ImageService}. */
final class ImageRoutes {
    private static final Set<String> LIST_FILTERS = Set.of("dangling", "label", "reference", "before", "since", "until");
    private static final Set<String> PRUNE_FILTERS = Set.of("dangling", "label", "until");
    private static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    private final Engine engine;

    ImageRoutes(Engine engine) {
        this.engine = engine;
    }

    void register(Router router) {
        // literal paths first: the greedy {name*} routes would take "json", "get", ... as names
        router.add("GET", "/images/json", this::list);
        router.add("GET", "/images/search", this::search);
        router.add("GET", "/images/get", this::saveMany);
        router.add("POST", "/images/create", this::create);
        router.add("POST", "/images/load", this::load);
        router.add("POST", "/images/prune", this::prune);
        router.add("GET", "/images/{name*}/json", this::inspect);
        router.add("GET", "/images/{name*}/history", this::history);
        router.add("GET", "/images/{name*}/get", this::saveOne);
        router.add("POST", "/images/{name*}/tag", this::tag);
        router.add("POST", "/images/{name*}/push", this::push);
        router.add("DELETE", "/images/{name*}", this::delete);
        router.add("POST", "/auth", this::login);
        router.add("GET", "/system/df", this::df);
        router.add("GET", "/distribution/{name*}/json", this::distribution);
    }

    private ImageService images() {
        return engine.images();
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    /** Runs a streaming operation: errors before the first message are plain API errors, after it lines in the stream. */
    private static void streamed(JsonProgress progress, Work w) throws Exception {
        try {
            w.run();
            progress.start();
        } catch (Exception e) {
            Exception failure = asDockerdRegistryFailure(e);
            if (!progress.started() || ApiErrors.clientGone(e)) throw failure;
            progress.error(ErrorKinds.message(failure));
        }
    }

    /**
     * dockerd answers a registry's refusal during pull, push and login as an unknown error
     * (500) whatever the registry said, except "not found" (and login's 401); a 401 on pull
     * would also make the CLI prompt for a login.
     */
    private static Exception asDockerdRegistryFailure(Exception e) {
        if (e instanceof RegistryException r && r.kind() != ErrorKind.NOT_FOUND && r.kind() != ErrorKind.INTERNAL) {
            return KindedException.as(ErrorKind.INTERNAL, r);
        }
        return e;
    }

    private static RegistryAuth registryAuth(ApiCall call) {
        return RegistryAuth.decodeHeader(call.request().header("X-Registry-Auth"));
    }

    // ---------------------------------------------------------------- list and inspect

    private void list(ApiCall call) throws Exception {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), LIST_FILTERS);
        String legacy = call.query("filter");
        if (legacy != null && !legacy.isEmpty()) filters.computeIfAbsent("reference", k -> new java.util.LinkedHashSet<>()).add(legacy);
        Predicate<ImageStore.Image> keep = listFilter(filters);
        List<Map<String, Object>> out = new ArrayList<>();
        boolean all = call.queryBool("all", false);
        // as dockerd: with a reference filter an image lists only its names that match (`docker images REPO`)
        Set<String> refs = filters.get("reference");
        List<Pattern> patterns = refs == null ? List.of() : refs.stream().map(ImageRoutes::glob).toList();
        Predicate<ImageReference> shown = patterns.isEmpty() ? r -> true : r -> patterns.stream().anyMatch(pat -> referenceMatches(r, pat));
        for (ImageStore.Image img : images().store().list()) {
            if (!all && engine.builds().isIntermediate(img)) continue; // build steps' images, as dockerd hides them
            if (keep.test(img)) out.add(summary(img, shown));
        }
        call.json(200, out);
    }

    private Map<String, Object> summary(ImageStore.Image img, Predicate<ImageReference> shown) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Containers", -1);
        m.put("Created", img.created().getEpochSecond());
        m.put("Id", img.id().toString());
        m.put("Labels", labels(img));
        m.put("ParentId", "");
        m.put("RepoDigests", img.digests().stream().filter(shown).map(ImageReference::familiarString).toList());
        m.put("RepoTags", img.tags().stream().filter(shown).map(ImageReference::familiarString).toList());
        m.put("SharedSize", -1);
        m.put("Size", img.record().size());
        m.put("VirtualSize", img.record().size());
        return m;
    }

    private static Map<String, String> labels(ImageStore.Image img) {
        ImageConfig.ContainerConfig c = img.config().config();
        return c == null || c.labels() == null ? Map.of() : c.labels();
    }

    private Predicate<ImageStore.Image> listFilter(Map<String, Set<String>> filters) {
        Predicate<ImageStore.Image> p = img -> true;
        for (var e : filters.entrySet()) {
            Set<String> values = e.getValue();
            switch (e.getKey()) {
                case "dangling" -> {
                    if (values.size() != 1) throw ApiException.badRequest("invalid filter 'dangling': want true or false");
                    String v = values.iterator().next();
                    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false") && !v.equals("1") && !v.equals("0")) {
                        throw ApiException.badRequest("invalid filter 'dangling=" + v + "'");
                    }
                    boolean want = v.equalsIgnoreCase("true") || v.equals("1");
                    p = p.and(img -> img.dangling() == want);
                }
                case "label" -> p = p.and(img -> values.stream().allMatch(l -> labelMatches(labels(img), l)));
                case "reference" -> {
                    List<Pattern> patterns = values.stream().map(ImageRoutes::glob).toList();
                    p = p.and(img -> patterns.stream().anyMatch(pat -> referenceMatches(img, pat)));
                }
                case "before", "since" -> {
                    boolean before = e.getKey().equals("before");
                    for (String v : values) {
                        ImageStore.Image ref = images().store().resolve(v);
                        java.time.Instant t = ref.created();
                        p = p.and(img -> before ? img.created().isBefore(t) : img.created().isAfter(t));
                    }
                }
                case "until" -> {
                    for (String v : values) {
                        long nanos = untilNanos(v);
                        p = p.and(img -> img.created().getEpochSecond() * 1_000_000_000L + img.created().getNano() < nanos);
                    }
                }
                default -> { }
            }
        }
        return p;
    }

    private static long untilNanos(String v) {
        try {
            java.time.Duration d = parseGoDuration(v);
            if (d != null) return (System.currentTimeMillis() - d.toMillis()) * 1_000_000L;
        } catch (IllegalArgumentException ignored) {
            // not a duration: a time
        }
        Long t = Timestamps.parseNanos("until", v);
        return t == null ? Long.MAX_VALUE : t;
    }

    /** Go durations as prune's until takes them: 10m, 24h, 1h30m, 90s. */
    private static java.time.Duration parseGoDuration(String v) {
        var m = Pattern.compile("(\\d+(?:\\.\\d+)?)(h|m|s|ms)").matcher(v);
        int pos = 0;
        long millis = 0;
        boolean any = false;
        while (m.find() && m.start() == pos) {
            double n = Double.parseDouble(m.group(1));
            millis += (long) (n * switch (m.group(2)) {
                case "h" -> 3_600_000;
                case "m" -> 60_000;
                case "s" -> 1_000;
                default -> 1;
            });
            pos = m.end();
            any = true;
        }
        if (!any || pos != v.length()) return null;
        return java.time.Duration.ofMillis(millis);
    }

    static boolean labelMatches(Map<String, String> labels, String filter) {
        int eq = filter.indexOf('=');
        if (eq < 0) return labels.containsKey(filter);
        String k = filter.substring(0, eq);
        String v = filter.substring(eq + 1);
        return v.equals(labels.get(k));
    }

    private static boolean referenceMatches(ImageReference r, Pattern pattern) {
        return pattern.matcher(r.familiarName()).matches() || pattern.matcher(r.familiarString()).matches()
                || pattern.matcher(r.canonicalString()).matches() || pattern.matcher(r.fullName()).matches();
    }

    private static boolean referenceMatches(ImageStore.Image img, Pattern pattern) {
        for (ImageReference r : img.tags()) {
            if (pattern.matcher(r.familiarName()).matches() || pattern.matcher(r.familiarString()).matches()
                    || pattern.matcher(r.canonicalString()).matches() || pattern.matcher(r.fullName()).matches()) return true;
        }
        for (ImageReference r : img.digests()) {
            if (pattern.matcher(r.familiarName()).matches() || pattern.matcher(r.familiarString()).matches()) return true;
        }
        return false;
    }

    /** Go's path.Match: * and ? do not cross '/'. */
    static Pattern glob(String g) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            switch (c) {
                case '*' -> re.append("[^/]*");
                case '?' -> re.append("[^/]");
                case '[' -> {
                    int close = g.indexOf(']', i);
                    if (close < 0) re.append("\\[");
                    else {
                        re.append('[').append(g, i + 1, close).append(']');
                        i = close;
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }

    private void inspect(ApiCall call) throws Exception {
        ImageStore.Image img = images().store().resolve(call.path("name"));
        ImageConfig c = img.config();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Id", img.id().toString());
        m.put("RepoTags", img.tags().stream().map(ImageReference::familiarString).toList());
        m.put("RepoDigests", img.digests().stream().map(ImageReference::familiarString).toList());
        m.put("Parent", img.record().parent() == null ? "" : img.record().parent().toString());
        m.put("Comment", c.comment() == null ? "" : c.comment());
        m.put("Created", c.created() == null || c.created().isEmpty() ? ZERO_TIME : c.created());
        m.put("Container", c.container() == null ? "" : c.container());
        m.put("ContainerConfig", containerConfig(c.containerConfig()));
        m.put("DockerVersion", c.dockerVersion() == null ? "" : c.dockerVersion());
        m.put("Author", c.author() == null ? "" : c.author());
        m.put("Config", containerConfig(c.config()));
        m.put("Architecture", c.architecture() == null ? "" : c.architecture());
        if (c.variant() != null && !c.variant().isEmpty()) m.put("Variant", c.variant());
        m.put("Os", c.os() == null ? "" : c.os());
        if (c.osVersion() != null && !c.osVersion().isEmpty()) m.put("OsVersion", c.osVersion());
        m.put("Size", img.record().size());
        m.put("VirtualSize", img.record().size());
        m.put("GraphDriver", graphDriver(img));
        m.put("RootFS", Map.of("Type", "layers", "Layers", c.diffIds().stream().map(Digest::toString).toList()));
        String tagTime = img.record().lastTagTime();
        m.put("Metadata", Map.of("LastTagTime", tagTime == null ? ZERO_TIME : tagTime));
        call.json(200, m);
    }

    private Map<String, Object> graphDriver(ImageStore.Image img) throws IOException {
        Map<String, Object> data = new LinkedHashMap<>();
        List<ImageRecord.Layer> layers = img.record().layers();
        if (!layers.isEmpty()) {
            var snaps = images().store().snapshots();
            java.nio.file.Path upper = snaps.diffDir(ImageStore.snapshotKey(layers.getLast().chainId()));
            List<String> lowers = new ArrayList<>();
            for (int i = layers.size() - 2; i >= 0; i--) lowers.add(snaps.diffDir(ImageStore.snapshotKey(layers.get(i).chainId())).toString());
            if (!lowers.isEmpty()) data.put("LowerDir", String.join(":", lowers));
            data.put("MergedDir", upper.resolveSibling("merged").toString());
            data.put("UpperDir", upper.toString());
            data.put("WorkDir", upper.resolveSibling("work").toString());
        }
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("Data", data);
        g.put("Name", "overlay2");
        return g;
    }

    /** Docker's container config with every field, empty ones included, as dockerd shows it. */
    static Map<String, Object> containerConfig(ImageConfig.ContainerConfig c) {
        ImageConfig.ContainerConfig x = c == null ? ImageConfig.ContainerConfig.empty() : c;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Hostname", nz(x.hostname()));
        m.put("Domainname", nz(x.domainname()));
        m.put("User", nz(x.user()));
        m.put("AttachStdin", Boolean.TRUE.equals(x.attachStdin()));
        m.put("AttachStdout", Boolean.TRUE.equals(x.attachStdout()));
        m.put("AttachStderr", Boolean.TRUE.equals(x.attachStderr()));
        if (x.exposedPorts() != null) m.put("ExposedPorts", x.exposedPorts());
        m.put("Tty", Boolean.TRUE.equals(x.tty()));
        m.put("OpenStdin", Boolean.TRUE.equals(x.openStdin()));
        m.put("StdinOnce", Boolean.TRUE.equals(x.stdinOnce()));
        m.put("Env", x.env());
        m.put("Cmd", x.cmd());
        if (x.healthcheck() != null) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("Test", x.healthcheck().test());
            if (x.healthcheck().interval() != null) h.put("Interval", x.healthcheck().interval());
            if (x.healthcheck().timeout() != null) h.put("Timeout", x.healthcheck().timeout());
            if (x.healthcheck().startPeriod() != null) h.put("StartPeriod", x.healthcheck().startPeriod());
            if (x.healthcheck().startInterval() != null) h.put("StartInterval", x.healthcheck().startInterval());
            if (x.healthcheck().retries() != null) h.put("Retries", x.healthcheck().retries());
            m.put("Healthcheck", h);
        }
        if (x.argsEscaped() != null) m.put("ArgsEscaped", x.argsEscaped());
        m.put("Image", nz(x.image()));
        m.put("Volumes", x.volumes());
        m.put("WorkingDir", nz(x.workingDir()));
        m.put("Entrypoint", x.entrypoint());
        m.put("OnBuild", x.onBuild());
        m.put("Labels", x.labels());
        if (x.stopSignal() != null) m.put("StopSignal", x.stopSignal());
        if (x.stopTimeout() != null) m.put("StopTimeout", x.stopTimeout());
        if (x.shell() != null) m.put("Shell", x.shell());
        return m;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private void history(ApiCall call) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ImageService.HistoryEntry h : images().history(call.path("name"))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Comment", h.comment());
            m.put("Created", h.created());
            m.put("CreatedBy", h.createdBy());
            m.put("Id", h.id());
            m.put("Size", h.size());
            m.put("Tags", h.tags().isEmpty() ? null : h.tags());
            out.add(m);
        }
        call.json(200, out);
    }

    private void search(ApiCall call) throws IOException {
        // No index is searched: Berth never contacts Docker Hub's search on its own.
        call.json(200, List.of());
    }

    // ---------------------------------------------------------------- names

    private void tag(ApiCall call) throws Exception {
        String repo = call.query("repo");
        if (repo == null || repo.isEmpty()) throw ApiException.badRequest("repository name must have at least one component");
        ImageReference target = ImageReference.parse(repo);
        String tag = call.query("tag");
        if (target.digestOrNull() != null) throw ApiException.badRequest("refusing to create a tag with a digest reference");
        if (tag != null && !tag.isEmpty()) target = target.withTag(tag);
        images().tag(call.path("name"), target);
        call.exchange().sendEmpty(201);
    }

    private void delete(ApiCall call) throws Exception {
        ImageStore.DeleteResult r = images().delete(call.path("name"), call.queryBool("force", false));
        call.json(200, deleteItems(r));
    }

    private static List<Map<String, String>> deleteItems(ImageStore.DeleteResult r) {
        List<Map<String, String>> out = new ArrayList<>();
        for (ImageStore.DeleteItem item : r.items()) {
            switch (item) {
                case ImageStore.DeleteItem.Untagged u -> out.add(Map.of("Untagged", u.reference()));
                case ImageStore.DeleteItem.Deleted d -> out.add(Map.of("Deleted", d.id().toString()));
            }
        }
        return out;
    }

    private void prune(ApiCall call) throws Exception {
        Map<String, Set<String>> filters = Filters.parse(call.query("filters"), PRUNE_FILTERS);
        boolean danglingOnly = true;
        Set<String> d = filters.remove("dangling");
        if (d != null && !d.isEmpty()) {
            String v = d.iterator().next();
            danglingOnly = v.equalsIgnoreCase("true") || v.equals("1");
        }
        Predicate<ImageStore.Image> select = listFilter(filters);
        if (danglingOnly) select = select.and(ImageStore.Image::dangling);
        ImageStore.DeleteResult r = images().prune(select);
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, String>> items = deleteItems(r);
        m.put("ImagesDeleted", items.isEmpty() ? null : items);
        m.put("SpaceReclaimed", r.reclaimed());
        call.json(200, m);
    }

    // ---------------------------------------------------------------- pull, import, push

    private void create(ApiCall call) throws Exception {
        String fromImage = call.query("fromImage");
        String fromSrc = call.query("fromSrc");
        String platformText = call.query("platform");
        Platform platform;
        try {
            platform = platformText == null || platformText.isBlank() ? null : Platform.parse(platformText);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        if (fromImage != null && !fromImage.isEmpty()) {
            ImageReference ref = ImageReference.parse(fromImage);
            String tag = call.query("tag");
            if (tag != null && !tag.isEmpty()) {
                ref = tag.contains(":") ? ref.nameOnly().withDigest(Digest.parse(tag)) : ref.withTag(tag);
            }
            RegistryAuth auth = registryAuth(call);
            JsonProgress progress = new JsonProgress(call.exchange());
            ImageReference want = ref;
            streamed(progress, () -> images().pull(want, platform, auth, progress));
            return;
        }
        if (fromSrc == null || fromSrc.isEmpty()) throw ApiException.badRequest("fromImage or fromSrc is required");
        if (!fromSrc.equals("-")) throw ApiException.badRequest("importing from a URL is not supported: download the file and pipe it to docker import -");
        ImageReference tag = null;
        String repo = call.query("repo");
        if (repo != null && !repo.isEmpty()) {
            tag = ImageReference.parse(repo);
            String t = call.query("tag");
            if (t != null && !t.isEmpty()) tag = tag.withTag(t);
        }
        List<String> changes = call.request().queryAll("changes");
        String message = call.query("message");
        JsonProgress progress = new JsonProgress(call.exchange());
        ImageReference target = tag;
        streamed(progress, () -> images().importImage(call.request().body(), target, changes, message, platform, progress));
    }

    private void push(ApiCall call) throws Exception {
        ImageReference name = ImageReference.parse(call.path("name"));
        RegistryAuth auth = registryAuth(call);
        String tag = call.query("tag");
        JsonProgress progress = new JsonProgress(call.exchange());
        streamed(progress, () -> images().push(name, tag, auth, progress));
    }

    // ---------------------------------------------------------------- load, save

    private void load(ApiCall call) throws Exception {
        boolean quiet = call.queryBool("quiet", false);
        JsonProgress progress = new JsonProgress(call.exchange());
        // as dockerd: the answer is 200 at once, and a bad archive is an error line in the stream (clients raise it)
        progress.start();
        streamed(progress, () -> images().load(call.request().body(), quiet, progress));
    }

    private void saveMany(ApiCall call) throws Exception {
        List<String> names = call.request().queryAll("names");
        if (names.isEmpty()) throw ApiException.badRequest("no images to save: pass names=IMAGE");
        save(call, names);
    }

    private void saveOne(ApiCall call) throws Exception {
        save(call, List.of(call.path("name")));
    }

    private void save(ApiCall call, List<String> names) throws Exception {
        List<ImageArchive.Saved> images = images().resolveForSave(names);
        OutputStream out = call.exchange().startStream(200, "application/x-tar");
        images().save(images, out);
    }

    // ---------------------------------------------------------------- auth, df

    private void login(ApiCall call) throws Exception {
        Map<?, ?> body = call.readJson(Map.class);
        RegistryAuth creds = new RegistryAuth(str(body, "username"), str(body, "password"), str(body, "serveraddress"),
                str(body, "identitytoken"), str(body, "registrytoken"));
        LoginResult r;
        try {
            r = images().login(creds.serverAddress(), creds);
        } catch (UnauthorizedException e) {
            throw e; // the one registry refusal dockerd answers with its own kind: 401
        } catch (RegistryException e) {
            throw asDockerdRegistryFailure(e);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Status", r.status());
        m.put("IdentityToken", r.identityToken());
        call.json(200, m);
    }

    private static String str(Map<?, ?> body, String key) {
        for (var e : body.entrySet()) {
            if (String.valueOf(e.getKey()).equalsIgnoreCase(key) && e.getValue() instanceof String s) return s;
        }
        return "";
    }

    /** GET /distribution/NAME/json: what the registry has under the name (its manifest's descriptor and platforms), as dockerd answers. */
    private void distribution(ApiCall call) throws Exception {
        ImageReference ref = ImageReference.parse(call.path("name"));
        ImageReference want = ref.digestOrNull() != null ? ref : ref.withDefaultTag();
        var client = images().registry().withAuth(registryAuth(call));
        var repo = new io.berth.registry.RepositoryRef(want.domain(), want.path());
        var top = client.fetchManifest(repo, want.digestOrNull() != null ? want.digestOrNull().toString() : want.tagOrNull());
        Map<String, Object> descriptor = new LinkedHashMap<>();
        descriptor.put("mediaType", top.mediaType());
        descriptor.put("digest", top.digest().toString());
        descriptor.put("size", top.bytes().length);
        List<Map<String, Object>> platforms = new ArrayList<>();
        var parsed = io.berth.image.ManifestParser.parse(top.bytes(), top.mediaType());
        if (parsed instanceof io.berth.image.ParsedManifest.Index index) {
            for (io.berth.image.Descriptor d : index.index().manifests()) {
                if (d.platform() != null) platforms.add(platform(d.platform().architecture(), d.platform().os(), d.platform().variant()));
            }
        } else if (parsed instanceof io.berth.image.ParsedManifest.Image image) {
            // one manifest: its platform is in its config blob
            io.berth.image.Descriptor cfg = image.manifest().config();
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            client.fetchBlob(repo, cfg.digest(), cfg.size(), new io.berth.registry.BlobSink() {
                @Override
                public java.io.OutputStream open(long offset) {
                    bytes.reset();
                    return bytes;
                }

                @Override
                public java.io.InputStream existing(long length) {
                    return new java.io.ByteArrayInputStream(bytes.toByteArray(), 0, (int) length);
                }
            }, 0, null);
            var node = Json.MAPPER.readTree(bytes.toByteArray());
            platforms.add(platform(node.path("architecture").asString(""), node.path("os").asString(""),
                    node.path("variant").isMissingNode() ? null : node.path("variant").asString("")));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Descriptor", descriptor);
        out.put("Platforms", platforms);
        call.json(200, out);
    }

    private static Map<String, Object> platform(String architecture, String os, String variant) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("architecture", architecture);
        p.put("os", os);
        if (variant != null && !variant.isEmpty()) p.put("variant", variant);
        return p;
    }

    private void df(ApiCall call) throws Exception {
        ImageStore store = images().store();
        List<Map<String, Object>> imgs = new ArrayList<>();
        for (ImageStore.Image img : store.list()) {
            Map<String, Object> s = summary(img, r -> true);
            s.put("SharedSize", store.sharedSize(img.id()));
            s.put("Containers", store.usage().users(img.id()).size());
            imgs.add(s);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("LayersSize", store.layersSize());
        m.put("Images", imgs);
        // as dockerd: every container with its sizes (what `docker ps -as` shows), every volume with its usage
        List<Map<String, Object>> ctrs = new ArrayList<>();
        var containers = engine.containers();
        for (io.berth.container.ContainerRecord r : containers.list(true, -1, Map.of())) {
            Map<String, Object> entry = ContainerJson.listEntry(r, containers.sizeRw(r), containers.sizeRootFs(r));
            WiringJson.listEntry(engine.wiring(), r, entry);
            ctrs.add(entry);
        }
        m.put("Containers", ctrs);
        List<Map<String, Object>> vols = new ArrayList<>();
        var volumes = engine.volumes();
        for (io.berth.volume.Volume v : volumes.list()) {
            Map<String, Object> shape = VolumeRoutes.shape(v, null);
            shape.put("UsageData", Map.of("Size", volumes.sizeOf(v), "RefCount", volumes.store().usersOf(v.name()).size()));
            vols.add(shape);
        }
        m.put("Volumes", vols);
        // the classic builder's cache: one record a cached step (BuildKit's records have the same fields)
        List<Map<String, Object>> cache = new ArrayList<>();
        for (io.berth.build.Builds.CacheEntry e : engine.builds().cacheEntries()) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("ID", e.id());
            c.put("Parent", e.parent() == null ? "" : e.parent());
            c.put("Parents", e.parent() == null ? null : List.of(e.parent()));
            c.put("Type", "regular");
            c.put("Description", e.description());
            c.put("InUse", e.inUse());
            c.put("Shared", e.shared());
            c.put("Size", e.size());
            c.put("CreatedAt", e.created().toString());
            c.put("LastUsedAt", null);
            c.put("UsageCount", 0);
            cache.add(c);
        }
        m.put("BuildCache", cache);
        call.json(200, m);
    }
}
