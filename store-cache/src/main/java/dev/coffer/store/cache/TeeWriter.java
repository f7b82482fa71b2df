package dev.coffer.store.cache;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.Info;
import dev.coffer.store.Status;
import dev.coffer.store.Writer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.Map;

/**
 * A writer of the backing store that forgets the cached info of what it commits (a commit may add a
 * reference to an existing blob) and may copy the bytes it writes: to a staging file, which it
 * places under the blob's digest in the disk tier once the backing store has committed them; or,
 * for a cache without a usable disk tier, to memory while they fit the memory tier's blob size.
 *
 * <p>Only an ingest written from offset 0 through this writer is copied: bytes of a resumed ingest
 * written earlier are not here. Any disk failure stops the copy (the disk tier degrades) and never
 * fails the write. Used by one thread at a time, as every writer.
 */
final class TeeWriter implements Writer {
  private final CachingStore store;
  private final Writer delegate;
  private final DigestAlgorithm algorithm;
  private final StagingFile staging;
  private final long memoryLimit;
  // The copy: a staging file, or bytes in memory (hashed as they come), or neither (!copying).
  private FileChannel copy;
  private ByteArrayOutputStream buffered;
  private MessageDigest hasher;
  private boolean copying;
  private long copied;

  private TeeWriter(CachingStore store, Writer delegate, Digest expected,
      StagingFile staging, FileChannel copy, long memoryLimit) {
    this.store = store;
    this.delegate = delegate;
    this.algorithm = expected == null ? DigestAlgorithm.CANONICAL : expected.algorithm();
    this.staging = staging;
    this.copy = copy;
    this.memoryLimit = memoryLimit;
    this.buffered = memoryLimit > 0 ? new ByteArrayOutputStream() : null;
    // A staging file is not hashed: it holds exactly the bytes the backing writer hashed, from
    // offset 0, so the digest the backing store commits is the copy's (checked with its size).
    this.hasher = buffered != null ? algorithm.newHasher() : null;
    this.copying = copy != null || buffered != null;
  }

  /** A writer that copies what it writes to {@code staging}. */
  static TeeWriter copying(CachingStore store, Writer delegate, Digest expected,
      StagingFile staging) {
    // The channel the staging file was created with: no reopening by name.
    return new TeeWriter(store, delegate, expected, staging, staging.channel(), 0);
  }

  /** A writer that keeps what it writes in memory while it is at most {@code limit} bytes. */
  static TeeWriter buffering(CachingStore store, Writer delegate, Digest expected,
      long limit) {
    return new TeeWriter(store, delegate, expected, null, null, limit);
  }

  /** A writer that copies nothing, only forgets the info of what it commits. */
  static TeeWriter plain(CachingStore store, Writer delegate, Digest expected) {
    return new TeeWriter(store, delegate, expected, null, null, 0);
  }

  @Override
  public int write(ByteBuffer src) {
    ByteBuffer bytes = src.duplicate();
    int n = delegate.write(src);
    if (!copying) {
      return n;
    }
    bytes.limit(bytes.position() + n);
    if (buffered != null) {
      hasher.update(bytes.duplicate());
      if (buffered.size() + (long) n > memoryLimit) {
        dropCopy();
      } else {
        byte[] chunk = new byte[n];
        bytes.get(chunk);
        buffered.write(chunk, 0, n);
      }
    } else {
      try {
        while (bytes.hasRemaining()) {
          copied += copy.write(bytes, copied);
        }
      } catch (IOException e) {
        store.tiers().diskFailed("copying a written blob to " + staging.path(), e);
        dropCopy();
      }
    }
    return n;
  }

  @Override
  public Digest digest() {
    return delegate.digest();
  }

  @Override
  public void commit(long size, Digest expected, Map<String, String> labels) {
    boolean committed = false;
    try {
      delegate.commit(size, expected, labels);
      committed = true;
    } catch (AlreadyExistsException e) {
      // The backing store has these bytes under their digest: the copy is still a valid entry.
      promote(null);
      throw e;
    } finally {
      if (!committed) {
        // Any commit closes the writer; a failed one leaves nothing to copy for.
        dropCopy();
      }
      store.tiers().forgetInfo(expected);
      store.tiers().forgetInfo(delegate.digest());
    }
    promote(delegate.digest());
  }

  @Override
  public Info commitAndRef(long size, Digest expected, Map<String, String> labels) {
    Info info;
    try {
      info = delegate.commitAndRef(size, expected, labels);
    } catch (RuntimeException e) {
      dropCopy();
      throw e;
    } finally {
      store.tiers().forgetInfo(expected);
      store.tiers().forgetInfo(delegate.digest());
    }
    promote(info.digest());
    return info;
  }

  @Override
  public Status status() {
    return delegate.status();
  }

  @Override
  public void truncate(long size) {
    delegate.truncate(size);
    if (!copying) {
      return;
    }
    if (size == 0) {
      copied = 0;
      if (buffered != null) {
        hasher.reset();
        buffered.reset();
        return;
      }
      try {
        copy.truncate(0);
      } catch (IOException e) {
        store.tiers().diskFailed("truncating " + staging.path(), e);
        dropCopy();
      }
    } else {
      // The running hash cannot be rewound: give up the copy, the first read fills the cache.
      dropCopy();
    }
  }

  @Override
  public void close() {
    try {
      delegate.close();
    } finally {
      dropCopy();
    }
  }

  /**
   * Places the copy under its digest if it matches {@code committed} (null: the bytes' own digest,
   * known to the backing store).
   */
  private void promote(Digest committed) {
    if (!copying) {
      return;
    }
    if (buffered != null) {
      Digest digest = Digest.fromHasher(algorithm, hasher.digest());
      if (committed == null || committed.equals(digest)) {
        store.tiers().promote(digest, buffered.toByteArray());
      }
      dropCopy();
      return;
    }
    Digest digest = null;
    try {
      // The backing writer's digest of every byte of this ingest, which the copy holds too if
      // it has as many bytes as the backing store committed.
      digest = delegate.digest();
      if ((committed == null || committed.equals(digest)) && copied == delegate.status().offset()) {
        copy.force(false);
        store.tiers().promote(digest, staging, copied);
      }
    } catch (RuntimeException e) {
      // No digest or status after the commit (a closed writer): the first read fills the cache.
    } catch (IOException e) {
      store.tiers().diskFailed("placing written blob " + digest + " in the cache", e);
    } finally {
      dropCopy();
    }
  }

  private void dropCopy() {
    copying = false;
    hasher = null;
    buffered = null;
    if (copy == null) {
      return;
    }
    try {
      staging.discard();
    } catch (IOException e) {
      store.tiers().diskFailed("deleting " + staging.path(), e);
    }
    copy = null;
  }
}
