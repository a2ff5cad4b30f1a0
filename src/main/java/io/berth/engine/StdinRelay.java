package io.berth.engine;

import io.berth.runtime.AttachSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Copies a client's stdin into an attach session, watching for the detach keys (container attach and exec alike). */
final class StdinRelay {
    private static final Logger LOG = LoggerFactory.getLogger(StdinRelay.class);

    private StdinRelay() {}

    /**
     * Relays until the client's stdin ends (then closes the process's stdin) or the whole detach
     * sequence came (then runs {@code onDetach} and leaves the process's stdin open). Bytes that
     * start the sequence are held back while they match, and sent when it breaks off.
     */
    static void copy(InputStream stdin, AttachSession session, byte[] keys, Runnable onDetach) {
        byte[] buf = new byte[16 * 1024];
        int matched = 0;
        try {
            int n;
            while ((n = stdin.read(buf)) >= 0) {
                ByteArrayOutputStream send = new ByteArrayOutputStream(n);
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (keys.length > 0 && b != keys[matched] && matched > 0) {
                        send.write(keys, 0, matched);
                        matched = 0;
                    }
                    if (keys.length > 0 && b == keys[matched]) {
                        matched++;
                        if (matched == keys.length) {
                            if (send.size() > 0) session.writeStdin(send.toByteArray());
                            onDetach.run();
                            return;
                        }
                        continue;
                    }
                    send.write(b);
                }
                if (send.size() > 0) session.writeStdin(send.toByteArray());
            }
            session.closeStdin();
        } catch (IOException e) {
            LOG.debug("attach stdin ended: {}", e.toString());
        }
    }
}
