package io.berth.runtime;

import java.util.List;

/**
 * A process to run in a running container (docker exec). Unset fields take the container's
 * values from its config.json: user, working directory, capabilities, rlimits.
 *
 * @param args the command, at least one word
 * @param env "KEY=value" entries that override or add to the container's environment
 * @param cwd the working directory, or null for the container's
 * @param uid the user, or null for the container's
 * @param gid the group, or null for the container's (only used with uid)
 * @param additionalGids supplementary groups (only used with uid)
 * @param tty give the process a pseudo-terminal
 * @param stdin keep a stdin pipe open to the process (docker exec -i)
 * @param attach stream its output through an attach socket; false for docker exec -d
 * @param privileged give the process every capability the daemon holds
 * @param consoleHeight initial rows of the terminal, 0 for the default
 * @param consoleWidth initial columns, 0 for the default
 */
public record ExecSpec(List<String> args, List<String> env, String cwd, Integer uid, Integer gid, List<Integer> additionalGids,
                       boolean tty, boolean stdin, boolean attach, boolean privileged, int consoleHeight, int consoleWidth) {
    public ExecSpec {
        if (args == null || args.isEmpty()) throw new IllegalArgumentException("no command given to exec");
        args = List.copyOf(args);
        env = env == null ? List.of() : List.copyOf(env);
        additionalGids = additionalGids == null ? List.of() : List.copyOf(additionalGids);
    }

    /** An attached exec without a terminal or stdin, as the container's user. */
    public static ExecSpec of(String... args) {
        return new ExecSpec(List.of(args), List.of(), null, null, null, List.of(), false, false, true, false, 0, 0);
    }

    public ExecSpec withTty(boolean tty) {
        return new ExecSpec(args, env, cwd, uid, gid, additionalGids, tty, stdin, attach, privileged, consoleHeight, consoleWidth);
    }

    public ExecSpec withStdin(boolean stdin) {
        return new ExecSpec(args, env, cwd, uid, gid, additionalGids, tty, stdin, attach, privileged, consoleHeight, consoleWidth);
    }

    public ExecSpec withAttach(boolean attach) {
        return new ExecSpec(args, env, cwd, uid, gid, additionalGids, tty, stdin, attach, privileged, consoleHeight, consoleWidth);
    }

    public ExecSpec withUser(Integer uid, Integer gid) {
        return new ExecSpec(args, env, cwd, uid, gid, additionalGids, tty, stdin, attach, privileged, consoleHeight, consoleWidth);
    }

    public ExecSpec withEnv(List<String> env) {
        return new ExecSpec(args, env, cwd, uid, gid, additionalGids, tty, stdin, attach, privileged, consoleHeight, consoleWidth);
    }

    public ExecSpec withCwd(String cwd) {
        return new ExecSpec(args, env, cwd, uid, gid, additionalGids, tty, stdin, attach, privileged, consoleHeight, consoleWidth);
    }

    public ExecSpec withPrivileged(boolean privileged) {
        return new ExecSpec(args, env, cwd, uid, gid, additionalGids, tty, stdin, attach, privileged, consoleHeight, consoleWidth);
    }

    public ExecSpec withConsoleSize(int height, int width) {
        return new ExecSpec(args, env, cwd, uid, gid, additionalGids, tty, stdin, attach, privileged, height, width);
    }
}
