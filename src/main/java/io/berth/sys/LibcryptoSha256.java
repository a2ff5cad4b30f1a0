package io.berth.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Cleaner;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * SHA-256 by OpenSSL's libcrypto, as a {@link MessageDigest}. Every layer pulled, loaded,
 * pushed or committed is hashed; the JDK's SHA-256 reaches the CPU's SHA instructions only
 * once the JIT has compiled it, and a freshly started daemon hashing four layers at once on a
 * busy machine ran most of its first push's hashing interpreted. libcrypto is fast from the
 * first byte. Where the library is missing, {@link #create()} says so and callers use the JDK's.
 */
public final class LibcryptoSha256 extends MessageDigest {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Optional<Bindings> BINDINGS = Bindings.load();

    private record Bindings(MethodHandle ctxNew, MethodHandle ctxFree, MethodHandle init, MethodHandle update,
                            MethodHandle finish, MemorySegment sha256) {
        static Optional<Bindings> load() {
            for (String name : new String[] {"libcrypto.so.3", "libcrypto.so"}) {
                try {
                    SymbolLookup lib = SymbolLookup.libraryLookup(name, Arena.global());
                    Linker linker = Linker.nativeLinker();
                    MethodHandle mdSha256 = linker.downcallHandle(lib.findOrThrow("EVP_sha256"), FunctionDescriptor.of(ValueLayout.ADDRESS));
                    return Optional.of(new Bindings(
                            linker.downcallHandle(lib.findOrThrow("EVP_MD_CTX_new"), FunctionDescriptor.of(ValueLayout.ADDRESS)),
                            linker.downcallHandle(lib.findOrThrow("EVP_MD_CTX_free"), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS)),
                            linker.downcallHandle(lib.findOrThrow("EVP_DigestInit_ex"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS)),
                            // critical: hands the Java array itself to the call (no copy); the GC waits the few µs it takes
                            linker.downcallHandle(lib.findOrThrow("EVP_DigestUpdate"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), Linker.Option.critical(true)),
                            linker.downcallHandle(lib.findOrThrow("EVP_DigestFinal_ex"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS), Linker.Option.critical(true)),
                            (MemorySegment) mdSha256.invokeExact()));
                } catch (Throwable e) {
                    // not this name, or not this library: try the next, else the JDK's digest
                }
            }
            return Optional.empty();
        }
    }

    private final Bindings b;
    private final MemorySegment ctx;
    private final byte[] one = new byte[1];

    private LibcryptoSha256(Bindings b) throws Throwable {
        super("SHA-256");
        this.b = b;
        MemorySegment c = (MemorySegment) b.ctxNew().invokeExact();
        if (c.equals(MemorySegment.NULL)) throw new IllegalStateException("EVP_MD_CTX_new failed");
        this.ctx = c;
        MethodHandle free = b.ctxFree();
        CLEANER.register(this, () -> {
            try {
                free.invokeExact(c);
            } catch (Throwable ignored) {
                // freeing cannot fail
            }
        });
        engineReset();
    }

    /** A fresh digest, or empty when libcrypto is not on this host. */
    public static Optional<MessageDigest> create() {
        if (BINDINGS.isEmpty()) return Optional.empty();
        try {
            return Optional.of(new LibcryptoSha256(BINDINGS.get()));
        } catch (Throwable e) {
            return Optional.empty();
        }
    }

    @Override
    protected void engineUpdate(byte input) {
        one[0] = input;
        engineUpdate(one, 0, 1);
    }

    @Override
    protected void engineUpdate(byte[] input, int offset, int len) {
        if (len == 0) return;
        try {
            check((int) b.update().invokeExact(ctx, MemorySegment.ofArray(input).asSlice(offset, len), (long) len), "EVP_DigestUpdate");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** A native buffer is hashed where it lies; a heap one through its array. */
    @Override
    protected void engineUpdate(java.nio.ByteBuffer input) {
        if (!input.isDirect()) {
            super.engineUpdate(input);
            return;
        }
        int len = input.remaining();
        if (len == 0) return;
        try {
            check((int) b.update().invokeExact(ctx, MemorySegment.ofBuffer(input), (long) len), "EVP_DigestUpdate");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        input.position(input.limit());
    }

    @Override
    protected byte[] engineDigest() {
        byte[] out = new byte[32];
        try {
            check((int) b.finish().invokeExact(ctx, MemorySegment.ofArray(out), MemorySegment.NULL), "EVP_DigestFinal_ex");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        engineReset();
        return out;
    }

    @Override
    protected int engineGetDigestLength() {
        return 32;
    }

    @Override
    protected void engineReset() {
        try {
            check((int) b.init().invokeExact(ctx, b.sha256(), MemorySegment.NULL), "EVP_DigestInit_ex");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static void check(int rc, String call) {
        if (rc != 1) throw new IllegalStateException(call + " failed");
    }
}
