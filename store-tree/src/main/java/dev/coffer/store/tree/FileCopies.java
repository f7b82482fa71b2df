package dev.coffer.store.tree;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.NewLinks;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Map;

/** One file to the store and one blob to a file: what trees and batches are made of. */
final class FileCopies {
  /** Files up to this size are put in one step, read into memory (at most {@code jobs} at once). */
  static final long ONE_STEP_LIMIT = 4L << 20;
  /**
   * Files up to this size are stored by sending them, without a lookup first: on S3 the lookup of
   * new content is one request more than its two, and sending this much costs about as much as
   * that round trip; content found stored answers AlreadyExists (on S3 its create-only PutObject
   * answers 412), and only its bytes were sent for nothing.
   */
  static final long SEND_WITHOUT_LOOKUP = 1L << 20;

  private FileCopies() {}

  /** The lookup made before sending a file of more than {@link #SEND_WITHOUT_LOOKUP}. */
  @FunctionalInterface
  interface Lookup {
    /** Whether {@code d} is stored (live); throws what the store's lookup throws but NotFound. */
    boolean stored(Digest d);
  }

  /** A restored file's size, and whether it was written rather than found right already. */
  record Restored(long size, boolean written) {}

  /**
   * Commits {@code file} (hashed already to {@code digest}) unless its digest is stored already,
   * with {@code labels}; whether it was uploaded. Content found stored gets {@code labels} too.
   */
  static boolean upload(ContentStore store, Path file, Digest digest, long size,
      Map<String, String> labels) throws IOException {
    return upload(store, null, file, digest, size, labels);
  }

  /**
   * As {@link #upload(ContentStore, Path, Digest, long, Map)}; the file goes through {@code links}
   * unless null, so that new content is created holding its link's reference.
   */
  static boolean upload(ContentStore store, NewLinks links, Path file, Digest digest, long size,
      Map<String, String> labels) throws IOException {
    return upload(store, links, d -> EarlyLookups.lookUp(store, d), file, digest, size, labels);
  }

  /**
   * As {@link #upload(ContentStore, NewLinks, Path, Digest, long, Map)}, the lookup before sending
   * a file of more than {@link #SEND_WITHOUT_LOOKUP} made by {@code lookup}.
   */
  static boolean upload(ContentStore store, NewLinks links, Lookup lookup, Path file,
      Digest digest, long size, Map<String, String> labels) throws IOException {
    boolean sent = send(store, links, lookup, file, digest, size, labels);
    if (!sent && !labels.isEmpty()) {
      store.update(Info.forUpdate(digest, labels),
          labels.keySet().stream().map(k -> "labels." + k).toArray(String[]::new));
    }
    return sent;
  }

  private static boolean send(ContentStore store, NewLinks links, Lookup lookup, Path file,
      Digest digest, long size, Map<String, String> labels) throws IOException {
    try {
      if (size <= SEND_WITHOUT_LOOKUP) {
        put(store, links, Files.readAllBytes(file), digest, labels); // stored: AlreadyExists
        return true;
      }
      if (size <= ONE_STEP_LIMIT) {
        // One lookup, then (if absent) one-step put: fewer requests than a writer's open and
        // commit, and content stored already is not sent again.
        if (lookup.stored(digest)) {
          return false;
        }
        put(store, links, Files.readAllBytes(file), digest, labels);
        return true;
      }
      // Straight to the digest (on S3 the key itself: no ingest, no copy); stored content found
      // by its record is AlreadyExists before the file is read.
      if (links != null) {
        links.putFile(file, digest, labels);
      } else {
        store.putFile(file, digest, labels);
      }
      return true;
    } catch (AlreadyExistsException e) {
      return false; // stored already, or another put committed it meanwhile
    }
  }

  private static void put(ContentStore store, NewLinks links, byte[] content, Digest digest,
      Map<String, String> labels) {
    if (links != null) {
      links.put(content, digest, labels);
    } else {
      store.put(content, digest, labels);
    }
  }

  /**
   * Writes blob {@code digest} to {@code target} through a temporary name beside it, verified
   * against the digest (and {@code size} unless negative) before the rename; a file already there
   * with the right digest is left untouched. Sets {@code mode} unless negative.
   */
  static Restored restore(ContentStore store, Path target, Digest digest, long size, int mode)
      throws IOException {
    return restore(store, target, digest, size, mode, false);
  }

  /**
   * The same; with {@code held} (a live blob links to it) the bytes are read without a lookup
   * first ({@link ContentStore#readerAtHeld}), and if they are not found after all, read once
   * more as any blob, so that a missing file fails as one does.
   */
  static Restored restore(ContentStore store, Path target, Digest digest, long size, int mode,
      boolean held) throws IOException {
    if (held && size > 0) {
      try {
        return write(store, target, digest, size, mode, true);
      } catch (NotFoundException gone) {
        return write(store, target, digest, size, mode, false);
      }
    }
    return write(store, target, digest, size, mode, false);
  }

  private static Restored write(ContentStore store, Path target, Digest digest, long size,
      int mode, boolean held) throws IOException {
    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
        && (size < 0 || Files.size(target) == size)) {
      Digest present;
      try (InputStream in = Files.newInputStream(target)) {
        present = Digest.of(digest.algorithm(), in);
      }
      if (present.equals(digest)) {
        if (mode >= 0) {
          LocalFiles.setMode(target, mode);
        }
        return new Restored(Files.size(target), false);
      }
    }
    Path temp = LocalFiles.temp(target);
    try {
      long written = 0;
      long expected;
      boolean checkedByReader;
      MessageDigest hasher = null;
      Descriptor descriptor = size < 0 ? Descriptor.of(digest) : Descriptor.of(digest, size);
      try (ReaderAt reader = held ? store.readerAtHeld(descriptor) : store.readerAt(descriptor);
          InputStream in = reader.stream(0);
          OutputStream out = Files.newOutputStream(temp)) {
        expected = size < 0 ? reader.size() : size;
        // A reader that checks a read in order from 0 to the end against the digest (S3's) or
        // serves checked content (the cache's) is not hashed after a second time.
        if (!reader.verifiesInOrderReads() && !reader.servesVerifiedContent()) {
          hasher = digest.algorithm().newHasher();
        }
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) >= 0; ) {
          if (hasher != null) {
            hasher.update(buffer, 0, n);
          }
          out.write(buffer, 0, n);
          written += n;
        }
        checkedByReader = hasher == null
            && (reader.verifiedInOrderRead() || reader.servesVerifiedContent());
      }
      if (written != expected) {
        throw DataLossException.lengthMismatch(digest, expected, written);
      }
      if (!checkedByReader) {
        Digest actual;
        if (hasher != null) {
          actual = Digest.fromHasher(digest.algorithm(), hasher.digest());
        } else {
          try (InputStream in = Files.newInputStream(temp)) { // the reader did not say it checked
            actual = Digest.of(digest.algorithm(), in);
          }
        }
        if (!actual.equals(digest)) {
          throw DataLossException.digestMismatch(digest, actual);
        }
      }
      if (mode >= 0) {
        LocalFiles.setMode(temp, mode);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return new Restored(written, true);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
