/**
 * The OCI spec of a container, built by small steps, one per concern (process, namespaces,
 * mounts, resources, security, devices, host identity), each reading the container's typed
 * {@link io.berth.container.ContainerSettings} and writing into a {@link io.berth.runtime.ContainerSpec.Builder}.
 * Here, in the engine, because a step needs both sides: {@code container} (settings, records)
 * and {@code runtime} (the spec), and {@code runtime} must not know containers. What a step
 * needs from the running engine (a peer container's pid, the network's netns, the etc files)
 * comes in {@link SpecInput}, so each step runs alone in a unit test, without root.
 */
package io.berth.engine.spec;
