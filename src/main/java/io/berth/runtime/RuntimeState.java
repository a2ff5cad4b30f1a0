package io.berth.runtime;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;

/**
 * A container's state as the OCI runtime reports it ({@code runc state ID}).
 *
 * @param status created, running, paused or stopped (runc also says "creating")
 * @param pid the container's init process on the host, 0 once stopped
 * @param created RFC 3339 time the runtime created it
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RuntimeState(String ociVersion, String id, String status, long pid, String bundle, String created,
                           Map<String, String> annotations) {
    public boolean isRunning() {
        return "running".equals(status);
    }

    public boolean isPaused() {
        return "paused".equals(status);
    }

    public boolean isStopped() {
        return "stopped".equals(status);
    }

    public boolean isCreated() {
        return "created".equals(status);
    }
}
