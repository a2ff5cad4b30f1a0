package io.berth.build;

import io.berth.content.Digest;

/** Where a build reports: the text the classic builder prints, and the resulting image ID. */
public interface BuildOutput {
    /** Text for the client's terminal ({@code {"stream": ...}}): step lines, RUN output. */
    void stream(String text);

    /** The ID of the image built ({@code {"aux":{"ID": ...}}}). */
    void imageId(Digest id);

    /** True once the client went away: the build stops (a running RUN is killed). */
    default boolean cancelled() {
        return false;
    }
}
