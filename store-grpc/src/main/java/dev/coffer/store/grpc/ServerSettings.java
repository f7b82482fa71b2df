package dev.coffer.store.grpc;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The server's immutable configuration, built by {@link ContentServer.Builder}, which holds each
 * key's default and bounds.
 *
 * @param unixSocket the Unix socket to listen on, or null
 * @param socketGroup the group given read and write access to the socket (mode 0660), or null for
 *     the owner only (mode 0600)
 * @param tcpAddress the address the TCP listener binds (the loopback address unless set)
 * @param tcpPort the TCP port to listen on (0: any free port), or -1 for none
 * @param tls the TCP listener's TLS and client authentication, or null for plaintext (loopback only)
 * @param readChunkBytes the data bytes per Read response message
 * @param listBatchSize the infos per List response message
 * @param maxInboundMessageBytes the largest request message accepted (Write data arrives in these)
 * @param shutdownGrace how long {@code close()} lets running calls finish before cancelling them
 * @param openReaders how many blobs' readers stay open between Read calls (0: none)
 * @param readerIdle how long an unused reader stays open
 * @param limits the bounds on connections, calls, threads and open writers
 */
record ServerSettings(
    Path unixSocket,
    String socketGroup,
    InetAddress tcpAddress,
    int tcpPort,
    TlsSettings tls,
    int readChunkBytes,
    int listBatchSize,
    int maxInboundMessageBytes,
    Duration shutdownGrace,
    int openReaders,
    Duration readerIdle,
    Limits limits) {

  /** Settings without TLS, a socket group or limits other than the defaults (tests use these). */
  ServerSettings(Path unixSocket, int tcpPort, int readChunkBytes, int listBatchSize,
      int maxInboundMessageBytes, Duration shutdownGrace, int openReaders, Duration readerIdle) {
    this(unixSocket, null, InetAddress.getLoopbackAddress(), tcpPort, null, readChunkBytes,
        listBatchSize, maxInboundMessageBytes, shutdownGrace, openReaders, readerIdle,
        Limits.defaults());
  }

  /**
   * The TCP listener's TLS: the server's certificate chain and private key, and how clients
   * authenticate (at least one of the two).
   *
   * @param certificateChain PEM certificate chain, the server's certificate first
   * @param privateKey PEM PKCS#8 private key of the server's certificate
   * @param clientCertificateAuthorities PEM certificates of the CAs whose client certificates are
   *     accepted (then a client certificate is required), or null
   * @param bearerTokenFile a file holding the token clients send as {@code authorization: Bearer
   *     <token>}, or null
   */
  record TlsSettings(Path certificateChain, Path privateKey, Path clientCertificateAuthorities,
      Path bearerTokenFile) {

    boolean authenticatesClients() {
      return clientCertificateAuthorities != null || bearerTokenFile != null;
    }
  }

  /**
   * The server's resource bounds.
   *
   * @param maxCallsPerConnection concurrent calls one connection may have open
   * @param maxConnectionIdle a connection without calls for this long is closed
   * @param maxConnectionAge a connection is asked to go away after this long
   * @param maxConnectionAgeGrace how long an aged connection's calls may still run
   * @param executorThreads the threads that run calls (requests beyond them wait in a queue)
   * @param writerMemoryBytes the memory open writers may hold together
   * @param bytesPerWriter the memory one open writer may hold (the store's part size times its
   *     upload concurrency); open writers are bounded by {@code writerMemoryBytes / bytesPerWriter}
   */
  record Limits(int maxCallsPerConnection, Duration maxConnectionIdle, Duration maxConnectionAge,
      Duration maxConnectionAgeGrace, int executorThreads, long writerMemoryBytes,
      long bytesPerWriter) {

    /** The defaults declared in {@link ContentServer}. */
    static Limits defaults() {
      return new Limits(ContentServer.MAX_CALLS_PER_CONNECTION_DEFAULT,
          ContentServer.MAX_CONNECTION_IDLE_DEFAULT, ContentServer.MAX_CONNECTION_AGE_DEFAULT,
          ContentServer.MAX_CONNECTION_AGE_GRACE_DEFAULT, ContentServer.EXECUTOR_THREADS_DEFAULT,
          ContentServer.WRITER_MEMORY_BYTES_DEFAULT, ContentServer.BYTES_PER_WRITER_DEFAULT);
    }

    /** How many Write streams may be open at once: at least one. */
    int maxOpenWriters() {
      return (int) Math.max(1, Math.min(Integer.MAX_VALUE, writerMemoryBytes / bytesPerWriter));
    }
  }
}
