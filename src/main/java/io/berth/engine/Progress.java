package io.berth.engine;

import io.berth.content.Digest;

/**
 * What a long image operation reports as it goes (pull, push, load, import); the API turns
 * each into one of Docker's JSON progress messages.
 */
public sealed interface Progress {
    /** A line of status, for one item ({@code id}, e.g. a layer's short digest) or for the whole operation ({@code id} null). */
    record Status(String id, String status) implements Progress {}

    /** Bytes done of an item: Downloading, Extracting, Pushing. {@code total} is -1 when unknown. */
    record Bytes(String id, String status, long current, long total) implements Progress {}

    /** Free text, as {@code docker load} prints it ("Loaded image: x:latest"). */
    record Text(String text) implements Progress {}

    /** The result of pushing one tag. */
    record Pushed(String tag, Digest digest, long size) implements Progress {}

    /** Receives progress; implementations must be thread-safe (layers report from several threads). */
    @FunctionalInterface
    interface Sink {
        Sink NONE = p -> { };

        void emit(Progress p);
    }
}
