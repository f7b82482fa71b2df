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
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardCopyOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The blobs one holder (one containerd) holds: for each, the holder owns exactly one reference in
 * the store, taken on one incarnation of the blob ({@link dev.coffer.store.Info#incarnation}),
 * which the hold keeps so that its release never spends a reference of a later incarnation
 * (PROTO-1). Callers serialise the changes of one digest ({@link HoldKeeper} locks it).
 */
interface Holds {

  default boolean contains(Digest digest) {
    return incarnation(digest) != null;
  }

  /**
   * The incarnation of the blob whose reference the hold owns (0 if unknown: a hold recorded
   * before incarnations were kept), or null if {@code digest} is not held.
   */
  Long incarnation(Digest digest);

  /** Records a hold of incarnation {@code incarnation}, replacing any hold of {@code digest}. */
  void add(Digest digest, long incarnation);

  /** Forgets a hold durably before returning; a no-op if there is none. */
  void remove(Digest digest);

  /**
   * The blobs held, as of some moment during the call (holds added or removed meanwhile may be
   * missed); the cost is the holds', never the store's.
   */
  List<Digest> list();

  /** Holds kept in memory: lost on restart, which leaves their blobs referenced (never deleted). */
  static Holds inMemory() {
    Map<Digest, Long> held = new ConcurrentHashMap<>();
    return new Holds() {
      @Override
      public Long incarnation(Digest digest) {
        return held.get(digest);
      }

      @Override
      public void add(Digest digest, long incarnation) {
        held.put(digest, incarnation);
      }

      @Override
      public void remove(Digest digest) {
        held.remove(digest);
      }

      @Override
      public List<Digest> list() {
        return List.copyOf(held.keySet());
      }
    };
  }

  /**
   * Holds as one marker file per blob, {@code <directory>/<alg>/<hex>}, surviving restarts; a
   * marker holds the time of the hold and then {@code incarnation <n>} on a line of its own. A
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

    private static final String INCARNATION = "incarnation ";
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
    public Long incarnation(Digest digest) {
      Path marker = marker(digest);
      List<String> lines;
      try {
        lines = Files.readAllLines(marker, StandardCharsets.US_ASCII);
      } catch (NoSuchFileException e) {
        return null;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the hold of " + digest + " at " + marker, e);
      }
      for (String line : lines) {
        if (line.startsWith(INCARNATION)) {
          try {
            return Long.parseLong(line.substring(INCARNATION.length()).trim());
          } catch (NumberFormatException e) {
            return 0L; // unreadable: released as a hold of any incarnation, as before
          }
        }
      }
      return 0L; // a marker written before incarnations were kept
    }

    @Override
    public void add(Digest digest, long incarnation) {
      Path marker = marker(digest);
      Path staged = marker.resolveSibling("." + marker.getFileName() + ".new");
      try {
        Files.createDirectories(marker.getParent(), OWNER_ONLY_DIRECTORY);
        // Written, not just created: the time is for an operator reading the directory, the
        // incarnation for the release. Staged and renamed, so a marker is never half written.
        Files.deleteIfExists(staged);
        try (SeekableByteChannel out = Files.newByteChannel(staged, Set.of(
            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SYNC),
            OWNER_ONLY_FILE)) {
          ByteBuffer content = ByteBuffer.wrap((Instant.now() + "\n" + INCARNATION + incarnation
              + "\n").getBytes(StandardCharsets.US_ASCII));
          while (content.hasRemaining()) {
            out.write(content);
          }
        }
        Files.move(staged, marker, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
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
