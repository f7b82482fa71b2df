package dev.coffer.store.tree;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NewLinks;
import dev.coffer.store.tree.LinkPipeline.Target;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One put of a directory as a tree, full or a delta over a base ({@link Trees#put(Path, Map,
 * Digest)}): the order of TREE-3 and the choice between a delta and a full tree
 * (docs/architecture.md, "Trees" and "Delta trees").
 */
final class TreePut {

  private static final int SYMLINK_MODE = 0777;

  private final ContentStore store;
  private final int jobs;
  private final TransferListener listener;
  private final HashIndex index;
  private final TreeCache cache;

  /**
   * A put over {@code store}; {@code index} (or null) gives and records the files' digests,
   * {@code cache} (or null) keeps the tree blobs it reads and writes.
   */
  TreePut(ContentStore store, int jobs, TransferListener listener, HashIndex index,
      TreeCache cache) {
    this.store = store;
    this.jobs = jobs;
    this.listener = listener;
    this.index = index;
    this.cache = cache;
  }

  /** See {@link Trees#put(Path, Map, Digest)}. */
  TreeTransfer put(Path dir, Map<String, String> labels, Digest base) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new InvalidArgumentException("not a directory: " + dir);
    }
    // The base is read while the directory is scanned and hashed: a delta needs both.
    try (BaseRead read = base == null ? null : BaseRead.start(store, base, cache)) {
      Tree tree;
      try {
        tree = local(dir, read);
      } catch (RuntimeException e) {
        throw read == null ? e : read.failureOr(e);
      }
      TreeChain from = read == null ? null : read.get();
      return store(dir, labels, base, from, tree);
    }
  }

  /**
   * The directory's tree: every entry under {@code dir}, each file hashed (unless the index knows
   * it unchanged); stopped early once {@code read} (unless null) has failed.
   */
  private Tree local(Path dir, BaseRead read) {
    LocalFiles.Scan scan = LocalFiles.scan(dir);
    listener.started(scan.files(), scan.bytes());
    return Tree.of(Jobs.runAll(jobs, scan.paths().stream()
        .<Callable<Tree.Entry>>map(p -> () -> {
          if (read != null && read.failed()) {
            throw new CancellationException("the base tree could not be read");
          }
          return entry(dir, p);
        }).toList()));
  }

  /**
   * Stores {@code tree}, the tree of {@code dir}, as a full tree or as a delta over {@code base}
   * ({@code from} its chain; both null for a full tree): the steps of TREE-3 after the hashing.
   */
  private TreeTransfer store(Path dir, Map<String, String> labels, Digest base, TreeChain from,
      Tree tree) {
    TreeLayer layer = TreeLayer.full(tree);
    boolean unchanged = from != null && tree.equals(from.tree());
    if (unchanged) {
      layer = from.layer(); // nothing changed: the tree is the base
    } else if (from != null && from.layer().depth() < TreeLayer.MAX_DEPTH) {
      TreeLayer delta = TreeLayer.delta(base, from.layer().depth(), from.tree(), tree);
      if (delta.size() <= tree.entries().size() / 4) {
        layer = delta;
      }
    }
    // A delta lists the changed files: their lookups, and the uploads of the largest, overlap
    // the tree's commit (EarlyLookups, EarlyUploads).
    boolean delta = !unchanged && layer.isDelta();
    try (EarlyLookups lookups = EarlyLookups.start(store, delta ? lookedUp(layer) : List.of(),
            jobs);
        EarlyUploads uploads = EarlyUploads.start(store,
            delta ? files(dir, layer) : List.of(), jobs)) {
      return store(dir, labels, unchanged ? base : null, tree, layer, lookups, uploads);
    }
  }

  /** The files of {@code layer}, a layer of {@code dir}, as targets. */
  private static List<Target> files(Path dir, TreeLayer layer) {
    return layer.entries().stream().filter(e -> e.kind() == Tree.Kind.FILE)
        .map(e -> new Target(e.digest(), dir.resolve(e.path()), e.size())).toList();
  }

  /** The files of {@code layer} whose upload starts with a lookup ({@link FileCopies}). */
  private static List<Digest> lookedUp(TreeLayer layer) {
    return layer.entries().stream()
        .filter(e -> e.kind() == Tree.Kind.FILE && e.size() > FileCopies.SEND_WITHOUT_LOOKUP
            && e.size() <= FileCopies.ONE_STEP_LIMIT)
        .map(Tree.Entry::digest).distinct().toList();
  }

  /**
   * Stores {@code layer}, the layer of {@code tree} to put, or (with {@code stored}, the base, its
   * tree unchanged) references the base again; the files its upload looks up first are looked up
   * by {@code lookups}, and those uploaded before the tree's commit by {@code uploads}.
   */
  private TreeTransfer store(Path dir, Map<String, String> labels, Digest stored, Tree tree,
      TreeLayer layer, EarlyLookups lookups, EarlyUploads uploads) {
    Digest digest;
    Info committed;
    byte[] blob = null;
    if (stored != null) {
      digest = stored;
      committed = commit(null, digest, labels);
    } else {
      blob = TreeCodec.encode(layer);
      digest = Digest.of(blob);
      committed = commit(blob, digest, labels);
    }
    // A tree this put created links to nothing yet: its links are read only if it was stored.
    Set<Digest> linked = (committed != null ? committed : store.info(digest)).links();
    Map<Digest, Target> missing = new LinkedHashMap<>();
    if (layer.isDelta() && !linked.contains(layer.base())) {
      missing.put(layer.base(), Target.tree(layer.base(), 0));
    }
    Set<String> listed = new HashSet<>();
    layer.entries().forEach(e -> listed.add(e.path()));
    long fromBase = 0; // files the base holds: this layer does not list them
    for (Tree.Entry e : tree.files()) {
      fromBase += listed.contains(e.path()) ? 0 : 1;
      if (!listed.contains(e.path()) || linked.contains(e.digest())
          || missing.containsKey(e.digest())) {
        listener.fileDone(e.size(), false); // held by the base, or linked already
      } else {
        missing.put(e.digest(), new Target(e.digest(), dir.resolve(e.path()), e.size()));
      }
    }
    if (layer.isDelta() && missing.containsKey(layer.base())) {
      missing.put(layer.base(), Target.tree(layer.base(), fromBase)); // for the pipeline's window
    }
    Sent sent = new Sent();
    // The largest files first, so that none of them starts last and ends the put alone.
    List<Target> targets = missing.values().stream()
        .sorted(Comparator.comparingLong(Target::size).reversed()).toList();
    if (!targets.isEmpty()) {
      // The links' operation is drawn before the files are stored: new files are created
      // holding their link's reference (on S3 with its mark; TREE-3).
      NewLinks links = store.newLinks(digest);
      new LinkPipeline(store, jobs, (t, first) -> upload(t, first, sent, links, lookups, uploads))
          .run(links, targets);
    }
    store.ref(digest);
    if (cache != null && blob != null) {
      cache.keep(digest, blob); // the base of the next put, as a build's chain goes
    }
    long bytes = tree.files().stream().mapToLong(Tree.Entry::size).sum();
    return new TreeTransfer(digest, tree.files().size(), bytes, sent.files.get(),
        sent.bytes.get());
  }

  /** The files and bytes a put sent. */
  private static final class Sent {
    final AtomicLong files = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
  }

  /**
   * The entry of {@code p}, a path under {@code dir}; a file is hashed (unless the index knows it
   * unchanged), not stored.
   */
  private Tree.Entry entry(Path dir, Path p) throws IOException {
    String rel = LocalFiles.relative(dir, p);
    long seen = index == null ? 0 : index.now(); // before the look, as the index asks
    LocalFiles.Stat a = LocalFiles.stat(p);
    if (a.isSymbolicLink()) {
      return new Tree.Entry(rel, Tree.Kind.SYMLINK, SYMLINK_MODE, 0, null,
          Files.readSymbolicLink(p).toString());
    }
    if (a.isDirectory()) {
      return new Tree.Entry(rel, Tree.Kind.DIR, a.mode(), 0, null, null);
    }
    if (index != null) {
      return new Tree.Entry(rel, Tree.Kind.FILE, a.mode(), a.size(),
          index.digest(p, rel, a.stamp(), seen), null);
    }
    try (InputStream in = Files.newInputStream(p)) {
      return new Tree.Entry(rel, Tree.Kind.FILE, a.mode(), a.size(),
          Digest.of(DigestAlgorithm.CANONICAL, in), null);
    }
  }

  /**
   * Commits a tree blob without a reference, unless {@code blob} is null (the tree is known to be
   * stored); a tree found stored gets {@code labels}.
   *
   * @return the info of the tree this call created, or null if it was stored already
   */
  private Info commit(byte[] blob, Digest digest, Map<String, String> labels) {
    Map<String, String> kept = labels == null ? Map.of() : labels;
    if (blob != null) {
      try {
        return store.put(blob, digest, kept);
      } catch (AlreadyExistsException e) {
        // stored already: its labels below
      }
    }
    if (!kept.isEmpty()) {
      store.update(Info.forUpdate(digest, kept),
          kept.keySet().stream().map(k -> "labels." + k).toArray(String[]::new));
    }
    return null;
  }

  /**
   * Stores target {@code t} unless it is a tree (stored already) or stored already, new content
   * through {@code links} (holding its link's reference) the first time, without a reference the
   * second; {@code first} reports it done, a second store (after a link found it released) not.
   * A file {@code uploads} stored before the tree's commit is not stored again the first time.
   */
  private void upload(Target t, boolean first, Sent sent, NewLinks links, EarlyLookups lookups,
      EarlyUploads uploads) throws IOException {
    if (t.file() == null) {
      return;
    }
    Boolean early = first ? uploads.sent(t.digest()) : null;
    // Stored again after a NotFound: without the operation, whose marks were given back.
    boolean stored = early != null ? early : FileCopies.upload(store, first ? links : null,
        lookups, t.file(), t.digest(), t.size(), Map.of());
    if (stored) {
      sent.files.incrementAndGet();
      sent.bytes.addAndGet(t.size());
    }
    if (first) {
      listener.fileDone(t.size(), stored);
    }
  }
}
