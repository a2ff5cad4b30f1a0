package io.berth.engine;

import io.berth.build.BuildContext;
import io.berth.build.BuildException;
import io.berth.build.BuildHost;
import io.berth.build.BuildOutput;
import io.berth.build.BuildRequest;
import io.berth.build.Builds;
import io.berth.content.Digest;
import io.berth.image.ImageReference;
import io.berth.image.ImageStore;
import io.berth.image.InvalidReferenceException;
import io.berth.image.Platform;
import io.berth.registry.RegistryAuth;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The `docker build` use case: what dockerd checks before it reads a context (tags, platform),
 * unpacking the context, the build with its base images pulled with the client's credentials and
 * its tags set, and the context deleted afterwards. The API route parses and calls; the builder
 * ({@link Builds}) knows nothing of registries or the image service.
 */
public final class BuildService {
    private static final Logger LOG = LoggerFactory.getLogger(BuildService.class);

    /** Where the build says what it does: the step text and the pulls' progress. */
    public interface Output extends BuildOutput, Progress.Sink {}

    private final Builds builds;
    private final ImageService images;

    BuildService(Builds builds, ImageService images) {
        this.builds = builds;
        this.images = images;
    }

    /** Tags as `docker build -t` takes them: a valid reference, never a digest. */
    public static void checkTags(List<String> tags) throws BuildException {
        for (String t : tags) {
            ImageReference ref;
            try {
                ref = ImageReference.parse(t);
            } catch (InvalidReferenceException e) {
                throw new BuildException("invalid reference format: " + t);
            }
            if (ref.digestOrNull() != null) throw new BuildException("refusing to create a tag with a digest reference: " + t);
        }
    }

    /** This daemon builds for its own OS and architecture only; null or empty means that one. */
    public static void checkPlatform(String platform) throws BuildException {
        if (platform == null || platform.isEmpty()) return;
        Platform want;
        try {
            want = Platform.parse(platform);
        } catch (IllegalArgumentException e) {
            throw new BuildException(e.getMessage());
        }
        Platform host = Platform.host();
        if (!want.os().equals(host.os()) || !want.architecture().equals(host.architecture())) {
            throw new BuildException("platform " + platform + " is not supported: this daemon builds for " + host.os() + "/"
                    + host.architecture() + " only");
        }
    }

    /** Unpacks the context tar; a bad one is refused before any output (the caller answers 400). */
    public BuildContext unpack(InputStream contextTar, BuildRequest request) throws IOException, BuildException {
        return builds.extractContext(contextTar, request.dockerfile());
    }

    /**
     * Builds from an unpacked context and deletes it after (in the background: the client has its
     * answer by then). Credentials are keyed by registry host, as X-Registry-Config sends them.
     */
    public Digest build(BuildRequest request, BuildContext context, Map<String, RegistryAuth> auths, Output out) throws Exception {
        try {
            return builds.build(request, context, new RegistryHost(auths, out), out);
        } finally {
            Thread.ofVirtual().name("delete build context").start(() -> {
                try {
                    context.close();
                } catch (IOException e) {
                    LOG.warn("deleting the build context {}: {}", context.root(), e.getMessage());
                }
            });
        }
    }

    /** Base images pulled through the image service with the client's credentials; tags set there. */
    private final class RegistryHost implements BuildHost {
        private final Map<String, RegistryAuth> auths;
        private final Progress.Sink out;

        RegistryHost(Map<String, RegistryAuth> auths, Progress.Sink out) {
            this.auths = auths;
            this.out = out;
        }

        @Override
        public ImageStore.Image pull(ImageReference ref, Platform p) throws IOException {
            return images.pull(ref, p, authFor(ref.domain()), out);
        }

        @Override
        public void tag(Digest id, ImageReference tag) throws IOException {
            images.tag(id.toString(), tag);
        }

        private RegistryAuth authFor(String domain) {
            RegistryAuth a = auths.get(ImageService.registryHost(domain));
            return a == null ? RegistryAuth.ANONYMOUS : a;
        }
    }
}
