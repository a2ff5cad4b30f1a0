package io.berth.cri;

import io.berth.cri.v1.FilesystemIdentifier;
import io.berth.cri.v1.FilesystemUsage;
import io.berth.cri.v1.Image;
import io.berth.cri.v1.ImageFsInfoRequest;
import io.berth.cri.v1.ImageFsInfoResponse;
import io.berth.cri.v1.ImageServiceGrpc;
import io.berth.cri.v1.ImageSpec;
import io.berth.cri.v1.ImageStatusRequest;
import io.berth.cri.v1.ImageStatusResponse;
import io.berth.cri.v1.Int64Value;
import io.berth.cri.v1.ListImagesRequest;
import io.berth.cri.v1.ListImagesResponse;
import io.berth.cri.v1.PullImageRequest;
import io.berth.cri.v1.PullImageResponse;
import io.berth.cri.v1.RemoveImageRequest;
import io.berth.cri.v1.RemoveImageResponse;
import io.berth.cri.v1.UInt64Value;
import io.berth.engine.ImageService;
import io.berth.engine.Progress;
import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.ErrorKinds;
import io.berth.image.ImageReference;
import io.berth.image.ImageStore;
import io.berth.registry.RegistryAuth;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * The CRI's ImageService on the engine's one image store: what kubelet pulls, `docker images`
 * lists, and the other way round. Names are shown fully qualified (docker.io/library/x:tag),
 * as containerd's CRI shows them.
 */
final class CriImages extends ImageServiceGrpc.ImageServiceImplBase {
    private final ImageService images;

    CriImages(ImageService images) {
        this.images = images;
    }

    @Override
    public void listImages(ListImagesRequest req, StreamObserver<ListImagesResponse> out) {
        CriErrors.answer("ListImages", out, () -> {
            String wanted = req.hasFilter() ? req.getFilter().getImage().getImage() : "";
            ListImagesResponse.Builder b = ListImagesResponse.newBuilder();
            if (!wanted.isEmpty()) {
                find(wanted).ifPresent(i -> b.addImages(describe(i)));
                return b.build();
            }
            for (ImageStore.Image i : images.store().list()) b.addImages(describe(i));
            return b.build();
        });
    }

    @Override
    public void imageStatus(ImageStatusRequest req, StreamObserver<ImageStatusResponse> out) {
        CriErrors.answer("ImageStatus", out, () -> {
            String name = req.getImage().getImage();
            if (name.isEmpty()) throw CriErrors.invalid("ImageSpec.image must name an image");
            ImageStatusResponse.Builder b = ImageStatusResponse.newBuilder();
            // A missing image is an empty answer, not an error: kubelet asks before it pulls.
            find(name).ifPresent(i -> {
                b.setImage(describe(i));
                if (req.getVerbose()) {
                    b.putInfo("info", "{\"id\":\"" + i.id() + "\",\"created\":\"" + i.created() + "\"}");
                }
            });
            return b.build();
        });
    }

    @Override
    public void pullImage(PullImageRequest req, StreamObserver<PullImageResponse> out) {
        CriErrors.answer("PullImage", out, () -> {
            String name = req.getImage().getImage();
            if (name.isEmpty()) throw CriErrors.invalid("ImageSpec.image must name an image");
            ImageReference ref = ImageReference.parse(name);
            ImageStore.Image pulled = images.pull(ref, null, auth(req), Progress.Sink.NONE);
            return PullImageResponse.newBuilder().setImageRef(pulled.id().toString()).build();
        });
    }

    @Override
    public void removeImage(RemoveImageRequest req, StreamObserver<RemoveImageResponse> out) {
        CriErrors.answer("RemoveImage", out, () -> {
            String name = req.getImage().getImage();
            if (name.isEmpty()) throw CriErrors.invalid("ImageSpec.image must name an image");
            Optional<ImageStore.Image> found = find(name);
            // Removing what is not there succeeds: kubelet's image GC may race another remover.
            if (found.isPresent()) {
                // The CRI removes the image itself, with every name it has, as containerd does.
                images.delete(found.get().id().toString(), true);
            }
            return RemoveImageResponse.getDefaultInstance();
        });
    }

    @Override
    public void imageFsInfo(ImageFsInfoRequest req, StreamObserver<ImageFsInfoResponse> out) {
        CriErrors.answer("ImageFsInfo", out, () -> {
            ImageStore store = images.store();
            FilesystemUsage usage = FilesystemUsage.newBuilder()
                    .setTimestamp(nowNanos())
                    .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(store.snapshots().directory().toString()))
                    .setUsedBytes(UInt64Value.newBuilder().setValue(store.layersSize()))
                    .build();
            return ImageFsInfoResponse.newBuilder().addImageFilesystems(usage).addContainerFilesystems(usage).build();
        });
    }

    /** The image an ImageSpec names: a reference, a full or short ID; empty when there is none. */
    Optional<ImageStore.Image> find(String name) {
        try {
            return Optional.of(images.store().resolve(name));
        } catch (RuntimeException e) {
            ErrorKind kind = ErrorKinds.of(e);
            if (kind == ErrorKind.NOT_FOUND) return Optional.empty();
            throw e;
        }
    }

    static Image describe(ImageStore.Image i) {
        Image.Builder b = Image.newBuilder()
                .setId(i.id().toString())
                .setSize(i.record().size())
                .setSpec(ImageSpec.newBuilder().setImage(i.id().toString()));
        for (ImageReference t : i.tags()) b.addRepoTags(t.canonicalString());
        for (ImageReference d : i.digests()) b.addRepoDigests(d.canonicalString());
        String user = i.config() == null || i.config().config() == null ? null : i.config().config().user();
        if (user != null && !user.isEmpty()) {
            String name = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
            if (name.chars().allMatch(Character::isDigit) && !name.isEmpty()) {
                b.setUid(Int64Value.newBuilder().setValue(Long.parseLong(name)));
            } else {
                b.setUsername(name);
            }
        }
        return b.build();
    }

    /** kubelet's credentials, user and password or the base64 pair, or a token. */
    static RegistryAuth auth(PullImageRequest req) {
        if (!req.hasAuth()) return RegistryAuth.ANONYMOUS;
        var a = req.getAuth();
        String user = a.getUsername();
        String password = a.getPassword();
        if (user.isEmpty() && !a.getAuth().isEmpty()) {
            String pair = new String(Base64.getDecoder().decode(a.getAuth()), StandardCharsets.UTF_8);
            int colon = pair.indexOf(':');
            if (colon < 0) throw CriErrors.invalid("AuthConfig.auth is not base64 of user:password");
            user = pair.substring(0, colon);
            password = pair.substring(colon + 1);
        }
        return new RegistryAuth(user, password, a.getServerAddress(), a.getIdentityToken(), a.getRegistryToken());
    }

    static long nowNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
