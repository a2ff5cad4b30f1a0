package io.berth.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.berth.engine.Engine;
import io.berth.engine.Event;
import io.berth.engine.EventBus;
import io.berth.engine.EventFilter;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** GET /events: past events from --since, then live ones until --until or the client leaves. */
final class EventRoutes {
    private final Engine engine;
    private final CountDownLatch shutdown;

    EventRoutes(Engine engine, CountDownLatch shutdown) {
        this.engine = engine;
        this.shutdown = shutdown;
    }

    void register(Router router) {
        router.add("GET", "/events", this::events);
    }

    /** Docker's event message; status, id and from are the old fields, kept for containers and images. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record EventMessage(
            @JsonProperty("status") String status,
            @JsonProperty("id") String id,
            @JsonProperty("from") String from,
            @JsonProperty("Type") String type,
            @JsonProperty("Action") String action,
            @JsonProperty("Actor") Actor actor,
            @JsonProperty("scope") String scope,
            @JsonProperty("time") long time,
            @JsonProperty("timeNano") long timeNano) {

        static EventMessage of(Event e) {
            boolean legacy = e.type().equals("container") || e.type().equals("image");
            return new EventMessage(
                    legacy ? e.action() : null,
                    legacy ? e.actorId() : null,
                    e.type().equals("container") ? e.attributes().get("image") : null,
                    e.type(), e.action(), new Actor(e.actorId(), e.attributes()), e.scope(), e.timeSeconds(), e.timeNano());
        }
    }

    record Actor(@JsonProperty("ID") String id, @JsonProperty("Attributes") Map<String, String> attributes) {}

    private void events(ApiCall call) throws IOException, InterruptedException {
        Long since = Timestamps.parseNanos("since", call.query("since"));
        Long until = Timestamps.parseNanos("until", call.query("until"));
        EventFilter asked = new EventFilter(Filters.parse(call.query("filters"), EventFilter.KEYS));
        java.util.function.Predicate<Event> filter = e -> e.forDockerApi() && asked.test(e);
        if (since != null && until != null && until < since) {
            throw ApiException.badRequest("`since` time (" + call.query("since") + ") cannot be after `until` time (" + call.query("until") + ")");
        }
        EventBus bus = engine.events();
        long now = System.currentTimeMillis() * 1_000_000L;
        OutputStream out;
        if (until != null && until <= now) {
            // Only the past was asked for: answer from history and end the stream.
            out = call.exchange().startStream(200, "application/json");
            for (Event e : bus.history(since == null ? 0 : since, until, filter)) write(out, e);
            return;
        }
        try (EventBus.Subscription subscription = bus.subscribe(since, filter)) {
            out = call.exchange().startStream(200, "application/json");
            CountDownLatch clientGone = new CountDownLatch(1);
            call.exchange().onClientGone(clientGone::countDown);
            while (clientGone.getCount() > 0 && shutdown.getCount() > 0) {
                long waitMillis = 250;
                if (until != null) {
                    // Past the deadline, still hand out what is queued up to it, then stop.
                    waitMillis = Math.max(0, Math.min(waitMillis, (until - System.currentTimeMillis() * 1_000_000L) / 1_000_000L));
                }
                Event e = subscription.next(waitMillis);
                if (e == null) {
                    if (until != null && System.currentTimeMillis() * 1_000_000L >= until) break;
                    continue;
                }
                if (until != null && e.timeNano() > until) break;
                write(out, e);
            }
        }
    }

    private static void write(OutputStream out, Event e) throws IOException {
        byte[] line = Json.bytes(EventMessage.of(e));
        byte[] withNewline = new byte[line.length + 1];
        System.arraycopy(line, 0, withNewline, 0, line.length);
        withNewline[line.length] = '\n';
        out.write(withNewline);
        out.flush();
    }
}
