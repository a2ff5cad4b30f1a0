package io.berth.sys;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a system call that may block for long (umount of an overlay flushes its upper
 * filesystem) on a platform thread when the caller is a virtual thread. A native call pins
 * the virtual thread's carrier, and there are only as many carriers as cores: two removals
 * unmounting at once would stall every other request of the daemon.
 */
final class OffCarrier {
    private OffCarrier() {}

    interface Call {
        void run() throws IOException;
    }

    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "blocking syscall");
        t.setDaemon(true);
        return t;
    });

    static void run(Call call) throws IOException {
        if (!Thread.currentThread().isVirtual()) {
            call.run();
            return;
        }
        Future<?> f = THREADS.submit(() -> {
            call.run();
            return null;
        });
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true; // the call cannot be cut short: wait for its outcome
                }
            }
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case RuntimeException re -> throw re;
                case Error err -> throw err;
                default -> throw new IOException(e.getCause());
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
