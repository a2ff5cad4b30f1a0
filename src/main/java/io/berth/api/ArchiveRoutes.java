package io.berth.api;

import io.berth.archive.TarFormatException;
import io.berth.archive.TreeCopy;
import io.berth.engine.ContainerFiles;
import io.berth.engine.Engine;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * docker cp: {@code HEAD /containers/{id}/archive} (the path's stat in the
 * {@code X-Docker-Container-Path-Stat} header), {@code GET} (the path as a tar) and {@code PUT}
 * (a tar extracted into a directory). Every failure is answered with a status and a message.
 */
final class ArchiveRoutes {
    static final String STAT_HEADER = "X-Docker-Container-Path-Stat";

    private final ContainerFiles files;

    ArchiveRoutes(Engine engine) {
        this.files = new ContainerFiles(engine.containers(), engine.wiring());
    }

    void register(Router router) {
        router.add("GET", "/containers/{id}/archive", this::get);
        router.add("HEAD", "/containers/{id}/archive", this::head);
        router.add("PUT", "/containers/{id}/archive", this::put);
    }

    private static String path(ApiCall call) {
        String p = call.query("path");
        if (p == null || p.isEmpty()) throw ApiException.badRequest("bad parameter: path cannot be empty");
        return p;
    }

    /** The stat as dockerd sends it: base64 of {"name","size","mode","mtime","linkTarget"}. */
    static String statHeader(TreeCopy.PathStat s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("size", s.size());
        m.put("mode", s.mode());
        m.put("mtime", s.mtime().toString());
        m.put("linkTarget", s.linkTarget());
        return Base64.getEncoder().encodeToString(Json.bytes(m));
    }

    private void head(ApiCall call) throws IOException {
        TreeCopy.PathStat s = files.stat(call.path("id"), path(call));
        call.exchange().setHeader(STAT_HEADER, statHeader(s));
        call.exchange().sendEmpty(200);
    }

    /**
     * Failures answer by their kind (404 missing path, 400 not a directory or a refused
     * overwrite, 403 read-only, 500 a failed read); after the tar stream began, the
     * connection is cut and the client sees a short tar.
     */
    private void get(ApiCall call) throws IOException {
        if ("HEAD".equals(call.request().method())) {
            head(call);
            return;
        }
        String path = path(call);
        OutputStream[] opened = new OutputStream[1];
        try {
            files.pack(call.path("id"), path, stat -> {
                try {
                    call.exchange().setHeader(STAT_HEADER, statHeader(stat));
                    opened[0] = new BufferedOutputStream(call.exchange().startStream(200, "application/x-tar"), 1 << 16);
                    return opened[0];
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        opened[0].close();
    }

    private void put(ApiCall call) throws IOException {
        String path = path(call);
        boolean noOverwrite = call.queryBool("noOverwriteDirNonDir", false);
        call.queryBool("copyUIDGID", false); // the tar's owners are kept either way
        try {
            files.extract(call.path("id"), path, call.request().body(), noOverwrite);
        } catch (TarFormatException e) {
            // the body is no tar, or a broken one: nothing was extracted (the whole body is checked first)
            throw new ApiException(400, "Error processing tar file: " + e.getMessage());
        }
        call.exchange().sendEmpty(200);
    }
}
