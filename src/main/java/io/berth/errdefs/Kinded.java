package io.berth.errdefs;

/**
 * A failure that knows its {@link ErrorKind}. An interface rather than a base class, so that
 * checked {@code IOException}s (a blob not found, a bad tar) and unchecked refusals alike can
 * carry a kind without changing what their callers catch.
 */
public interface Kinded {
    ErrorKind kind();
}
