package dev.coffer.store.cache;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * SEC-4 (docs/architecture.md): a fill's or a writer's staging file in the disk tier's {@code tmp/}, together with the channel
 * it was created with (O_CREAT|O_EXCL, no link followed, mode 0600) and the identity of that
 * file. Bytes go through this channel, never through a reopened path, and {@link
 * DiskTier#install} checks that the file it names after the digest is this very file. Not
 * thread-safe: one owner writes it, closes it and deletes it.
 *
 * @param path where the file is until installed
 * @param channel the channel the file was created with, readable and writable
 * @param fileKey the file's identity (device and inode) when it was created
 */
record StagingFile(Path path, FileChannel channel, Object fileKey) implements Closeable {

  /** Closes the channel; the file stays. */
  @Override
  public void close() throws IOException {
    channel.close();
  }

  /** Closes the channel and deletes the file if it is still staged (not installed). */
  void discard() throws IOException {
    try {
      channel.close();
    } finally {
      Files.deleteIfExists(path);
    }
  }
}
