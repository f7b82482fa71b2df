package dev.coffer.store.tree;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.tree.LinkPipeline.Target;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The uploads a delta put starts before its tree is committed: those of its changed files of more
 * than {@link FileCopies#ONE_STEP_LIMIT} (the files a put stores plainly, with {@link
 * ContentStore#putFile}: their records are not created with the links' operation's mark, so they
 * do not wait for its draw). Their lookup, parts and completion then overlap the tree's commit and
 * the draw instead of following them; on a round trip, the largest changed file is what a second
 * upload's chain waits for. Each upload is the one its file's turn would have made, no other
 * ({@link FileCopies#upload(ContentStore, java.nio.file.Path, Digest, long, Map)}, without a
 * reference and without labels), and the file is linked at its turn as any stored file is. An
 * upload that failed is made again at the file's turn.
 *
 * <p>Who holds what if the put stops before the link: a file so stored is held by nothing (count
 * 0), as a file its turn stored and a failed link left; gc reclaims it. At most {@code jobs} are
 * started, the largest first, and a put's pipeline takes its targets largest first, so these are
 * the first it takes: at most {@code jobs} files are sent at once, as without them.
 *
 * <p>{@link #close} ends the uploads still running (interrupting them) before it returns.
 * Thread-safe.
 */
final class EarlyUploads implements AutoCloseable {

  private final EarlyWork<Boolean> sent;

  private EarlyUploads(ContentStore store, Map<Digest, Target> files, int jobs) {
    this.sent = new EarlyWork<>(files.keySet(), jobs, "coffer-tree-upload", d -> {
      Target t = files.get(d);
      return FileCopies.upload(store, t.file(), d, t.size(), Map.of());
    });
  }

  /**
   * Starts uploading the largest {@code jobs} of {@code files} (targets with a file) of more than
   * {@link FileCopies#ONE_STEP_LIMIT}, at most {@code jobs} at a time; the others are left to
   * their turn.
   */
  static EarlyUploads start(ContentStore store, Collection<Target> files, int jobs) {
    Map<Digest, Target> started = new LinkedHashMap<>();
    files.stream()
        .filter(t -> t.file() != null && t.size() > FileCopies.ONE_STEP_LIMIT)
        .sorted(Comparator.comparingLong(Target::size).reversed())
        .forEach(t -> {
          if (started.size() < jobs) {
            started.putIfAbsent(t.digest(), t);
          }
        });
    return new EarlyUploads(store, started, jobs);
  }

  /**
   * Whether the early upload of {@code d} sent its file (false: found stored), once it has ended,
   * given once; null if none was started for {@code d}, it failed, or was asked about already:
   * the file's turn uploads it.
   */
  Boolean sent(Digest d) {
    return sent.take(d);
  }

  @Override
  public void close() {
    sent.close();
  }
}
