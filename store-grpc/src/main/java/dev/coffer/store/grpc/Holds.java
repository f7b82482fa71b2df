package dev.coffer.store.grpc;

import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.InvalidArgumentException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The blobs one holder (one containerd) holds: for each, the holder owns exactly one reference in
 * the store. Callers serialise the changes of one digest ({@link HoldKeeper} locks it).
 */
interface Holds {

  boolean contains(Digest digest);

  /** Records a hold; a no-op if it is recorded already. */
  void add(Digest digest);

  /** Forgets a hold durably before returning; a no-op if there is none. */
  void remove(Digest digest);

  /**
   * The blobs held, as of some moment during the call (holds added or removed meanwhile may be
   * missed); the cost is the holds', never the store's.
   */
  List<Digest> list();

  /** Holds kept in memory: lost on restart, which leaves their blobs referenced (never deleted). */
  static Holds inMemory() {
    Set<Digest> held = ConcurrentHashMap.newKeySet();
    return new Holds() {
      @Override
      public boolean contains(Digest digest) {
        return held.contains(digest);
      }

      @Override
      public void add(Digest digest) {
        held.add(digest);
      }

      @Override
      public void remove(Digest digest) {
        held.remove(digest);
      }

      @Override
      public List<Digest> list() {
        return List.copyOf(held);
      }
    };
  }

  /**
   * Holds as one marker file per blob, {@code <directory>/<alg>/<hex>}, surviving restarts. A
   * removal is forced to disk (the directory entry too) before it returns, because the reference is
   * released after it: a marker that came back after a crash would release a reference twice.
   */
  static Holds inDirectory(Path directory) {
    return new DirectoryHolds(directory);
  }

  /** Marker files under one directory; see {@link Holds#inDirectory}. */
  final class DirectoryHolds implements Holds {
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_DIRECTORY =
        PosixFilePermissions.asFileAttribute(PrivatePaths.OWNER_ONLY);
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private final Path directory;

    private DirectoryHolds(Path directory) {
      this.directory = directory;
      try {
        // Another user able to write here could forge or drop holds: 0700, whatever the umask.
        PrivatePaths.createDirectories(directory, PrivatePaths.OWNER_ONLY, "the hold directory");
      } catch (IOException e) {
        throw new UncheckedIOException(e.getMessage(), e);
      }
    }

    private Path marker(Digest digest) {
      return directory.resolve(digest.algorithm().label()).resolve(digest.hex());
    }

    @Override
    public boolean contains(Digest digest) {
      return Files.exists(marker(digest));
    }

    @Override
    public void add(Digest digest) {
      Path marker = marker(digest);
      try {
        Files.createDirectories(marker.getParent(), OWNER_ONLY_DIRECTORY);
        // Written, not just created: the content says when, for an operator reading the directory.
        try (SeekableByteChannel out = Files.newByteChannel(marker, Set.of(
            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SYNC),
            OWNER_ONLY_FILE)) {
          ByteBuffer content = ByteBuffer.wrap(
              (Instant.now() + "\n").getBytes(StandardCharsets.US_ASCII));
          while (content.hasRemaining()) {
            out.write(content);
          }
        }
      } catch (FileAlreadyExistsException e) {
        // held already
      } catch (IOException e) {
        throw new UncheckedIOException("cannot record the hold of " + digest + " in " + marker, e);
      }
    }

    @Override
    public void remove(Digest digest) {
      Path marker = marker(digest);
      try {
        if (Files.deleteIfExists(marker)) {
          try (FileChannel dir = FileChannel.open(marker.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove the hold of " + digest + " at " + marker, e);
      }
    }

    /** The markers {@code <alg>/<hex>} under the directory; any other file is not a hold. */
    @Override
    public List<Digest> list() {
      List<Digest> held = new ArrayList<>();
      for (DigestAlgorithm algorithm : DigestAlgorithm.values()) {
        Path dir = directory.resolve(algorithm.label());
        if (!Files.isDirectory(dir)) {
          continue;
        }
        try (DirectoryStream<Path> markers = Files.newDirectoryStream(dir)) {
          for (Path marker : markers) {
            try {
              held.add(Digest.parse(algorithm.label() + ":" + marker.getFileName()));
            } catch (InvalidArgumentException notAMarker) {
              // not a hold: left alone
            }
          }
        } catch (IOException e) {
          throw new UncheckedIOException("cannot list the holds in " + dir, e);
        }
      }
      return held;
    }

    @Override
    public String toString() {
      return directory.toString();
    }
  }
}
