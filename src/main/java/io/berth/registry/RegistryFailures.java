package io.berth.registry;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;

/** What went wrong on the way to a registry, in words: shared by the client and its token service. */
final class RegistryFailures {
    private RegistryFailures() {}

    /** A failure to reach a registry (or its token server), told as a person would want to read it. */
    static RegistryUnreachableException unreachable(String operation, URI uri, IOException e) {
        String where = uri.getScheme() + "://" + uri.getRawAuthority();
        String what;
        if (causedBy(e, java.nio.channels.UnresolvedAddressException.class) || causedBy(e, java.net.UnknownHostException.class)) {
            what = "cannot resolve the registry host " + uri.getHost();
        } else if (e instanceof HttpConnectTimeoutException) {
            what = "cannot connect to the registry at " + where + ": connection timed out";
        } else if (causedBy(e, java.net.NoRouteToHostException.class)) {
            what = "cannot connect to the registry at " + where + ": no route to host";
        } else if (e instanceof ConnectException) {
            what = "cannot connect to the registry at " + where + ": connection refused";
        } else if (e instanceof HttpTimeoutException) {
            what = "the registry at " + where + " did not answer in time";
        } else if (e instanceof javax.net.ssl.SSLException) {
            what = "TLS with " + where + " failed: " + describe(e)
                    + " (for a registry without TLS, add it to the insecure registries)";
        } else {
            what = "talking to the registry at " + where + " failed: " + describe(e);
        }
        return new RegistryUnreachableException(operation, what, e);
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) if (type.isInstance(t)) return true;
        return false;
    }

    static String describe(Throwable e) {
        Throwable t = e;
        while (t.getMessage() == null && t.getCause() != null) t = t.getCause();
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
