package io.berth.registry;

import io.berth.content.Digest;

/**
 * A manifest or index as the registry sent it, verified against its digest.
 *
 * @param mediaType the Content-Type the registry gave (parameters stripped)
 */
public record FetchedManifest(byte[] bytes, String mediaType, Digest digest) {}
