package dev.coffer.store.s3;

import dev.coffer.store.BlobVerifier;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.UnknownException;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Consistency checks over the bucket, and their repairs: records left in deletion, live records
 * without their object (PROTO-5), tag drift, dangling links, blob objects without a record, and
 * with {@code verify} corrupt content (INT-3). Repairs that remove anything go through
 * {@link Purges}, so a commit racing with a repair never loses its bytes.
 */
final class S3Fsck {
  private static final Logger LOG = LoggerFactory.getLogger(S3Fsck.class);

  private final S3Store store;
  private final S3Objects objects;
  private final Purges purges;

  S3Fsck(S3Store store) {
    this.store = store;
    this.objects = store.objects;
    this.purges = new Purges(store);
  }

  /**
   * {@link #fsck(boolean)}, then with {@code options.verify()} the content check (INT-3): a
   * corrupt blob's repair deletes its object if it still has the ETag it had when checked, and
   * keeps its record (references, links, labels); the next commit or put of the true bytes stores
   * them again (PROTO-5).
   */
  FsckReport fsck(FsckOptions options) {
    FsckReport base = fsck(options.repair());
    if (!options.verify()) {
      return base;
    }
    List<FsckReport.Finding> findings = new ArrayList<>(base.findings());
    findings.addAll(BlobVerifier.verify(store, options, this::removeCorruptBytes));
    return new FsckReport(base.blobsChecked(), findings);
  }

  /** Deletes the object of a corrupt blob (its record stays); whether it did. */
  private boolean removeCorruptBytes(Digest digest) {
    String key = store.keys.blob(digest);
    // Read again, and deleted only under the ETag of what was read: bytes restored meanwhile stay.
    String etag;
    try (ResponseInputStream<GetObjectResponse> in = objects.stream(key, 0)) {
      etag = in.response().eTag();
      MessageDigest hasher = digest.algorithm().newHasher();
      BodyChecksums.drain(in, hasher, null);
      if (Digest.fromHasher(digest.algorithm(), hasher.digest()).equals(digest)) {
        return false;
      }
    } catch (NotFoundException e) {
      return true;
    } catch (IOException e) {
      throw new UnknownException("reading " + key + " again", e);
    }
    return objects.deleteIfMatch(key, etag);
  }

  /**
   * Checks records, objects and tags; with {@code repair}, only once the server passed the probe
   * (PROTO-2), else FailedPrecondition before any change. Every fsck, with or without verify,
   * comes through here.
   *
   * <p>Every record is read first, then each is checked and repaired in turn, in the order of the
   * records' index keys: its tags, its marks past the bound given back, then its dangling links,
   * each repair a compare-and-swap of its own. The order is the keys' rather than a hash map's so
   * that another host's operation landing between two repairs meets a state that depends on the
   * keys alone; it weakens nothing, since each repair decides on the record it changes (and on its
   * target read again) and none depends on another having been made.
   */
  FsckReport fsck(boolean repair) {
    if (repair) {
      store.probe.requireSafeDeletes("fsck repairs");
    }
    long now = store.now();
    Map<Digest, Purges.Versioned> records = purges.records();
    List<FsckReport.Finding> findings = new ArrayList<>();
    for (Map.Entry<Digest, Purges.Versioned> entry : records.entrySet()) {
      Digest digest = entry.getKey();
      IndexRecord record = entry.getValue().record();
      if (!record.isLive()) {
        staleDeletion(digest, entry.getValue(), now, repair).ifPresent(findings::add);
        continue;
      }
      Map<String, String> tags = objects.tags(store.keys.blob(digest));
      if (tags == null) {
        // Left live even when repairing, with its references, links and labels: the next commit
        // or put of its bytes stores them again (PROTO-5, INT-3).
        findings.add(new FsckReport.Finding(FsckReport.Kind.RECORD_WITHOUT_BLOB,
            digest.toString(), "is live but its content is missing; its references are kept and "
                + "the next commit or put of its bytes stores them again", false));
      } else if (objects.tagging() && !tags.equals(record.tags())) {
        tagDrift(digest, tags, repair).ifPresent(findings::add);
      }
      pendingMarks(digest, record, now, repair).ifPresent(findings::add);
      for (Digest target : record.linkDigests()) {
        Purges.Versioned linked = records.get(target);
        if ((linked == null || !linked.record().isLive()) && !liveNow(target)) {
          if (repair) {
            // Only the link found dangling: one made again since, to the target stored anew,
            // holds a reference of it (PROTO-1) and stays.
            long dangling = record.linkIncarnation(target);
            store.records().casIndex(digest, r -> r != null && r.links().contains(target.toString())
                && r.linkIncarnation(target) == dangling ? r.withoutLink(target) : null);
          }
          findings.add(new FsckReport.Finding(FsckReport.Kind.DANGLING_LINK, digest.toString(),
              "links to " + target + ", which does not exist", repair));
        }
      }
    }
    Map<Digest, Long> blobs = new HashMap<>();
    objects.listObjects(store.keys.blobPrefix(), object -> {
      Digest digest = Keys.digestOf(store.keys.blobPrefix(), object.key());
      if (digest != null) {
        blobs.put(digest,
            object.lastModified() == null ? now : Times.nanos(object.lastModified()));
      }
    });
    long orphanCutoff = purges.orphanCutoff(now);
    blobs.forEach((digest, stored) -> {
      if (records.containsKey(digest)) {
        return;
      }
      String where = "is stored at " + store.keys.blob(digest) + " without an index record";
      if (stored >= orphanCutoff) {
        // A put or commit stores the object before it creates the record: this one may be
        // under way, and removing its bytes now would cost it its blob (see Purges#purgeOrphan).
        findings.add(new FsckReport.Finding(FsckReport.Kind.BLOB_WITHOUT_RECORD,
            digest.toString(), where + " since " + Times.instant(stored) + " (a commit in"
                + " progress or interrupted; a repair removes it once older than the purge"
                + " timeout)", false));
        return;
      }
      boolean removed = repair && purges.purgeOrphan(digest);
      findings.add(new FsckReport.Finding(FsckReport.Kind.BLOB_WITHOUT_RECORD,
          digest.toString(), where + " (an interrupted commit)" + (removed ? "; removed" : ""),
          removed));
    });
    LOG.info("fsck: {} blobs checked, {} findings, {} repaired", records.size(), findings.size(),
        findings.stream().filter(FsckReport.Finding::repaired).count());
    return new FsckReport(records.size(), findings);
  }

  /**
   * Whether {@code target}'s record is live when read again. The listing is older than the
   * records read after it: a put that creates its files' records, then links to them (a tree's
   * put, PROTO-13), can have both done between the two, and such a link is no dangling one (a
   * repair that removed it left each file's reference held by no link).
   */
  private boolean liveNow(Digest target) {
    IndexRecord current = store.records().record(target);
    return current != null && current.isLive();
  }

  /**
   * A record left in deletion: {@code purging} past the purge timeout (its purger stopped; a repair
   * finishes the purge), or {@code deleting} past twice the grace (gc has not run).
   */
  private Optional<FsckReport.Finding> staleDeletion(Digest digest, Purges.Versioned found,
      long now, boolean repair) {
    IndexRecord record = found.record();
    String since = " since " + Times.instant(record.stateChangedAt());
    if (record.state() == IndexRecord.State.PURGING) {
      if (record.stateChangedAt() >= now - store.config.purgeTimeout().toNanos()) {
        return Optional.empty();
      }
      boolean finished = repair && purges.purge(digest, found);
      return Optional.of(new FsckReport.Finding(FsckReport.Kind.STALE_DELETION,
          digest.toString(), "has been purging" + since + ", longer than the purge timeout"
              + (finished ? "; purge finished" : "; gc or a repair finishes it"), finished));
    }
    if (record.stateChangedAt() >= now - 2 * store.config.deletionGrace().toNanos()) {
      return Optional.empty();
    }
    return Optional.of(new FsckReport.Finding(FsckReport.Kind.STALE_DELETION, digest.toString(),
        "has been deleting" + since + "; gc finishes it", false));
  }

  /**
   * Marked references of {@code record} older than the bound: references a {@code linkNew} took
   * for links it never made (TREE-3); a repair resolves them as gc does ({@link LinkMarks}).
   */
  private Optional<FsckReport.Finding> pendingMarks(Digest digest, IndexRecord record, long now,
      boolean repair) {
    long cutoff = now - LinkMarks.bound(store.config).toNanos();
    long old = record.pending().stream().filter(m -> m.at() <= cutoff).count();
    if (old == 0) {
      return Optional.empty();
    }
    int dropped = repair ? store.linkMarks().resolve(digest, record) : 0;
    return Optional.of(new FsckReport.Finding(FsckReport.Kind.PENDING_LINK_MARK,
        digest.toString(), "has " + old + " reference(s) marked for links not made within "
            + LinkMarks.bound(store.config) + (repair ? "; resolved, " + dropped + " given back"
            : "; gc or a repair resolves them"), repair));
  }

  /**
   * Blob object tags that disagree with the record, read again to rule out a change in flight;
   * a repair writes the tags of the record read last.
   */
  private Optional<FsckReport.Finding> tagDrift(Digest digest, Map<String, String> tags,
      boolean repair) {
    IndexRecord current = store.records().record(digest);
    if (current == null || !current.isLive() || tags.equals(current.tags())) {
      return Optional.empty();
    }
    if (repair) {
      objects.putTags(store.keys.blob(digest), current.tags());
    }
    return Optional.of(new FsckReport.Finding(FsckReport.Kind.TAG_DRIFT, digest.toString(),
        "has tags " + tags + " but its record says " + current.tags(), repair));
  }
}
