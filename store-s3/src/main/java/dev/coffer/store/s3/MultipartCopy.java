package dev.coffer.store.s3;

import dev.coffer.store.StoreException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * A server-side copy of an object too large for one CopyObject: a multipart upload of
 * {@code UploadPartCopy} ranges, {@code copyConcurrency} in flight. Any failure cancels the rest
 * and aborts the upload (its key holds no object until completion, so nothing else is lost).
 */
final class MultipartCopy {
  private final S3Store store;
  private final String source;
  private final String target;
  private final long size;

  MultipartCopy(S3Store store, String source, String target, long size) {
    this.store = store;
    this.source = source;
    this.target = target;
    this.size = size;
  }

  void run() {
    S3Objects objects = store.objects;
    String uploadId = objects.createUpload(target, false);
    Deque<CompletableFuture<CompletedPart>> inFlight = new ArrayDeque<>();
    List<CompletedPart> done = new ArrayList<>();
    try {
      int number = 1;
      for (long[] range : PartPipeline.ranges(size, store.config.copyPartSize())) {
        if (inFlight.size() >= store.config.copyConcurrency()) {
          done.add(S3Objects.join(inFlight.poll(), "copying " + source + " to " + target));
        }
        inFlight.add(objects.uploadPartCopy(source, target, uploadId, number++, range[0],
            range[1]));
      }
      while (!inFlight.isEmpty()) {
        done.add(S3Objects.join(inFlight.poll(), "copying " + source + " to " + target));
      }
      objects.complete(target, uploadId, done);
    } catch (StoreException | Error e) {
      inFlight.forEach(f -> f.cancel(true));
      try {
        objects.abortUpload(target, uploadId);
      } catch (RuntimeException secondary) {
        e.addSuppressed(secondary);
      }
      throw e;
    }
  }
}
