package io.berth.engine.spec;

import io.berth.runtime.ContainerSpec;
import java.io.IOException;

/** One concern of the spec: reads the input, sets its part of the draft. */
@FunctionalInterface
public interface SpecStep {
    void apply(SpecInput in, ContainerSpec.Builder draft) throws IOException;
}
