package io.berth.image;

import io.berth.content.Digest;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A normalised image reference, {@code domain/path[:tag][@digest]}, parsed by Docker's
 * rules (the grammar of github.com/distribution/reference):
 * <ul>
 *   <li>the first path component is a domain when it contains {@code .} or {@code :}, is
 *       {@code localhost}, or has an upper-case letter; otherwise the domain is
 *       {@code docker.io} and a one-component path gets {@code library/} in front;</li>
 *   <li>{@code index.docker.io} is {@code docker.io};</li>
 *   <li>path components are lower-case letters and digits joined by {@code .}, {@code _},
 *       {@code __} or runs of {@code -};</li>
 *   <li>a tag is {@code [\w][\w.-]{0,127}}; the name ({@code domain/path}) is at most 255
 *       characters.</li>
 * </ul>
 * {@link #parse} keeps what was written (no tag added); {@link #parseDockerRef} gives
 * what {@code docker pull} fetches: {@code :latest} when neither tag nor digest is given,
 * and the tag dropped when a digest is given. {@link #toString()} is the familiar form the
 * docker CLI shows ({@code busybox:latest}); {@link #canonicalString()} the full one.
 */
public record ImageReference(String domain, String path, String tagOrNull, Digest digestOrNull) {
    public static final String DEFAULT_DOMAIN = "docker.io";
    public static final String LEGACY_DEFAULT_DOMAIN = "index.docker.io";
    public static final String OFFICIAL_PREFIX = "library/";
    public static final String DEFAULT_TAG = "latest";
    public static final int NAME_TOTAL_LENGTH_MAX = 255;

    private static final String ALNUM = "[a-z0-9]+";
    private static final String SEPARATOR = "(?:[._]|__|-+)";
    private static final String PATH_COMPONENT = ALNUM + "(?:" + SEPARATOR + ALNUM + ")*";
    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final String DOMAIN_NAME = DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*";
    private static final String IPV6 = "\\[[a-fA-F0-9:]+\\]";
    private static final String DOMAIN = "(?:" + DOMAIN_NAME + "|" + IPV6 + ")(?::[0-9]+)?";
    private static final String TAG = "[\\w][\\w.-]{0,127}";
    private static final String DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    private static final String NAME = "(?:(" + DOMAIN + ")/)?(" + PATH_COMPONENT + "(?:/" + PATH_COMPONENT + ")*)";

    private static final Pattern REFERENCE = Pattern.compile("(" + NAME + ")(?::(" + TAG + "))?(?:@(" + DIGEST + "))?");
    private static final Pattern TAG_ONLY = Pattern.compile(TAG);
    private static final Pattern PATH_ONLY = Pattern.compile(PATH_COMPONENT + "(?:/" + PATH_COMPONENT + ")*");
    private static final Pattern DOMAIN_ONLY = Pattern.compile(DOMAIN);
    private static final Pattern HEX64 = Pattern.compile("[a-f0-9]{64}");

    public ImageReference {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(path, "path");
        if (!DOMAIN_ONLY.matcher(domain).matches()) throw new InvalidReferenceException("invalid reference format: invalid domain \"" + domain + "\"");
        if (!PATH_ONLY.matcher(path).matches()) throw new InvalidReferenceException("invalid reference format: invalid repository path \"" + path + "\"");
        if (domain.length() + 1 + path.length() > NAME_TOTAL_LENGTH_MAX) {
            throw new InvalidReferenceException("repository name must not be more than " + NAME_TOTAL_LENGTH_MAX + " characters");
        }
        if (tagOrNull != null && !TAG_ONLY.matcher(tagOrNull).matches()) {
            throw new InvalidReferenceException("invalid tag format: \"" + tagOrNull + "\"");
        }
    }

    /** Parses and normalises as the docker CLI and daemon do; the tag is not defaulted. */
    public static ImageReference parse(String text) {
        Objects.requireNonNull(text, "reference");
        if (text.length() > 4096) throw new InvalidReferenceException("invalid reference format");
        if (HEX64.matcher(text).matches()) {
            throw new InvalidReferenceException("invalid repository name (" + text + "), cannot specify 64-byte hexadecimal strings");
        }
        String domain;
        String remainder;
        int slash = text.indexOf('/');
        String first = slash < 0 ? "" : text.substring(0, slash);
        if (slash < 0 || (!looksLikeDomain(first))) {
            domain = DEFAULT_DOMAIN;
            remainder = text;
        } else {
            domain = first;
            remainder = text.substring(slash + 1);
        }
        if (domain.equals(LEGACY_DEFAULT_DOMAIN)) domain = DEFAULT_DOMAIN;
        if (domain.equals(DEFAULT_DOMAIN) && remainder.indexOf('/') < 0) remainder = OFFICIAL_PREFIX + remainder;

        int colon = remainder.indexOf(':');
        String remoteName = colon < 0 ? remainder : remainder.substring(0, colon);
        if (!remoteName.toLowerCase(Locale.ROOT).equals(remoteName)) {
            throw new InvalidReferenceException("invalid reference format: repository name (" + remoteName + ") must be lowercase");
        }
        return parseFull(domain + "/" + remainder);
    }

    /** What {@code docker pull TEXT} fetches: {@code :latest} by default, the tag dropped beside a digest. */
    public static ImageReference parseDockerRef(String text) {
        ImageReference ref = parse(text);
        if (ref.digestOrNull != null) return ref.tagOrNull == null ? ref : new ImageReference(ref.domain, ref.path, null, ref.digestOrNull);
        return ref.withDefaultTag();
    }

    /** Null instead of an exception. */
    public static Optional<ImageReference> tryParse(String text) {
        try {
            return Optional.of(parse(text));
        } catch (InvalidReferenceException e) {
            return Optional.empty();
        }
    }

    private static boolean looksLikeDomain(String first) {
        return first.contains(".") || first.contains(":") || first.equals("localhost")
                || !first.toLowerCase(Locale.ROOT).equals(first);
    }

    /** Parses a fully qualified {@code domain/path[:tag][@digest]} as it is, without normalising. */
    private static ImageReference parseFull(String s) {
        Matcher m = REFERENCE.matcher(s);
        if (!m.matches()) {
            if (s.isEmpty()) throw new InvalidReferenceException("repository name must have at least one component");
            if (REFERENCE.matcher(s.toLowerCase(Locale.ROOT)).matches()) throw new InvalidReferenceException("repository name must be lowercase");
            throw new InvalidReferenceException("invalid reference format");
        }
        if (m.group(1).length() > NAME_TOTAL_LENGTH_MAX) {
            throw new InvalidReferenceException("repository name must not be more than " + NAME_TOTAL_LENGTH_MAX + " characters");
        }
        // "a_b.c/d": the first component was taken for a domain but is not a valid one
        if (m.group(2) == null) throw new InvalidReferenceException("invalid reference format");
        Digest digest = m.group(5) == null ? null : parseDigest(m.group(5));
        return new ImageReference(m.group(2), m.group(3), m.group(4), digest);
    }

    private static Digest parseDigest(String text) {
        int colon = text.indexOf(':');
        String algorithm = text.substring(0, colon);
        String hex = text.substring(colon + 1);
        if (!algorithm.equals("sha256")) {
            throw new InvalidReferenceException(algorithm.equals("sha384") || algorithm.equals("sha512")
                    ? "unsupported digest algorithm: " + algorithm + " (Berth stores sha256 only)"
                    : "unsupported digest algorithm");
        }
        if (hex.length() != 64) throw new InvalidReferenceException("invalid checksum digest length");
        if (!HEX64.matcher(hex).matches()) throw new InvalidReferenceException("invalid checksum digest format");
        return new Digest(algorithm, hex);
    }

    public Optional<String> tag() {
        return Optional.ofNullable(tagOrNull);
    }

    public Optional<Digest> digest() {
        return Optional.ofNullable(digestOrNull);
    }

    /** {@code docker.io/library/busybox}: the repository, fully qualified. */
    public String fullName() {
        return domain + "/" + path;
    }

    /** {@code busybox}, {@code user/app}, {@code localhost:5000/team/app}: the repository as the docker CLI shows it. */
    public String familiarName() {
        if (!domain.equals(DEFAULT_DOMAIN)) return fullName();
        if (path.startsWith(OFFICIAL_PREFIX) && path.indexOf('/', OFFICIAL_PREFIX.length()) < 0) {
            return path.substring(OFFICIAL_PREFIX.length());
        }
        return path;
    }

    /** The path a registry's API uses: {@code library/busybox}. */
    public String repository() {
        return path;
    }

    public boolean isDockerHub() {
        return domain.equals(DEFAULT_DOMAIN);
    }

    public ImageReference withTag(String tag) {
        return new ImageReference(domain, path, Objects.requireNonNull(tag, "tag"), digestOrNull);
    }

    public ImageReference withDigest(Digest digest) {
        return new ImageReference(domain, path, tagOrNull, Objects.requireNonNull(digest, "digest"));
    }

    /** Only the repository, no tag or digest. */
    public ImageReference nameOnly() {
        return new ImageReference(domain, path, null, null);
    }

    /** {@code :latest} added when there is neither tag nor digest. */
    public ImageReference withDefaultTag() {
        return tagOrNull == null && digestOrNull == null ? withTag(DEFAULT_TAG) : this;
    }

    /** {@code docker.io/library/busybox:latest}. */
    public String canonicalString() {
        return suffixed(fullName());
    }

    /** {@code busybox:latest}, as in an image's RepoTags (or RepoDigests with a digest). */
    public String familiarString() {
        return suffixed(familiarName());
    }

    private String suffixed(String name) {
        StringBuilder sb = new StringBuilder(name);
        if (tagOrNull != null) sb.append(':').append(tagOrNull);
        if (digestOrNull != null) sb.append('@').append(digestOrNull);
        return sb.toString();
    }

    @Override
    public String toString() {
        return familiarString();
    }
}
