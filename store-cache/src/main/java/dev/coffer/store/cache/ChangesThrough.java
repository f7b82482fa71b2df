package dev.coffer.store.cache;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.NewLinks;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import dev.coffer.store.spi.ForwardingContentStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backing store as the cache passes changes to it: each change goes through, and afterwards,
 * failed or not, the tiers forget what it may have made stale (the blob's info; after a change that
 * can remove blobs, every cached info and any entry of a blob that is gone). Reads and ingests pass
 * through unchanged. Thread-safe as the backing store is.
 */
final class ChangesThrough extends ForwardingContentStore {
  private static final Logger LOG = LoggerFactory.getLogger(CachedContentStore.class);

  private final ContentStore backing;
  private final Tiers tiers;

  ChangesThrough(ContentStore backing, Tiers tiers) {
    this.backing = backing;
    this.tiers = tiers;
  }

  @Override
  protected ContentStore delegate() {
    return backing;
  }

  @Override
  public Info update(Info info, String... fieldpaths) {
    try {
      return backing.update(info, fieldpaths);
    } finally {
      tiers.forgetInfo(info.digest());
    }
  }

  @Override
  public void delete(Digest digest) {
    try {
      backing.delete(digest);
    } finally {
      tiers.evict(digest);
      // A delete releases the references of the blob's links: a cascade may remove other blobs.
      tiers.forgetAllInfo();
    }
  }

  // ---- reference counts: a blob may disappear, so its info is refreshed ----

  @Override
  public Info ref(Digest digest) {
    try {
      return backing.ref(digest);
    } finally {
      tiers.forgetInfo(digest);
    }
  }

  @Override
  public void deref(Digest digest) {
    try {
      backing.deref(digest);
    } finally {
      afterReferenceDrop(digest);
    }
  }

  @Override
  public void deref(Digest digest, long incarnation) {
    try {
      backing.deref(digest, incarnation);
    } finally {
      afterReferenceDrop(digest);
    }
  }

  /**
   * A link never takes a blob's last reference from a caller that holds the one it passes (the
   * contract): the link holds it, or already held one when it drops the caller's. So its targets
   * stay and only their counts changed; forgetting their info is enough, and the next use asks
   * the backing store in any case.
   */
  @Override
  public void link(Digest to, Digest from) {
    try {
      backing.link(to, from);
    } finally {
      tiers.forgetInfo(from);
      tiers.forgetInfo(to);
    }
  }

  @Override
  public void linkAll(Collection<Digest> to, Digest from) {
    try {
      backing.linkAll(to, from);
    } finally {
      forgetInfos(to, from);
    }
  }

  /** As {@link #linkAll}: targets only gain references, so forgetting their info is enough. */
  @Override
  public void linkNew(Collection<Digest> to, Digest from) {
    try {
      backing.linkNew(to, from);
    } finally {
      forgetInfos(to, from);
    }
  }

  /**
   * The backing store's operation, its puts and links forgetting the infos they may make stale,
   * as {@link #linkNew}; the bytes put do not fill the cache.
   */
  @Override
  public NewLinks newLinks(Digest from) {
    NewLinks backingLinks = backing.newLinks(from);
    return new NewLinks() {
      @Override
      public Digest from() {
        return from;
      }

      @Override
      public Info put(byte[] content, Digest expected, Map<String, String> labels) {
        try {
          return backingLinks.put(content, expected, labels);
        } finally {
          if (expected != null) {
            tiers.forgetInfo(expected);
          }
        }
      }

      @Override
      public Info putFile(Path file, Digest expected, Map<String, String> labels)
          throws IOException {
        try {
          return backingLinks.putFile(file, expected, labels);
        } finally {
          if (expected != null) {
            tiers.forgetInfo(expected);
          }
        }
      }

      @Override
      public void link(Collection<Digest> to) {
        try {
          backingLinks.link(to);
        } finally {
          forgetInfos(to, from);
        }
      }
    };
  }

  /** Forgets the cached infos of a many-target link's source and targets, whatever it did. */
  private void forgetInfos(Collection<Digest> to, Digest from) {
    tiers.forgetInfo(from);
    to.forEach(tiers::forgetInfo);
  }

  @Override
  public void unlink(Digest to, Digest from) {
    try {
      backing.unlink(to, from);
    } finally {
      tiers.forgetInfo(from);
      afterReferenceDrop(to);
    }
  }

  /**
   * After a reference of {@code digest} was dropped: if the blob is gone, evict it, and forget
   * every cached info, as the cascade may have removed blobs it linked to.
   */
  private void afterReferenceDrop(Digest digest) {
    tiers.forgetInfo(digest);
    try {
      backing.info(digest);
    } catch (NotFoundException e) {
      tiers.evict(digest);
      tiers.forgetAllInfo();
    } catch (StoreException e) {
      // The next read asks the backing store again anyway.
      LOG.debug("cannot check blob {} after a dereference", digest, e);
    }
  }

  // ---- maintenance: afterwards no cached info is trusted ----

  @Override
  public GcReport gc(GcOptions options) {
    try {
      return backing.gc(options);
    } finally {
      tiers.forgetAllInfo();
    }
  }

  /** Verifies the backing store's bytes, not the cache's (its entries are verified on install). */
  @Override
  public FsckReport fsck(FsckOptions options) {
    try {
      return backing.fsck(options);
    } finally {
      if (options.repair()) {
        tiers.forgetAllInfo();
      }
    }
  }

  @Override
  public FsckReport fsck(boolean repair) {
    try {
      return backing.fsck(repair);
    } finally {
      if (repair) {
        tiers.forgetAllInfo();
      }
    }
  }
}
