package io.berth.content;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One binary semaphore a key, created on first use and dropped when nobody holds or waits
 * for it. A semaphore, not a ReentrantLock: a writer may be opened on one thread and
 * committed on another, and a second open of the same key on the same thread must wait
 * (or fail), not re-enter.
 */
final class KeyedLocks {
    private final Map<String, Entry> entries = new HashMap<>();

    private static final class Entry {
        final Semaphore semaphore = new Semaphore(1, true);
        int users;
        boolean held;
    }

    /** An acquired key; close releases it once, later closes do nothing. */
    final class Held implements AutoCloseable {
        private final String key;
        private final Entry entry;
        private boolean released;

        private Held(String key, Entry entry) {
            this.key = key;
            this.entry = entry;
        }

        @Override
        public void close() {
            synchronized (KeyedLocks.this) {
                if (released) return;
                released = true;
                entry.held = false;
            }
            entry.semaphore.release();
            unuse(key, entry);
        }
    }

    Held acquire(String key) throws InterruptedException {
        Entry e = use(key);
        try {
            e.semaphore.acquire();
        } catch (InterruptedException ie) {
            unuse(key, e);
            throw ie;
        }
        return held(key, e);
    }

    /** Null when the key stays busy for {@code timeoutMillis} (0: do not wait). */
    Held tryAcquire(String key, long timeoutMillis) throws InterruptedException {
        Entry e = use(key);
        boolean ok;
        try {
            ok = e.semaphore.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException ie) {
            unuse(key, e);
            throw ie;
        }
        if (!ok) {
            unuse(key, e);
            return null;
        }
        return held(key, e);
    }

    synchronized boolean isHeld(String key) {
        Entry e = entries.get(key);
        return e != null && e.held;
    }

    private synchronized Held held(String key, Entry e) {
        e.held = true;
        return new Held(key, e);
    }

    private synchronized Entry use(String key) {
        Entry e = entries.computeIfAbsent(key, k -> new Entry());
        e.users++;
        return e;
    }

    private synchronized void unuse(String key, Entry e) {
        if (--e.users == 0) entries.remove(key, e);
    }
}
