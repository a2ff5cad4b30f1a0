package io.berth.image;

import io.berth.content.Digest;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What an API argument such as {@code docker inspect X} or {@code docker rmi X} names: a
 * full image ID, or a reference that might also be a unique prefix of an ID.
 * <ul>
 *   <li>{@code sha256:<64 hex>} or {@code <64 hex>}: {@link ById};</li>
 *   <li>anything else that parses as a reference: {@link ByReference}; when the text is
 *       also 1–63 hex characters (optionally after {@code sha256:}), {@code idPrefix}
 *       carries them, and the image store should try the reference first, then the
 *       prefix, as Docker does ({@code abc123} may be a repository or an ID).</li>
 * </ul>
 */
public sealed interface ImageLookup {
    Pattern FULL_ID = Pattern.compile("(?:sha256:)?([a-f0-9]{64})");
    Pattern ID_PREFIX = Pattern.compile("(?:sha256:)?([a-f0-9]{1,63})");

    record ById(Digest id) implements ImageLookup {}

    record ByReference(ImageReference reference, Optional<String> idPrefix) implements ImageLookup {}

    /** Throws InvalidReferenceException when the text is neither an ID nor a reference. */
    static ImageLookup parse(String text) {
        var full = FULL_ID.matcher(text);
        if (full.matches()) return new ById(new Digest("sha256", full.group(1)));
        ImageReference ref = ImageReference.parse(text);
        var prefix = ID_PREFIX.matcher(text);
        return new ByReference(ref, prefix.matches() ? Optional.of(prefix.group(1)) : Optional.empty());
    }

    /** True for {@code sha256:<64 hex>} or 64 hex characters. */
    static boolean isFullId(String text) {
        return FULL_ID.matcher(text).matches();
    }

    /** True for 1–64 hex characters, optionally after {@code sha256:}. */
    static boolean isIdOrPrefix(String text) {
        return isFullId(text) || ID_PREFIX.matcher(text).matches();
    }
}
