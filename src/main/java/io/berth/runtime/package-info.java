/**
 * The runtime box: OCI containers under conmon with runc or crun. The engine and the builder
 * see it through {@link io.berth.runtime.Runtime} (the verbs of a container's process), which
 * {@link io.berth.runtime.RuntimeProvider} gives by name; {@link io.berth.runtime.ConmonRuntimes}
 * is the real provider, one {@link io.berth.runtime.Conmon} per OCI runtime sharing one exit
 * watcher. Below, the parts used directly:
 *
 * <pre>{@code
 * HostFacts host = HostFacts.detect();
 * OciRuntime runc = new OciRuntime("runc", runtimes.available().get("runc"), dataRoot.resolve("runtime/runc"));
 * Conmon conmon = new Conmon(Conmon.findConmon().orElseThrow(), runc, execRoot.resolve("exits"), host);
 * ExitWatcher exits = new ExitWatcher(conmon.exitDir(), exit -> ...).start();
 *
 * ContainerSpec spec = ContainerSpec.builder(rootfs, List.of("sh", "-c", "echo hi"))
 *         .env(env).tty(false).openStdin(true).stdinOnce(true)
 *         .resources(Resources.NONE.withMemory(64L << 20)).build();
 * ContainerHandle h = conmon.create(id, bundleDir, spec, logFile);  // config.json + runtime create
 * AttachSession a = AttachSession.open(h.bundle());                 // before start: no output lost
 * conmon.start(id);
 * a.pump(sink, 16 << 20); a.writeStdin(bytes); a.closeStdin(); a.resize(rows, cols); a.close();
 * exits.await(id).get();   // ContainerExit(id, exitCode, time); conmon.oomKilled(h, OciSpec.cgroupsPath("/berth", id))
 * conmon.kill(id, "TERM"); conmon.pause(id); conmon.resume(id); conmon.state(id);
 * ExecSession e = conmon.exec(id, h.bundle(), execDir, ExecSpec.of("id", "-u").withTty(false).withStdin(false));
 * e.attach().read(); e.exitCode().get();
 * LogReader.read(logFile, LogQuery.ALL.withFollow(true).withTail(10), stillRunning, entry -> ...); // rotated files too
 * new LogRotator(() -> targets).start();  // max-size/max-file: rename log -> log.1, Conmon.reopenLog(bundle)
 * conmon.delete(id);   // runtime delete --force, waits for conmon, removes the exit file
 * conmon.recover(id, bundleDir);   // after a daemon restart: Live(handle, state) | Exited(exit) | Gone
 * }</pre>
 */
package io.berth.runtime;
