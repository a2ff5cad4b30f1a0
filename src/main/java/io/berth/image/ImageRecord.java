package io.berth.image;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.berth.content.Digest;

import java.util.ArrayList;
import java.util.List;

/**
 * What the image store keeps about one image besides its config blob: the layer chain
 * (each layer unpacked into the snapshot named by its chain ID) and when it arrived.
 *
 * @param id          the image ID: sha256 of the config blob's exact bytes
 * @param layers      bottom first; one per DiffID in the config
 * @param size        bytes of file content in all layers
 * @param stored      when the image arrived here (RFC 3339)
 * @param lastTagTime when a tag last moved to this image (RFC 3339), or null
 * @param manifests   manifests and indexes (in the content store) this image was pulled or pushed as
 */
public record ImageRecord(Digest id, List<Layer> layers, long size, String stored, String lastTagTime, List<Digest> manifests, Digest parent) {
    public ImageRecord {
        layers = layers == null ? List.of() : List.copyOf(layers);
        manifests = manifests == null ? List.of() : List.copyOf(manifests);
    }

    public ImageRecord(Digest id, List<Layer> layers, long size, String stored, String lastTagTime, List<Digest> manifests) {
        this(id, layers, size, stored, lastTagTime, manifests, null);
    }

    /** The image a committed one was made from (docker commit records it; pulled and loaded images have none). */
    public ImageRecord withParent(Digest value) {
        return new ImageRecord(id, layers, size, stored, lastTagTime, manifests, value);
    }

    /**
     * One layer of the image.
     *
     * @param diffId        sha256 of the uncompressed layer tar
     * @param chainId       the snapshot key: Docker's ChainID of the layers up to this one
     * @param size          bytes of file content the layer holds
     * @param tarSize       bytes of the uncompressed tar, or -1 when not known
     * @param blob          the blob in the content store this layer came from (compressed or not), or null
     * @param blobMediaType that blob's media type, or null
     */
    public record Layer(Digest diffId, Digest chainId, long size, long tarSize, Digest blob, String blobMediaType) {}

    /** The snapshot a container's writable layer stands on; null for an image without layers. */
    @JsonIgnore
    public Digest topChainId() {
        return layers.isEmpty() ? null : layers.getLast().chainId();
    }

    @JsonIgnore
    public List<Digest> chainIds() {
        return layers.stream().map(Layer::chainId).toList();
    }

    public ImageRecord withLastTagTime(String time) {
        return new ImageRecord(id, layers, size, stored, time, manifests, parent);
    }

    /** With {@code more} manifests added (no duplicates). */
    public ImageRecord withManifests(List<Digest> more) {
        var all = new java.util.LinkedHashSet<>(manifests);
        all.addAll(more);
        return new ImageRecord(id, layers, size, stored, lastTagTime, List.copyOf(all), parent);
    }

    /** Docker's ChainIDs: the first is the first DiffID, then {@code sha256(parent + " " + diffId)}. */
    public static List<Digest> chainIds(List<Digest> diffIds) {
        List<Digest> out = new ArrayList<>(diffIds.size());
        Digest parent = null;
        for (Digest d : diffIds) {
            parent = parent == null ? d : Digest.sha256((parent + " " + d).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.add(parent);
        }
        return out;
    }
}
