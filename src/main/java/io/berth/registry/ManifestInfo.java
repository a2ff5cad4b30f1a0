package io.berth.registry;

import io.berth.content.Digest;

/**
 * What a {@code HEAD} of a manifest tells: its digest, media type and size.
 *
 * @param size -1 when the registry did not say
 */
public record ManifestInfo(Digest digest, String mediaType, long size) {}
