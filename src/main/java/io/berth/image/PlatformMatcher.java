package io.berth.image;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Picks the manifest of an index that runs here. The wanted platform, normalised, is
 * first; then what the CPU also runs, best first:
 * <ul>
 *   <li>amd64/vN: amd64 at lower levels down to v1, then 386;</li>
 *   <li>arm64 (= arm64/v8): then arm/v8, arm/v7, arm/v6, arm/v5 (32-bit userland);</li>
 *   <li>arm/vN: arm at lower versions down to v5.</li>
 * </ul>
 * The OS must be equal. Attestation manifests and entries without a platform never match.
 * Among equally good entries the first in the index wins.
 */
public final class PlatformMatcher {
    private final Platform wanted;
    private final List<Platform> acceptable;

    private PlatformMatcher(Platform wanted) {
        this.wanted = wanted.normalize();
        this.acceptable = List.copyOf(vector(this.wanted));
    }

    public static PlatformMatcher of(Platform wanted) {
        return new PlatformMatcher(Objects.requireNonNull(wanted, "platform"));
    }

    public static PlatformMatcher forHost() {
        return of(Platform.host());
    }

    public Platform wanted() {
        return wanted;
    }

    /** The platforms accepted, best first (os/arch/variant only). */
    public List<Platform> acceptable() {
        return acceptable;
    }

    /** 0 for the wanted platform, higher for fallbacks; empty when {@code p} does not run here. */
    public OptionalInt rank(Platform p) {
        if (p == null) return OptionalInt.empty();
        Platform n = p.normalize();
        for (int i = 0; i < acceptable.size(); i++) {
            Platform a = acceptable.get(i);
            if (Objects.equals(a.os(), n.os()) && Objects.equals(a.architecture(), n.architecture()) && Objects.equals(a.variant(), n.variant())) {
                return OptionalInt.of(i);
            }
        }
        return OptionalInt.empty();
    }

    public boolean matches(Platform p) {
        return rank(p).isPresent();
    }

    /** The best entry of the index for this platform, if any. */
    public Optional<Descriptor> trySelect(ManifestIndex index) {
        Descriptor best = null;
        int bestRank = Integer.MAX_VALUE;
        for (Descriptor d : index.manifests()) {
            if (d.isAttestation()) continue;
            OptionalInt r = rank(d.platform());
            if (r.isPresent() && r.getAsInt() < bestRank) {
                best = d;
                bestRank = r.getAsInt();
            }
        }
        return Optional.ofNullable(best);
    }

    /** The best entry; {@link NoMatchingPlatformException} listing what the index offers when none fits. */
    public Descriptor select(ManifestIndex index) {
        return trySelect(index).orElseThrow(() -> new NoMatchingPlatformException(wanted,
                index.manifests().stream().filter(d -> !d.isAttestation() && d.platform() != null).map(d -> d.platform().normalize()).toList()));
    }

    private static List<Platform> vector(Platform p) {
        List<Platform> out = new ArrayList<>();
        String os = p.os();
        String arch = Objects.requireNonNullElse(p.architecture(), "");
        out.add(Platform.of(os, arch, p.variant()));
        switch (arch) {
            case "amd64" -> {
                int level = level(p.variant());
                for (int l = level - 1; l >= 1; l--) out.add(Platform.of(os, "amd64", l == 1 ? null : "v" + l));
                out.add(Platform.of(os, "386", null));
            }
            case "arm64" -> {
                if (p.variant() != null && p.variant().startsWith("v9")) out.add(Platform.of(os, "arm64", null));
                for (int v = 8; v >= 5; v--) out.add(Platform.of(os, "arm", "v" + v));
            }
            case "arm" -> {
                for (int v = level(p.variant()) - 1; v >= 5; v--) out.add(Platform.of(os, "arm", "v" + v));
            }
            default -> { }
        }
        return out;
    }

    private static int level(String variant) {
        if (variant == null || !variant.matches("v[0-9]+")) return 1;
        return Integer.parseInt(variant.substring(1));
    }
}
