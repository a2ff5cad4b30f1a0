package io.berth.api;

/**
 * Swarm mode's routes. Berth leaves orchestration to Kubernetes, so every node is one outside a
 * swarm and these answer as dockerd 20.10 does there: 503 with its messages, so that clients
 * (docker-py's teardowns calling leave, `docker node ls`, `docker service ls`) see the usual
 * "not in a swarm" answer instead of a missing route.
 */
final class SwarmRoutes {
    static final String NOT_A_MANAGER = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\""
            + " to connect this node to swarm and try again.";
    static final String NOT_IN_A_SWARM = "This node is not part of a swarm";

    void register(Router router) {
        router.add("GET", "/swarm", this::notManager);
        router.add("POST", "/swarm/init", this::noSwarmMode);
        router.add("POST", "/swarm/join", this::noSwarmMode);
        router.add("POST", "/swarm/leave", call -> {
            throw new ApiException(503, NOT_IN_A_SWARM);
        });
        router.add("POST", "/swarm/update", call -> versioned(call, "swarm"));
        router.add("GET", "/swarm/unlockkey", this::notManager);
        router.add("POST", "/swarm/unlock", this::notManager);
        for (String kind : new String[] {"nodes", "services", "tasks", "secrets", "configs"}) {
            router.add("GET", "/" + kind, this::notManager);
            router.add("GET", "/" + kind + "/{id}", this::notManager);
            router.add("DELETE", "/" + kind + "/{id}", this::notManager);
            String singular = kind.substring(0, kind.length() - 1);
            router.add("POST", "/" + kind + "/{id}/update", call -> versioned(call, singular));
        }
        for (String kind : new String[] {"services", "secrets", "configs"}) router.add("POST", "/" + kind + "/create", this::notManager);
        router.add("GET", "/services/{id}/logs", SwarmRoutes::logs);
        router.add("GET", "/tasks/{id}/logs", SwarmRoutes::logs);
    }

    private void notManager(ApiCall call) {
        throw new ApiException(503, NOT_A_MANAGER);
    }

    private void noSwarmMode(ApiCall call) {
        throw new ApiException(503, NOT_IN_A_SWARM + ": berthd has no swarm mode (orchestration is left to Kubernetes)");
    }

    /** dockerd checks the object version of an update before it looks for a swarm. */
    private static void versioned(ApiCall call, String what) {
        String v = call.query("version");
        if (v == null || !v.matches("[0-9]+")) throw ApiException.badRequest("invalid " + what + " version '" + (v == null ? "" : v) + "'");
        throw new ApiException(503, NOT_A_MANAGER);
    }

    /** As for a container's logs, asking for no stream is refused first. */
    private static void logs(ApiCall call) {
        if (!call.queryBool("stdout", false) && !call.queryBool("stderr", false)) {
            throw new ApiException(500, "Bad parameters: you must choose at least one stream");
        }
        throw new ApiException(503, NOT_A_MANAGER);
    }
}
