package io.berth.build;

import java.util.List;
import java.util.Map;

/**
 * The options of one classic build ({@code POST /build}'s query), already decoded.
 *
 * @param tags        names to tag the result with ({@code t}), validated by the caller
 * @param dockerfile  the Dockerfile's path in the context, or null for {@code Dockerfile}
 * @param buildArgs   {@code --build-arg}s; a null value means "not set"
 * @param target      the stage to build, or null for the last
 * @param noCache     do not use the build cache
 * @param pull        pull every FROM image even when it is here
 * @param labels      labels to add to the resulting image
 * @param networkMode RUN's network: {@code default} (the daemon's default bridge, as
 *                    {@code bridge}), {@code host}, {@code none} or a network's name or ID
 * @param quiet       print only the image ID
 * @param extraHosts  {@code --add-host} entries, {@code name:address}, for RUN's /etc/hosts
 * @param cacheFrom   {@code --cache-from} images; when given, only they may serve as cache
 */
public record BuildRequest(List<String> tags, String dockerfile, Map<String, String> buildArgs, String target, boolean noCache,
                           boolean pull, Map<String, String> labels, String networkMode, boolean quiet,
                           List<String> extraHosts, List<String> cacheFrom) {
    public BuildRequest {
        tags = tags == null ? List.of() : List.copyOf(tags);
        buildArgs = buildArgs == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(buildArgs));
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        networkMode = networkMode == null || networkMode.isEmpty() ? "default" : networkMode;
        extraHosts = extraHosts == null ? List.of() : List.copyOf(extraHosts);
        cacheFrom = cacheFrom == null ? null : List.copyOf(cacheFrom);
    }

    /** The options before {@code --add-host} and {@code --cache-from} existed here. */
    public BuildRequest(List<String> tags, String dockerfile, Map<String, String> buildArgs, String target, boolean noCache,
                        boolean pull, Map<String, String> labels, String networkMode, boolean quiet) {
        this(tags, dockerfile, buildArgs, target, noCache, pull, labels, networkMode, quiet, List.of(), null);
    }
}
