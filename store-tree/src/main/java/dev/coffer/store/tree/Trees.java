package dev.coffer.store.tree;

import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whole directories over any {@link ContentStore}: {@link #put} stores a directory as a tree blob
 * linking to its files (or as a delta over a base tree), {@link #get} restores one, {@link #list}
 * and {@link #diff} read them. Who holds which reference is stated in docs/architecture.md
 * (TREE-1 to TREE-6, "Delta trees").
 *
 * <p>Transfers run at most {@code jobs} at a time. Instances are immutable and thread-safe; each call
 * uses its own threads and ends them before returning.
 */
public final class Trees {

  /**
   * The default number of parallel transfers, sized to this JVM ({@link #defaultJobs}): 16, or
   * the machine's processors if more, and fewer on a small heap.
   */
  public static final int DEFAULT_JOBS = defaultJobs(Runtime.getRuntime().availableProcessors(),
      Runtime.getRuntime().maxMemory());

  /** The heap a default job is allowed: a file read whole, or a multipart upload's parts. */
  static final long HEAP_PER_JOB = 128L << 20;

  /** The most parallel transfers allowed. */
  public static final int MAX_JOBS = 256;

  /**
   * The default parallel transfers on {@code processors} processors and a heap of at most {@code
   * maxHeap} bytes: 16, or the processors if more, since a transfer mostly waits on its round
   * trips rather than on a processor (on two cores the processors' 4 made a first upload of 1,000
   * files at a 20 ms round trip take 2.3 times as long as 16); but no more than one per {@link
   * #HEAP_PER_JOB} of heap, since a job may hold a file of up to 4 MiB read whole or a multipart
   * upload's parts in flight; and at least 4.
   */
  static int defaultJobs(int processors, long maxHeap) {
    long byHeap = maxHeap / HEAP_PER_JOB;
    return (int) Math.max(4, Math.min(Math.max(16, processors), byHeap));
  }

  /**
   * The most delta trees a chain holds over its full tree: a read of a tree reads at most this
   * many blobs and one more, and a put writes a full tree rather than go deeper.
   */
  public static final int MAX_DELTA_DEPTH = TreeLayer.MAX_DEPTH;

  private final ContentStore store;
  private final int jobs;
  private final TransferListener listener;
  private final HashIndex index;
  private final TreeCache cache;

  private Trees(ContentStore store, int jobs, TransferListener listener, HashIndex index,
      TreeCache cache) {
    this.store = store;
    this.jobs = jobs;
    this.listener = listener;
    this.index = index;
    this.cache = cache;
  }

  /** Trees over {@code store} with {@link #DEFAULT_JOBS} parallel transfers and no listener. */
  public static Trees of(ContentStore store) {
    return new Trees(java.util.Objects.requireNonNull(store, "store"), DEFAULT_JOBS,
        TransferListener.NONE, null, null);
  }

  /**
   * The same, reporting the progress of each later call to {@code listener} (see its contract;
   * what it throws is logged and ignored).
   */
  public Trees withListener(TransferListener listener) {
    return new Trees(store, jobs, Listeners.safe(
        java.util.Objects.requireNonNull(listener, "listener")), index, cache);
  }

  /**
   * The same over {@code jobs} parallel transfers.
   *
   * @throws IllegalArgumentException unless 1 &le; jobs &le; {@link #MAX_JOBS}
   */
  public Trees withJobs(int jobs) {
    if (jobs < 1 || jobs > MAX_JOBS) {
      throw new IllegalArgumentException("jobs must be 1 to " + MAX_JOBS + ", not " + jobs);
    }
    return new Trees(store, jobs, listener, index, cache);
  }

  /**
   * The same, its {@link #put} taking each file's digest from {@code index} when the file is
   * unchanged since the index recorded it (size, modification time, file key and change time all
   * equal), and recording the digests it takes or computes there; the caller saves the index
   * ({@link HashIndex#save}). The index must be of the directory put.
   */
  public Trees withHashIndex(HashIndex index) {
    return new Trees(store, jobs, listener, java.util.Objects.requireNonNull(index, "index"),
        cache);
  }

  /**
   * The same, its {@link #put} keeping the tree blobs it writes, and those of a base's chain it
   * reads, in directory {@code dir} (created if needed, mode 0700; a bounded number of blobs,
   * each named by its digest), and taking a base's blobs from there rather than from the store
   * when kept: a build's next put is over the tree its last put wrote. Each blob's record is
   * still read from the store (the base must be live), and a blob kept is used only if it
   * hashes to its digest; a blob missing, altered or unreadable there is read from the store.
   */
  public Trees withTreeCache(Path dir) {
    return new Trees(store, jobs, listener, index,
        TreeCache.in(java.util.Objects.requireNonNull(dir, "dir")));
  }

  /** Stores {@code dir} with no labels; see {@link #put(Path, Map)}. */
  public Digest put(Path dir) {
    return put(dir, Map.of()).tree();
  }

  /**
   * Stores every regular file, symbolic link and directory under {@code dir} (links are stored, not
   * followed) and returns the tree's digest with counts. Files already stored are not uploaded
   * again. In order (TREE-3): every file is hashed locally, which gives the tree; the tree blob is
   * committed with {@code labels} (without a reference); then, {@code jobs} at a time, each
   * distinct file the tree lacks a link to is stored unless it is (without a reference of the
   * caller's: through one {@code linkNew} operation drawn beforehand, {@link
   * ContentStore#newLinks}, so that on S3 a new file is created holding its link's marked
   * reference), and the files stored are linked from the tree as they are, one {@code linkNew}
   * at a time, each new link taking its reference in the same operation (no file waits for a
   * slower one's upload); last, one reference is taken on the tree, which the caller holds, as
   * {@code put --ref}. A call that fails or is killed part-way is finished by calling it again;
   * the counts are exact once the references a killed put or {@code linkNew} marked and never
   * linked are given back (on S3 by gc or {@code fsck --repair} past the store's bound).
   *
   * @throws InvalidArgumentException if {@code dir} is not a directory, or a name cannot be stored
   * @throws UncheckedIOException if reading the directory fails
   */
  public TreeTransfer put(Path dir, Map<String, String> labels) {
    return put(dir, labels, null);
  }

  /**
   * Stores {@code dir} as {@link #put(Path, Map)} does, as a delta over tree {@code base} when
   * that pays: a tree that names {@code base} and lists only the entries added or changed since it
   * and the paths removed, linking to {@code base} and to the files it lists, so that its put
   * references and looks up only those. A full tree is written instead when the delta would
   * lie more than {@link #MAX_DELTA_DEPTH} deltas over a full tree, or list more than a quarter
   * as many entries and removals as the directory has entries; with nothing changed, the tree is
   * {@code base} itself (the caller gets a reference on it). The same directory over the same
   * base gives the same tree (TREE-1). A delta keeps its base, and so everything the base holds,
   * alive while it lives (TREE-2).
   *
   * @param base the tree to store a delta over, or null for a full tree
   * @throws dev.coffer.store.NotFoundException if {@code base} is not stored
   * @throws InvalidArgumentException if {@code dir} is not a directory, a name cannot be stored, or
   *     {@code base} is not a tree
   */
  public TreeTransfer put(Path dir, Map<String, String> labels, Digest base) {
    return new TreePut(store, jobs, listener, index, cache).put(dir, labels, base);
  }

  /**
   * Restores tree {@code tree} into {@code dir}, creating it if needed. Every entry is checked before
   * anything is written: one whose path would leave {@code dir} is refused (TREE-4). Each file is
   * written to a temporary name beside its target, verified against its digest and renamed over the
   * target; a file already there with the right digest is left untouched but for its mode (TREE-5).
   * Modes and symbolic links are restored; entries of {@code dir} the tree does not list are kept.
   * A file the tree (or a blob of its chain) links to is held while the tree is, so it is read
   * with {@link ContentStore#readerAtHeld} (on S3 one request, not two).
   *
   * @throws dev.coffer.store.NotFoundException if the tree or one of its files is not stored
   * @throws InvalidArgumentException naming the entry if one escapes {@code dir}, or the blob is not
   *     a tree
   * @throws DataLossException if a file's bytes do not hash to its digest (nothing is renamed then)
   * @throws UncheckedIOException if writing fails
   */
  public TreeTransfer get(Digest tree, Path dir) {
    TreeChain chain = TreeChain.resolve(store, tree);
    Tree t = chain.tree();
    try {
      Files.createDirectories(dir);
      Path root = dir.toRealPath();
      for (Tree.Entry e : t.entries()) {
        Path target = root.resolve(e.path()).normalize();
        if (!target.startsWith(root) || target.equals(root)) {
          throw new InvalidArgumentException("tree entry \"" + e.path() + "\": escapes " + dir);
        }
      }
      for (Tree.Entry e : t.entries()) {
        if (e.kind() == Tree.Kind.DIR) {
          Path d = inside(root, e);
          if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(d);
          }
          if (!d.toRealPath().startsWith(root)) { // a link in place of the directory: no chmod
            throw new InvalidArgumentException("tree entry \"" + e.path() + "\": escapes " + root
                + " through a symbolic link");
          }
        }
      }
      AtomicLong newFiles = new AtomicLong();
      AtomicLong newBytes = new AtomicLong();
      listener.started(t.files().size(), t.files().stream().mapToLong(Tree.Entry::size).sum());
      Jobs.runAll(jobs, t.entries().stream().filter(e -> e.kind() != Tree.Kind.DIR)
          .<Callable<Void>>map(e -> () -> {
            Path target = inside(root, e);
            Files.createDirectories(target.getParent());
            inside(root, e); // the parents now exist: check them once more, resolved
            if (e.kind() == Tree.Kind.SYMLINK) {
              restoreLink(target, e);
            } else {
              boolean written = FileCopies.restore(store, target, e.digest(), e.size(), e.mode(),
                  chain.held().contains(e.digest())).written();
              if (written) {
                newFiles.incrementAndGet();
                newBytes.addAndGet(e.size());
              }
              listener.fileDone(e.size(), written);
            }
            return null;
          }).toList());
      // Directory modes last, deepest first, so a read-only directory is filled before it closes.
      List<Tree.Entry> dirs = new ArrayList<>(t.entries());
      java.util.Collections.reverse(dirs);
      for (Tree.Entry e : dirs) {
        if (e.kind() == Tree.Kind.DIR) {
          LocalFiles.setMode(inside(root, e), e.mode());
        }
      }
      long bytes = t.files().stream().mapToLong(Tree.Entry::size).sum();
      return new TreeTransfer(tree, t.files().size(), bytes, newFiles.get(), newBytes.get());
    } catch (IOException e) {
      throw new UncheckedIOException("restoring tree " + tree + " into " + dir + ": " + e, e);
    }
  }

  /**
   * Stores each of {@code files} as a blob of its own, with {@code labels} (set also on content
   * found stored), {@code jobs} at a time, and returns what happened to each, in the order given.
   * Nothing is referenced: as a put without a ref, each blob lives at count 0 until deleted or
   * referenced. Content already stored is not stored again (a file up to 1 MiB is sent without a
   * lookup, and refused as stored); a file above the one-step size is
   * put straight to its digest ({@link ContentStore#putFile}: on S3 to the digest's key, no ingest
   * and no copy; a put killed mid-way sends the file again, and gc removes what it left). Every
   * file is checked to be a regular file (links followed) before anything is stored.
   *
   * @throws InvalidArgumentException naming the first path that is not a regular file
   * @throws UncheckedIOException if reading a file fails
   */
  public List<FileTransfer> putFiles(List<Path> files, Map<String, String> labels) {
    Map<String, String> kept = labels == null ? Map.of() : Map.copyOf(labels);
    long bytes = 0;
    List<Long> sizes = new ArrayList<>();
    for (Path f : files) {
      try {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        if (!a.isRegularFile()) {
          throw new InvalidArgumentException("not a regular file: " + f
              + (a.isDirectory() ? " (a directory)" : ""));
        }
        sizes.add(a.size());
        bytes += a.size();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + f + ": " + e, e);
      }
    }
    listener.started(files.size(), bytes);
    List<Callable<FileTransfer>> tasks = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      long size = sizes.get(i);
      tasks.add(() -> {
        Digest digest;
        try (InputStream in = Files.newInputStream(f)) {
          digest = Digest.of(DigestAlgorithm.CANONICAL, in);
        }
        boolean sent = FileCopies.upload(store, f, digest, size, kept);
        listener.fileDone(size, sent);
        return new FileTransfer(f, digest, size, sent);
      });
    }
    return Jobs.runAll(jobs, tasks);
  }

  /**
   * Writes each of {@code blobs} into directory {@code dir} (created if needed) as a file named by
   * its digest's hex ({@code dir/<hex>}), {@code jobs} at a time, and returns what happened to each,
   * in the order given. Each file is written under a temporary name, verified against its digest
   * and renamed (TREE-5); a file already there with the right digest is left untouched. New files
   * get the permissions a new file gets.
   *
   * @throws dev.coffer.store.NotFoundException if a blob is not stored
   * @throws DataLossException if a blob's bytes do not hash to its digest (nothing is renamed then)
   * @throws UncheckedIOException if writing fails
   */
  public List<FileTransfer> getBlobs(List<Digest> blobs, Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir + ": " + e, e);
    }
    List<Digest> distinct = new ArrayList<>(new LinkedHashSet<>(blobs));
    listener.started(distinct.size(), 0);
    List<FileTransfer> done = Jobs.runAll(jobs, distinct.stream()
        .<Callable<FileTransfer>>map(d -> () -> {
          Path target = dir.resolve(d.hex());
          FileCopies.Restored r = FileCopies.restore(store, target, d, -1, -1);
          listener.fileDone(r.size(), r.written());
          return new FileTransfer(target, d, r.size(), r.written());
        }).toList());
    Map<Digest, FileTransfer> byDigest = new java.util.HashMap<>();
    done.forEach(t -> byDigest.put(t.digest(), t));
    return blobs.stream().map(byDigest::get).toList();
  }

  /**
   * Reads tree {@code tree}; a delta tree reads as the full tree its chain of bases resolves to,
   * every blob of the chain verified.
   *
   * @throws dev.coffer.store.NotFoundException if it, or a base of its chain, is not stored
   * @throws InvalidArgumentException if a blob is not a tree, an entry is malformed or escapes, a
   *     delta removes a path its base lacks, or the chain is deeper than {@link #MAX_DELTA_DEPTH}
   * @throws DataLossException if a blob's bytes do not hash to its digest
   */
  public Tree list(Digest tree) {
    return TreeChain.resolve(store, tree).tree();
  }

  /** How tree {@code to} differs from tree {@code from}; see {@link TreeDiff}. */
  public TreeDiff diff(Digest from, Digest to) {
    return diff(list(from), list(to));
  }

  /** How tree {@code to} differs from tree {@code from}; see {@link TreeDiff}. */
  public static TreeDiff diff(Tree from, Tree to) {
    Map<String, Tree.Entry> before = new TreeMap<>();
    from.entries().forEach(e -> before.put(e.path(), e));
    Set<Digest> held = new java.util.HashSet<>();
    from.files().forEach(e -> held.add(e.digest()));
    List<String> added = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    Set<Digest> counted = new java.util.HashSet<>();
    long bytes = 0;
    for (Tree.Entry e : to.entries()) {
      Tree.Entry old = before.remove(e.path());
      if (old == null) {
        added.add(e.path());
      } else if (!old.equals(e)) {
        changed.add(e.path());
      } else {
        continue;
      }
      if (e.kind() == Tree.Kind.FILE && !held.contains(e.digest()) && counted.add(e.digest())) {
        bytes += e.size();
      }
    }
    return new TreeDiff(added, new ArrayList<>(before.keySet()), changed, bytes);
  }

  private static void restoreLink(Path target, Tree.Entry e) throws IOException {
    if (Files.isSymbolicLink(target)
        && Files.readSymbolicLink(target).toString().equals(e.target())) {
      return;
    }
    Path temp = LocalFiles.temp(target);
    try {
      Files.createSymbolicLink(temp, target.getFileSystem().getPath(e.target()));
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** The entry's path under root, refused if a directory on the way resolves outside root. */
  private static Path inside(Path root, Tree.Entry e) throws IOException {
    Path target = root.resolve(e.path());
    Path parent = target.getParent();
    while (parent != null && !Files.exists(parent, LinkOption.NOFOLLOW_LINKS)) {
      parent = parent.getParent();
    }
    if (parent == null || !parent.toRealPath().startsWith(root)) {
      throw new InvalidArgumentException("tree entry \"" + e.path() + "\": escapes " + root
          + " through a symbolic link");
    }
    return target;
  }
}
