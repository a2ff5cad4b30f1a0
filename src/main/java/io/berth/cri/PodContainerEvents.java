package io.berth.cri;

import io.berth.container.ContainerEvents;
import io.berth.cri.v1.ContainerEventResponse;
import io.berth.cri.v1.ContainerEventType;
import io.berth.engine.Engine;
import io.berth.engine.Event;
import io.berth.engine.EventBus;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * GetContainerEvents: the life of pods' containers as kubelet's evented PLEG reads it, from the
 * engine's own container events (created, started, stopped, deleted), each with the pod's status
 * and the container's, until the client leaves.
 */
final class PodContainerEvents {
    private static final Map<String, ContainerEventType> TYPES = Map.of(
            "create", ContainerEventType.CONTAINER_CREATED_EVENT,
            "start", ContainerEventType.CONTAINER_STARTED_EVENT,
            "die", ContainerEventType.CONTAINER_STOPPED_EVENT,
            "destroy", ContainerEventType.CONTAINER_DELETED_EVENT);

    private final Engine engine;
    private final Pods pods;
    private final PodContainers containers;

    PodContainerEvents(Engine engine, Pods pods, PodContainers containers) {
        this.engine = engine;
        this.pods = pods;
        this.containers = containers;
    }

    void stream(StreamObserver<ContainerEventResponse> out) throws InterruptedException {
        AtomicBoolean gone = new AtomicBoolean();
        if (out instanceof ServerCallStreamObserver<ContainerEventResponse> call) call.setOnCancelHandler(() -> gone.set(true));
        try (EventBus.Subscription events = engine.events().subscribe(null,
                e -> e.type().equals(Event.POD_CONTAINER) && TYPES.containsKey(e.action()))) {
            while (!gone.get()) {
                Event e = events.next(250);
                if (e != null) out.onNext(response(e));
            }
        }
    }

    private ContainerEventResponse response(Event e) {
        ContainerEventResponse.Builder b = ContainerEventResponse.newBuilder()
                .setContainerId(e.actorId())
                .setContainerEventType(TYPES.get(e.action()))
                .setCreatedAt(e.timeNano());
        String podId = e.attributes().get(ContainerEvents.POD);
        pods.find(podId).ifPresent(p -> b.setPodSandboxStatus(PodMessages.status(p)));
        containers.find(e.actorId()).ifPresent(r -> b.addContainersStatuses(ContainerMessages.status(r)));
        return b.build();
    }
}
