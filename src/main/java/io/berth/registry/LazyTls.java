package io.berth.registry;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The JDK's default TLS context, made when the first TLS connection needs it. Making it loads
 * the security providers and parses the whole CA store: about 100 ms of a freshly started
 * daemon, which a push to or pull from a plain-HTTP registry (a local one, a mirror) never
 * needs. An {@code HttpClient} asks its context for defaults as it is built, so it is given
 * this one (and explicit parameters) instead.
 */
final class LazyTls extends SSLContextSpi {
    private static final SSLContext CONTEXT = new SSLContext(new LazyTls(), null, "Default") {};

    private volatile SSLContext real;

    private LazyTls() {}

    static SSLContext context() {
        return CONTEXT;
    }

    private SSLContext real() {
        SSLContext r = real;
        if (r == null) {
            synchronized (this) {
                r = real;
                if (r == null) {
                    try {
                        r = SSLContext.getDefault();
                    } catch (NoSuchAlgorithmException e) {
                        throw new IllegalStateException("no default TLS context: " + e.getMessage(), e);
                    }
                    real = r;
                }
            }
        }
        return r;
    }

    @Override
    protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom random) {
        throw new UnsupportedOperationException("the default TLS context is initialised by the JDK");
    }

    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
        return real().getSocketFactory();
    }

    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
        return real().getServerSocketFactory();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
        return real().createSSLEngine();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
        return real().createSSLEngine(host, port);
    }

    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
        return real().getServerSessionContext();
    }

    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
        return real().getClientSessionContext();
    }

    @Override
    protected SSLParameters engineGetDefaultSSLParameters() {
        return real().getDefaultSSLParameters();
    }

    @Override
    protected SSLParameters engineGetSupportedSSLParameters() {
        return real().getSupportedSSLParameters();
    }
}
