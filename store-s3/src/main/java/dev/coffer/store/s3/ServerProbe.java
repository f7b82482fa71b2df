package dev.coffer.store.s3;

import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, once per store, the two server properties that gc and repairs rest on (PROTO-2): that
 * DeleteObject honours If-Match (AWS general-purpose buckets only since 2025; some S3-compatible
 * servers parse the header and ignore it), and that conditional writes are atomic (S3Mock checks,
 * then writes, so two create-only writes may both succeed). A purge whose record delete ignored
 * its condition could delete a live record another host just created; a purge claim that two
 * hosts both won could delete a blob object one of them is re-storing.
 *
 * <p>The probe works on keys {@code P/probe/<instance>-*} and removes them. Atomicity is probed by
 * {@value #RACERS} create-only writes of one fresh key sent at once: more than one success proves
 * the writes are not atomic; one success cannot prove they are (the requests may not have
 * overlapped), so a server that passes is trusted as the design notes' probe results say.
 *
 * <p>Thread-safe: the first caller probes, concurrent callers wait for its result.
 */
final class ServerProbe {
  private static final Logger LOG = LoggerFactory.getLogger(ServerProbe.class);
  /** Create-only writes sent at once to one key. */
  static final int RACERS = 8;
  /** An ETag no object has: the MD5 of nothing is d41d8cd9..., never all zeros. */
  private static final String WRONG_ETAG = "\"00000000000000000000000000000000\"";

  private final S3Store store;
  /** Null until probed; then why gc and repairs are refused, or "" if they are not. */
  private String refusal;
  /** Null until probed; then whether aborting an upload leaves the object at its key. */
  private Boolean abortKeepsObject;

  ServerProbe(S3Store store) {
    this.store = store;
  }

  /**
   * Probes the server unless done already, and refuses {@code what} where it failed.
   *
   * @throws FailedPreconditionException naming what the server does not do, if it failed a probe
   */
  void requireSafeDeletes(String what) {
    if (store.config.trustConditionalRequests()) {
      return;
    }
    String why = result();
    if (!why.isEmpty()) {
      throw new FailedPreconditionException("refusing " + what + " on bucket "
          + store.config.bucket() + ": " + why + "; it would delete records or blobs other hosts "
          + "have just written (docs/architecture.md, PROTO-2)");
    }
  }

  private synchronized String result() {
    if (refusal == null) {
      refusal = probe();
      if (!refusal.isEmpty()) {
        LOG.warn("bucket {}: {}; gc and fsck repairs are refused", store.config.bucket(), refusal);
      }
    }
    return refusal;
  }

  /**
   * Whether aborting a multipart upload leaves the object already stored at the upload's key in
   * place, as S3 documents (an abort frees the upload's parts only); some S3-compatible servers
   * (S3Mock 5.2.0) delete the object with it. Probed on {@code P/probe/<instance>-abort}: an
   * object, an upload started at its key, the abort, a HeadObject; the key is removed after. The
   * answer is kept for the store's life; a probe that fails says no and is made again next time.
   */
  synchronized boolean abortKeepsObject() {
    if (abortKeepsObject == null) {
      abortKeepsObject = probeAbort(store.config.prefix() + "probe/" + store.instanceId + "-abort");
      if (abortKeepsObject == null) {
        return false;
      }
      if (!abortKeepsObject) {
        LOG.info("bucket {}: aborting an upload deletes the object at its key on this server;"
            + " gc leaves uploads to stored blobs alone", store.config.bucket());
      }
    }
    return abortKeepsObject;
  }

  /** The probe's answer, or null if a request failed. */
  private Boolean probeAbort(String key) {
    S3Objects objects = store.objects;
    try {
      objects.put(key, new byte[] {1}, 1);
      String uploadId = objects.uploads().createUpload(key, false);
      objects.uploads().abortUpload(key, uploadId);
      return objects.exists(key);
    } catch (StoreException e) {
      LOG.debug("a probe of aborts at a stored key failed", e);
      return null;
    } finally {
      try {
        objects.delete(key);
      } catch (StoreException e) {
        LOG.warn("could not remove the probe's object {}: {}", key, e.getMessage());
      }
    }
  }

  private String probe() {
    String base = store.config.prefix() + "probe/" + store.instanceId;
    List<String> failures = new ArrayList<>();
    if (!conditionalDeleteHonoured(base + "-delete")) {
      failures.add("the server ignores If-Match on DeleteObject");
    }
    if (!createOnlyWritesAtomic(base + "-create")) {
      failures.add("the server's conditional writes are not atomic (" + RACERS
          + " create-only writes of one key, sent at once, succeeded more than once)");
    }
    return String.join(", and ", failures);
  }

  /** Whether a DeleteObject If-Match with a wrong ETag leaves the object in place. */
  private boolean conditionalDeleteHonoured(String key) {
    S3Objects objects = store.objects;
    objects.put(key, new byte[] {1}, 1);
    try {
      boolean deleted = objects.deleteIfMatch(key, WRONG_ETAG);
      return !deleted && objects.exists(key);
    } finally {
      objects.delete(key);
    }
  }

  /** Whether only one of {@value #RACERS} create-only writes of one fresh key sent at once wins. */
  private boolean createOnlyWritesAtomic(String key) {
    S3Objects objects = store.objects;
    CountDownLatch start = new CountDownLatch(1);
    List<CompletableFuture<S3Objects.Attempt>> racers = new ArrayList<>();
    try {
      for (int i = 0; i < RACERS; i++) {
        byte[] body = ("racer " + i).getBytes(StandardCharsets.US_ASCII);
        racers.add(CompletableFuture.supplyAsync(() -> {
          try {
            start.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return objects.writeRecordOnce(key, body, null);
        }, store.workers));
      }
      start.countDown();
      int won = 0;
      for (CompletableFuture<S3Objects.Attempt> racer : racers) {
        try {
          if (S3Errors.join(racer, "probing conditional writes").written()) {
            won++;
          }
        } catch (StoreException e) {
          LOG.debug("a probe of conditional writes failed", e);
        }
      }
      return won <= 1;
    } finally {
      objects.delete(key);
    }
  }
}
