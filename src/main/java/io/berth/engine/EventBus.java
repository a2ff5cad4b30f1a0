package io.berth.engine;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Delivers events to every listener and keeps the most recent ones so that
 * {@code docker events --since} can replay the past. A listener too slow to keep up loses
 * events rather than slowing down the engine, as in dockerd.
 */
public final class EventBus {
    /** How many past events are kept for --since; dockerd keeps a similar window in memory. */
    static final int HISTORY = 1024;
    private static final int LISTENER_QUEUE = 1024;

    private final ArrayDeque<Event> history = new ArrayDeque<>(HISTORY);
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private long lastNano;

    /** Records and delivers an event stamped with the current time. */
    public Event publish(String type, String action, String actorId, Map<String, String> attributes) {
        Event event;
        synchronized (history) {
            long now = nowNano();
            // Strictly increasing stamps keep since/until replays exact even within a clock tick.
            lastNano = Math.max(now, lastNano + 1);
            event = new Event(type, action, actorId, attributes, "local", lastNano);
            if (history.size() == HISTORY) history.removeFirst();
            history.addLast(event);
            for (Subscription s : subscriptions) s.offer(event);
        }
        return event;
    }

    /**
     * Subscribes to events matching {@code filter}; the past events at or after
     * {@code sinceNano} (if not null) are replayed first.
     */
    public Subscription subscribe(Long sinceNano, Predicate<Event> filter) {
        synchronized (history) {
            Subscription s = new Subscription(filter);
            if (sinceNano != null) {
                for (Event e : history) {
                    if (e.timeNano() >= sinceNano) s.offer(e);
                }
            }
            subscriptions.add(s);
            return s;
        }
    }

    public int listenerCount() {
        return subscriptions.size();
    }

    /** The past events within [sinceNano, untilNano], for a request that asks only for history. */
    public List<Event> history(long sinceNano, long untilNano, Predicate<Event> filter) {
        synchronized (history) {
            List<Event> past = new ArrayList<>();
            for (Event e : history) {
                if (e.timeNano() >= sinceNano && e.timeNano() <= untilNano && filter.test(e)) past.add(e);
            }
            return past;
        }
    }

    static long nowNano() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    public final class Subscription implements AutoCloseable {
        private final Predicate<Event> filter;
        private final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(LISTENER_QUEUE);

        private Subscription(Predicate<Event> filter) {
            this.filter = filter;
        }

        private void offer(Event e) {
            if (filter.test(e)) queue.offer(e);
        }

        /** The next event, or null after {@code timeoutMillis}. */
        public Event next(long timeoutMillis) throws InterruptedException {
            return queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            subscriptions.remove(this);
        }
    }
}
