package io.berth.build;

import java.util.List;

/**
 * One build stage: its FROM and the instructions after it up to the next FROM.
 *
 * @param index        0-based position in the Dockerfile (what {@code COPY --from=0} names)
 * @param name         the {@code AS} name in lower case, or null
 * @param from         the FROM instruction (image raw, expanded by the builder with the meta ARGs)
 * @param instructions the instructions after FROM, in order
 */
public record Stage(int index, String name, Instruction.From from, List<Instruction> instructions) {
    public Stage {
        instructions = List.copyOf(instructions);
    }

    /** The FROM image as written (may hold {@code $VARS}). */
    public String baseName() {
        return from.image();
    }

    /** {@code --platform} as written, or null. */
    public String platform() {
        return from.platform();
    }

    /** The name for messages: the AS name, else the index. */
    public String displayName() {
        return name != null ? name : String.valueOf(index);
    }
}
