package io.berth.errdefs;

/** An unchecked failure of a given kind: the base of the boxes' own refusals. */
public class KindedException extends RuntimeException implements Kinded {
    private final ErrorKind kind;

    public KindedException(ErrorKind kind, String message) {
        this(kind, message, null);
    }

    public KindedException(ErrorKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    @Override
    public ErrorKind kind() {
        return kind;
    }

    /** The same failure, message and cause seen as another kind: a use case that knows better (see ErrorKinds). */
    public static KindedException as(ErrorKind kind, Throwable failure) {
        return new KindedException(kind, ErrorKinds.message(failure), failure);
    }
}
