package io.berth;

import sun.misc.Signal;

/** SIGHUP handling (SIGTERM and SIGINT go through the JVM's shutdown hooks). */
final class Signals {
    private Signals() {}

    static void onHangup(Runnable action) {
        Signal.handle(new Signal("HUP"), signal -> Thread.ofVirtual().start(action));
    }
}
