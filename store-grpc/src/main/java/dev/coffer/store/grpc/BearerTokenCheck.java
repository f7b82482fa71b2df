package dev.coffer.store.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * SEC-1 (docs/architecture.md), the token variant: admits only calls whose {@code authorization} header is {@code Bearer <token>} with the token of
 * one file, compared in constant time; others end with UNAUTHENTICATED before reaching the
 * service. Thread-safe.
 */
final class BearerTokenCheck implements ServerInterceptor {

  /** The shortest token accepted. */
  static final int TOKEN_MIN_LENGTH = 16;

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String SCHEME = "Bearer ";

  private final byte[] token;

  private BearerTokenCheck(byte[] token) {
    this.token = token;
  }

  /**
   * The check for the token in {@code file}: one line of at least {@link #TOKEN_MIN_LENGTH}
   * printable characters, in a file that only its owner can read.
   *
   * @throws IOException naming the file if it cannot be read, is readable by others, or holds no
   *     usable token
   */
  static BearerTokenCheck fromFile(Path file) throws IOException {
    int mode = (Integer) Files.getAttribute(file, "unix:mode") & 0777;
    if ((mode & 0077) != 0) {
      throw new IOException("the bearer token file " + file + " is readable or writable by"
          + " others (mode " + String.format("%04o", mode) + "); chmod 600 " + file);
    }
    String token = Files.readString(file, StandardCharsets.US_ASCII).strip();
    if (token.length() < TOKEN_MIN_LENGTH || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IOException("the bearer token file " + file + " must hold one token of at least "
          + TOKEN_MIN_LENGTH + " printable characters without spaces");
    }
    return new BearerTokenCheck(token.getBytes(StandardCharsets.US_ASCII));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String value = headers.get(AUTHORIZATION);
    byte[] offered = value != null && value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
        ? value.substring(SCHEME.length()).strip().getBytes(StandardCharsets.US_ASCII)
        : new byte[0];
    if (!MessageDigest.isEqual(offered, token)) {
      call.close(Status.UNAUTHENTICATED.withDescription(
          "this server requires the header \"authorization: Bearer <token>\" with its token"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
