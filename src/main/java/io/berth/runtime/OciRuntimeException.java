package io.berth.runtime;

import io.berth.errdefs.ErrorKind;
import io.berth.errdefs.Kinded;

import java.io.IOException;

/** The OCI runtime or conmon failed; the message carries the runtime's own words. */
public class OciRuntimeException extends IOException implements Kinded {
    public OciRuntimeException(String message) {
        super(message);
    }

    public OciRuntimeException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The runtime does not know the container (never created, or deleted). */
    public static final class NoSuchContainer extends OciRuntimeException {
        public NoSuchContainer(String message) {
            super(message);
        }
    }

    /**
     * The runtime made the container (or exec) but could not run its process: the command is
     * missing or cannot be executed. The runtime's message is read once, here, where its words
     * are known; the engine answers by the reason (exit code 127 or 126, a 400 to the client).
     */
    public static final class ProcessNotStarted extends OciRuntimeException {
        public enum Reason {
            NOT_FOUND(127), NOT_EXECUTABLE(126);

            private final int exitCode;

            Reason(int exitCode) {
                this.exitCode = exitCode;
            }

            /** The exit code dockerd records for a process that never ran for this reason. */
            public int exitCode() {
                return exitCode;
            }
        }

        private final Reason reason;

        public ProcessNotStarted(String message, Reason reason) {
            super(message);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }

        @Override
        public ErrorKind kind() {
            return ErrorKind.INVALID_ARGUMENT;
        }
    }

    /**
     * The failure of a create or exec, typed by what runc and crun say when the process cannot
     * be run ("executable file not found in $PATH", "no such file or directory", "permission
     * denied"); any other failure stays an internal one.
     */
    public static OciRuntimeException ofStartFailure(String message) {
        if (message.contains("executable file not found") || message.contains("no such file or directory")) {
            return new ProcessNotStarted(message, ProcessNotStarted.Reason.NOT_FOUND);
        }
        if (message.contains("permission denied")) return new ProcessNotStarted(message, ProcessNotStarted.Reason.NOT_EXECUTABLE);
        return new OciRuntimeException(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.INTERNAL;
    }
}
