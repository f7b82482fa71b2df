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
 * {@code UploadPartCopy} ranges, {@code copyConcurrency} in flight. A failed part cancels the rest
 * and aborts the upload unless the key holds an object by then ({@link S3Objects#abortUnlessStored});
 * a failed completion leaves the upload to gc, since the key may hold another host's blob.
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
    String uploadId = objects.uploads().createUpload(target, false);
    Deque<CompletableFuture<CompletedPart>> inFlight = new ArrayDeque<>();
    List<CompletedPart> done = new ArrayList<>();
    try {
      int number = 1;
      for (long[] range : PartPipeline.ranges(size, store.config.copyPartSize())) {
        if (inFlight.size() >= store.config.copyConcurrency()) {
          done.add(S3Errors.join(inFlight.poll(), "copying " + source + " to " + target));
        }
        inFlight.add(objects.uploads().uploadPartCopy(source, target, uploadId, number++, range[0],
            range[1]));
      }
      while (!inFlight.isEmpty()) {
        done.add(S3Errors.join(inFlight.poll(), "copying " + source + " to " + target));
      }
    } catch (StoreException | Error e) {
      inFlight.forEach(f -> f.cancel(true));
      objects.abortUnlessStored(target, uploadId, e);
      throw e;
    }
    // Never aborted once its completion is sent: the key may hold another host's blob by then.
    objects.uploads().complete(target, uploadId, done);
  }
}
