package io.berth.image;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.util.Locale;

/**
 * Reads a manifest or index from its bytes. The media type comes from the document's own
 * {@code mediaType} field when it has one, else from the HTTP {@code Content-Type}, else
 * from the document's shape ({@code manifests} is an index; {@code config} and
 * {@code layers} a manifest, both OCI then). Schema 1 is refused with a message that says so.
 */
public final class ManifestParser {
    private ManifestParser() {}

    /** Parses {@code bytes}; {@code contentType} may be null, generic ({@code application/json}) or carry parameters. */
    public static ParsedManifest parse(byte[] bytes, String contentType) {
        JsonNode tree;
        try {
            tree = ImageJson.MAPPER.readTree(bytes);
        } catch (JacksonException e) {
            throw new InvalidManifestException("invalid manifest: not JSON: " + e.getOriginalMessage(), e);
        }
        if (tree == null || !tree.isObject()) throw new InvalidManifestException("invalid manifest: want a JSON object");

        String declared = tree.hasNonNull("mediaType") ? tree.get("mediaType").asString() : null;
        String header = specific(contentType);
        String mediaType = declared != null && !declared.isEmpty() ? declared : header != null ? header : sniff(tree);

        if (MediaTypes.isSchema1(mediaType) || tree.path("schemaVersion").asInt(0) == 1) {
            throw new InvalidManifestException("unsupported manifest format: Docker image manifest schema 1 (" + mediaType
                    + ") was removed from Docker; push the image again with a current client to get schema 2 or OCI");
        }
        int schemaVersion = tree.path("schemaVersion").asInt(0);
        if (schemaVersion != 2) {
            throw new InvalidManifestException("unsupported manifest schemaVersion " + tree.path("schemaVersion") + " (media type " + mediaType + "): want 2");
        }
        try {
            if (MediaTypes.isIndex(mediaType)) {
                ManifestIndex index = ImageJson.MAPPER.treeToValue(tree, ManifestIndex.class);
                if (!tree.has("manifests")) throw new InvalidManifestException("invalid " + mediaType + ": no \"manifests\"");
                return new ParsedManifest.Index(mediaType, bytes, index);
            }
            if (MediaTypes.isImageManifest(mediaType)) {
                ImageManifest manifest = ImageJson.MAPPER.treeToValue(tree, ImageManifest.class);
                if (manifest.config() == null) throw new InvalidManifestException("invalid " + mediaType + ": no \"config\" descriptor");
                return new ParsedManifest.Image(mediaType, bytes, manifest);
            }
        } catch (JacksonException e) {
            throw new InvalidManifestException("invalid " + mediaType + ": " + e.getOriginalMessage(), e);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new InvalidManifestException("invalid " + mediaType + ": " + e.getMessage(), e);
        }
        throw new InvalidManifestException("unsupported manifest media type \"" + mediaType + "\": Berth reads "
                + String.join(", ", MediaTypes.MANIFEST_ACCEPT));
    }

    /** The media type of a Content-Type header, or null when it says nothing specific. */
    static String specific(String contentType) {
        if (contentType == null) return null;
        int semi = contentType.indexOf(';');
        String mt = (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        return switch (mt) {
            case "", "application/json", "text/plain", "application/octet-stream", "binary/octet-stream" -> null;
            default -> mt;
        };
    }

    private static String sniff(JsonNode tree) {
        if (tree.has("manifests")) return MediaTypes.OCI_INDEX;
        if (tree.has("config") && tree.has("layers")) return MediaTypes.OCI_MANIFEST;
        if (tree.has("fsLayers") || tree.has("signatures")) return MediaTypes.DOCKER_SCHEMA1_MANIFEST;
        throw new InvalidManifestException("cannot tell what kind of manifest this is: no mediaType, no useful Content-Type, and neither \"manifests\" nor \"config\" and \"layers\"");
    }
}
