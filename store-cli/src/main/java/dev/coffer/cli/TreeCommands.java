package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.tree.HashIndex;
import dev.coffer.store.tree.Tree;
import dev.coffer.store.tree.TreeDiff;
import dev.coffer.store.tree.TreeTransfer;
import dev.coffer.store.tree.Trees;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The tree forms of the commands ({@code put -r}, {@code get -r}, {@code ls -r}) and {@code diff}:
 * whole directories through {@link Trees} (TREE- invariants of docs/architecture.md).
 */
final class TreeCommands {

  private TreeCommands() {}

  static Trees trees(ContentStore store, Integer jobs) {
    if (jobs != null && (jobs < 1 || jobs > Trees.MAX_JOBS)) {
      throw new InvalidArgumentException("--jobs must be 1 to " + Trees.MAX_JOBS + ", not " + jobs);
    }
    return jobs == null ? Trees.of(store) : Trees.of(store).withJobs(jobs);
  }

  /** Where {@code put -r} keeps its hash indexes: {@code trees/} in the cache's directory. */
  static Path hashIndexDir(Path cacheDir) {
    return cacheDir.resolve("trees");
  }

  /**
   * Where {@code put -r} keeps the tree blobs it writes and reads as bases: {@code tree-blobs/}
   * beside its hash indexes ({@link #hashIndexDir}), in the cache's directory.
   */
  static Path treeCacheDir(Path indexDir) {
    return indexDir.resolveSibling("tree-blobs");
  }

  /**
   * {@code put -r DIR [--base TREE]}: prints the tree's digest; one progress bar and a summary on
   * stderr. With {@code indexDir} (null under --no-cache), a file unchanged since the last put of
   * the directory is not read again (HashIndex); the index is saved at the end, whether or not
   * the put succeeded (the digests it computed hold either way). The tree blobs the put writes,
   * and its base's, are kept beside the index, so that the next put over this one reads only its
   * base's record from the store.
   */
  static ExitCode put(StoreCommand command, ContentStore store, Path dir,
      Map<String, String> labels, Integer jobs, Digest base, Path indexDir) {
    Trees trees = trees(store, jobs);
    HashIndex index = indexDir == null ? null : HashIndex.load(indexDir, dir);
    if (index != null) {
      trees = trees.withHashIndex(index).withTreeCache(treeCacheDir(indexDir));
    }
    try (BatchProgress progress = new BatchProgress(command, "put -r")) {
      TreeTransfer done = trees.withListener(progress).put(dir, labels, base);
      report(command, progress, done, "stored", "new");
    } finally {
      if (index != null) {
        index.save();
      }
    }
    return ExitCode.OK;
  }

  /** {@code get -r TREE -o DIR}: restores the directory; one progress bar and a summary. */
  static ExitCode get(StoreCommand command, ContentStore store, Digest tree, Path dir,
      Integer jobs) {
    try (BatchProgress progress = new BatchProgress(command, "get -r")) {
      TreeTransfer done = trees(store, jobs).withListener(progress).get(tree, dir);
      report(command, progress, done, "restored", "written");
    }
    return ExitCode.OK;
  }

  /** {@code ls -r TREE}: one line per entry, kind, mode (octal), size, digest or target, path. */
  static ExitCode list(StoreCommand command, ContentStore store, Digest tree) {
    Tree t = Trees.of(store).list(tree);
    if (command.json) {
      ArrayNode array = StoreCommand.JSON.createArrayNode();
      for (Tree.Entry e : t.entries()) {
        ObjectNode node = array.addObject();
        node.put("path", e.path());
        node.put("kind", e.kind().name().toLowerCase(java.util.Locale.ROOT));
        node.put("mode", String.format("%04o", e.mode()));
        node.put("size", e.size());
        if (e.digest() != null) {
          node.put("digest", e.digest().toString());
        }
        if (e.target() != null) {
          node.put("target", e.target());
        }
      }
      command.printJson(array);
      return ExitCode.OK;
    }
    for (Tree.Entry e : t.entries()) {
      String what = e.digest() != null ? e.digest().toString()
          : e.target() != null ? "-> " + e.target() : "-";
      command.cli().out.println(e.kind().name().toLowerCase(java.util.Locale.ROOT) + '\t'
          + String.format("%04o", e.mode()) + '\t' + e.size() + '\t' + what + '\t' + e.path());
    }
    return ExitCode.OK;
  }

  private static void report(StoreCommand command, BatchProgress progress, TreeTransfer done,
      String verb, String fresh) {
    BatchProgress.Totals totals = new BatchProgress.Totals(done.files(), done.bytes(),
        done.newFiles(), done.newBytes());
    if (command.json) {
      ObjectNode node = StoreCommand.JSON.createObjectNode();
      node.put("tree", done.tree().toString());
      progress.finish(totals, verb, fresh, node);
      command.printJson(node);
      return;
    }
    progress.finish(totals, verb, fresh, null);
    command.cli().out.println(done.tree());
  }

  @Command(name = "diff", description = {
      "Compare two trees: paths added, removed and changed from TREE1 to TREE2, and the bytes"
          + " a copy of TREE1 downloads to become TREE2."})
  static final class Diff extends StoreCommand {
    @Parameters(index = "0", paramLabel = "TREE1")
    String from;

    @Parameters(index = "1", paramLabel = "TREE2")
    String to;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      TreeDiff diff = Trees.of(store).diff(Digest.parse(from), Digest.parse(to));
      if (json) {
        printJson(diff);
        return ExitCode.OK;
      }
      print("+", diff.added());
      print("-", diff.removed());
      print("M", diff.changed());
      notices().println(name() + ": " + diff.added().size() + " added, " + diff.removed().size()
          + " removed, " + diff.changed().size() + " changed, " + diff.bytesToTransfer()
          + " bytes to transfer");
      return ExitCode.OK;
    }

    private void print(String mark, List<String> paths) {
      paths.forEach(p -> cli().out.println(mark + '\t' + p));
    }
  }
}
