package io.berth.registry;

/**
 * A repository on a registry, as the user named it: {@code registryHost} is {@code host[:port]}
 * ({@code docker.io} for Docker Hub), {@code repository} the path ({@code library/alpine}).
 */
public record RepositoryRef(String registryHost, String repository) {
    public RepositoryRef {
        if (registryHost == null || registryHost.isBlank()) throw new IllegalArgumentException("registry host is empty");
        if (repository == null || repository.isBlank()) throw new IllegalArgumentException("repository name is empty");
        if (repository.startsWith("/") || repository.endsWith("/")) {
            throw new IllegalArgumentException("invalid repository name \"" + repository + "\"");
        }
    }

    /** {@code host/repository}, as Docker prints it. */
    @Override
    public String toString() {
        return registryHost + "/" + repository;
    }
}
