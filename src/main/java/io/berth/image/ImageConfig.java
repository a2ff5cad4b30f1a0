package io.berth.image;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.berth.content.Digest;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The image configuration JSON (Docker's {@code application/vnd.docker.container.image.v1+json},
 * OCI's {@code application/vnd.oci.image.config.v1+json}). Parsed for reading only: an
 * image's ID is the digest of the config blob's exact bytes, see {@link ImageConfigBlob};
 * never re-serialise one of these to compute an ID.
 */
public record ImageConfig(
        String architecture,
        String os,
        @JsonProperty("os.version") String osVersion,
        @JsonProperty("os.features") List<String> osFeatures,
        String variant,
        String created,
        String author,
        ContainerConfig config,
        RootFs rootfs,
        List<History> history,
        // Docker's legacy fields, still in many configs
        String container,
        @JsonProperty("container_config") ContainerConfig containerConfig,
        @JsonProperty("docker_version") String dockerVersion,
        String comment) {

    /** The runtime defaults a container of this image starts with; Docker's capitalised names. */
    public record ContainerConfig(
            @JsonProperty("Hostname") String hostname,
            @JsonProperty("Domainname") String domainname,
            @JsonProperty("User") String user,
            @JsonProperty("AttachStdin") Boolean attachStdin,
            @JsonProperty("AttachStdout") Boolean attachStdout,
            @JsonProperty("AttachStderr") Boolean attachStderr,
            @JsonProperty("ExposedPorts") Map<String, Map<String, Object>> exposedPorts,
            @JsonProperty("Tty") Boolean tty,
            @JsonProperty("OpenStdin") Boolean openStdin,
            @JsonProperty("StdinOnce") Boolean stdinOnce,
            @JsonProperty("Env") List<String> env,
            @JsonProperty("Cmd") List<String> cmd,
            @JsonProperty("Healthcheck") HealthConfig healthcheck,
            @JsonProperty("ArgsEscaped") Boolean argsEscaped,
            @JsonProperty("Image") String image,
            @JsonProperty("Volumes") Map<String, Map<String, Object>> volumes,
            @JsonProperty("WorkingDir") String workingDir,
            @JsonProperty("Entrypoint") List<String> entrypoint,
            @JsonProperty("OnBuild") List<String> onBuild,
            @JsonProperty("Labels") Map<String, String> labels,
            @JsonProperty("StopSignal") String stopSignal,
            @JsonProperty("StopTimeout") Integer stopTimeout,
            @JsonProperty("Shell") List<String> shell) {

        /** An empty config, to build on with the with-ers. */
        public static ContainerConfig empty() {
            return new ContainerConfig(null, null, null, null, null, null, null, null, null, null, null, null, null,
                    null, null, null, null, null, null, null, null, null, null);
        }

        /** {@code "80/tcp"} and the like, in the order the config lists them. */
        @JsonIgnore
        public List<String> exposedPortList() {
            return exposedPorts == null ? List.of() : List.copyOf(exposedPorts.keySet());
        }

        @JsonIgnore
        public List<String> volumeList() {
            return volumes == null ? List.of() : List.copyOf(volumes.keySet());
        }
    }

    /** HEALTHCHECK: durations in nanoseconds, as Docker stores them. */
    public record HealthConfig(
            @JsonProperty("Test") List<String> test,
            @JsonProperty("Interval") Long interval,
            @JsonProperty("Timeout") Long timeout,
            @JsonProperty("StartPeriod") Long startPeriod,
            @JsonProperty("StartInterval") Long startInterval,
            @JsonProperty("Retries") Integer retries) {}

    /** The layers' uncompressed digests, bottom first. */
    public record RootFs(String type, @JsonProperty("diff_ids") List<Digest> diffIds) {
        public RootFs {
            diffIds = diffIds == null ? List.of() : List.copyOf(diffIds);
        }

        public static RootFs layers(List<Digest> diffIds) {
            return new RootFs("layers", diffIds);
        }
    }

    /** One build step; an {@code empty_layer} step added no layer. */
    public record History(
            String created,
            @JsonProperty("created_by") String createdBy,
            String author,
            String comment,
            @JsonProperty("empty_layer") Boolean emptyLayer) {

        @JsonIgnore
        public boolean isEmptyLayer() {
            return Boolean.TRUE.equals(emptyLayer);
        }
    }

    /** os/arch/variant of the image, normalised. */
    @JsonIgnore
    public Platform platform() {
        return new Platform(architecture, os, osVersion, osFeatures, variant, null).normalize();
    }

    /** The creation time, when the config has a parseable one. */
    @JsonIgnore
    public Optional<Instant> createdAt() {
        return parseTime(created);
    }

    @JsonIgnore
    public List<Digest> diffIds() {
        return rootfs == null ? List.of() : rootfs.diffIds();
    }

    static Optional<Instant> parseTime(String text) {
        if (text == null || text.isEmpty()) return Optional.empty();
        try {
            return Optional.of(OffsetDateTime.parse(text).toInstant());
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
