package dev.coffer.store.grpc;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The server's immutable configuration, built by {@link ContentServer.Builder}, which holds each
 * key's default and bounds.
 *
 * @param unixSocket the Unix socket to listen on, or null
 * @param tcpPort the TCP port to listen on (0: any free port), or -1 for none
 * @param readChunkBytes the data bytes per Read response message
 * @param listBatchSize the infos per List response message
 * @param maxInboundMessageBytes the largest request message accepted (Write data arrives in these)
 * @param shutdownGrace how long {@code close()} lets running calls finish before cancelling them
 * @param openReaders how many blobs' readers stay open between Read calls (0: none)
 * @param readerIdle how long an unused reader stays open
 */
record ServerSettings(
    Path unixSocket,
    int tcpPort,
    int readChunkBytes,
    int listBatchSize,
    int maxInboundMessageBytes,
    Duration shutdownGrace,
    int openReaders,
    Duration readerIdle) {}
