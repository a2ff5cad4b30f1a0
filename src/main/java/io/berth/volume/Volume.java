package io.berth.volume;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * A named volume of the local driver.
 *
 * @param options the driver options given at create: {@code type}, {@code device}, {@code o}
 * @param anonymous made for an image VOLUME or a bare {@code -v /path}, named by a random ID
 */
public record Volume(String name, Path mountpoint, Instant createdAt, Map<String, String> labels,
                     Map<String, String> options, boolean anonymous) {
    public Volume {
        labels = Map.copyOf(labels);
        options = Map.copyOf(options);
    }

    /** Whether the volume is a mount of its own (tmpfs, a bind, a device) rather than a plain folder. */
    public boolean needsMount() {
        return options.containsKey("type") || options.containsKey("device");
    }
}
