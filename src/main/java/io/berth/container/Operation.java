package io.berth.container;

/** What a user or the daemon asks of a container; {@link Container#begin} checks each against the state. */
public enum Operation {
    START, STOP, KILL, RESTART, PAUSE, UNPAUSE, EXEC, ATTACH, REMOVE, FORCE_REMOVE, RENAME, UPDATE, TOP, STATS, WAIT
}
