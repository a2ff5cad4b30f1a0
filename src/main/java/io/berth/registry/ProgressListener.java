package io.berth.registry;

/** Told how far a blob transfer got; called from the transferring thread after every chunk. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (current, total) -> { };

    /**
     * @param current bytes transferred so far, counting any resumed prefix
     * @param total   the blob's size, or -1 when unknown
     */
    void progress(long current, long total);
}
