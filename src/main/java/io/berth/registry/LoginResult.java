package io.berth.registry;

/**
 * The outcome of a successful login check.
 *
 * @param status        {@code Login Succeeded}
 * @param identityToken a refresh token the token server gave, for the client to keep instead of the password; or empty
 */
public record LoginResult(String status, String identityToken) {}
