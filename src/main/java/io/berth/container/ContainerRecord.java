package io.berth.container;

import io.berth.image.ImageConfig;
import java.time.Instant;
import java.util.List;

/**
 * What the daemon keeps about one container, in {@code containers/<id>/config.json}.
 *
 * @param id            64 hex digits
 * @param name          with Docker's leading slash: "/web"
 * @param created       when it was created
 * @param path          the program run (entrypoint or command's first word)
 * @param args          its arguments
 * @param config        the container's config (image defaults merged with what create asked)
 * @param format        the record's format: {@link #FORMAT}; records without it are today's
 *                      predecessors, with Docker's HostConfig, read by {@link ContainerRecords}
 * @param settings      how it is hosted, in Berth's terms (see {@link ContainerSettings})
 * @param image         the image ID ("sha256:...")
 * @param imageName     the image as the user named it (Config.Image)
 * @param snapshotKey   the writable layer's snapshot key
 * @param state         the state machine's position and the last run's outcome
 * @param restartCount  restarts by the restart policy since the last start by the user
 * @param manuallyStopped stopped by the user (unless-stopped does not bring it back)
 * @param networkSettings the addresses the network box assigned, opaque here
 */
public record ContainerRecord(
        int format,
        String id,
        String name,
        Instant created,
        String path,
        List<String> args,
        ImageConfig.ContainerConfig config,
        ContainerSettings settings,
        String image,
        String imageName,
        String snapshotKey,
        ContainerState state,
        int restartCount,
        boolean manuallyStopped,
        String platform) {

    /** Version 2: typed settings. Version 1 (no field) stored Docker's HostConfig as "hostConfig". */
    public static final int FORMAT = 2;

    public ContainerRecord {
        args = args == null ? List.of() : List.copyOf(args);
    }

    public ContainerRecord(String id, String name, Instant created, String path, List<String> args, ImageConfig.ContainerConfig config,
                           ContainerSettings settings, String image, String imageName, String snapshotKey, ContainerState state,
                           int restartCount, boolean manuallyStopped, String platform) {
        this(FORMAT, id, name, created, path, args, config, settings, image, imageName, snapshotKey, state, restartCount,
                manuallyStopped, platform);
    }

    /**
     * The settings in Docker's HostConfig shape: what inspect shows, and a view for code that
     * still reads Docker's field names (the network box, links, logs, restart policies).
     */
    public HostConfig hostConfig() {
        return DockerHostConfig.toDocker(settings);
    }

    public String shortId() {
        return id.substring(0, 12);
    }

    /** The name without the leading slash. */
    public String plainName() {
        return name.startsWith("/") ? name.substring(1) : name;
    }

    public boolean tty() {
        return Boolean.TRUE.equals(config.tty());
    }

    public ContainerRecord withState(ContainerState s) {
        return new ContainerRecord(id, name, created, path, args, config, settings, image, imageName, snapshotKey, s, restartCount,
                manuallyStopped, platform);
    }

    public ContainerRecord withName(String n) {
        return new ContainerRecord(id, n, created, path, args, config, settings, image, imageName, snapshotKey, state, restartCount,
                manuallyStopped, platform);
    }

    public ContainerRecord withRestartCount(int c) {
        return new ContainerRecord(id, name, created, path, args, config, settings, image, imageName, snapshotKey, state, c,
                manuallyStopped, platform);
    }

    public ContainerRecord withManuallyStopped(boolean m) {
        return new ContainerRecord(id, name, created, path, args, config, settings, image, imageName, snapshotKey, state, restartCount,
                m, platform);
    }

    /** With the settings of a changed HostConfig (docker update, a removed link): mapped, and so checked, again. */
    /** Settings changed through Docker's shape; a pod's container stays its pod's (Docker's shape has no pods). */
    public ContainerRecord withHostConfig(HostConfig h) {
        return withSettings(DockerHostConfig.toSettings(h).inPod(settings.pod()));
    }

    public ContainerRecord withSettings(ContainerSettings s) {
        return new ContainerRecord(id, name, created, path, args, config, s, image, imageName, snapshotKey, state, restartCount,
                manuallyStopped, platform);
    }
}
