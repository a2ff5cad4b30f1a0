package io.berth.container;

import java.util.Locale;

/** Docker's container states, shown as State.Status and used by the status filter. */
public enum ContainerStatus {
    CREATED, RUNNING, PAUSED, RESTARTING, REMOVING, EXITED, DEAD;

    /** The lower-case word Docker shows. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ContainerStatus parse(String word) {
        try {
            return valueOf(word.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ContainerException.invalid("invalid filter 'status=" + word
                    + "': use created, restarting, running, removing, paused, exited or dead");
        }
    }

    /** A process exists for the container (running or paused, or restarting between tries with one). */
    public boolean hasProcess() {
        return this == RUNNING || this == PAUSED;
    }
}
