package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.tree.FileTransfer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Several files at once outside trees: {@code put FILE...} and {@code get DIGEST... -o DIR}, in
 * one process, {@code --jobs} at a time, through {@link dev.coffer.store.tree.Trees#putFiles} and
 * {@link dev.coffer.store.tree.Trees#getBlobs}, with one progress bar and one summary.
 */
final class BatchCommands {

  private BatchCommands() {}

  /**
   * {@code put FILE...}: one line per file on stdout, in the order given, its digest and its path
   * separated by a tab; nothing is referenced (as {@code put} without {@code --ref}).
   */
  static ExitCode put(StoreCommand command, ContentStore store, List<String> files,
      Map<String, String> labels, Integer jobs) {
    List<Path> paths = files.stream().map(command.cli()::path).toList();
    try (BatchProgress progress = new BatchProgress(command, "put")) {
      List<FileTransfer> done = TreeCommands.trees(store, jobs).withListener(progress)
          .putFiles(paths, labels);
      report(command, progress, done, files, "stored", "new");
    }
    return ExitCode.OK;
  }

  /**
   * {@code get DIGEST... -o DIR}: each blob written, verified, to {@code DIR/<hex of its digest>};
   * one line per digest on stdout, in the order given, the digest and the file separated by a tab.
   */
  static ExitCode get(StoreCommand command, ContentStore store, List<String> digests, Path dir,
      Integer jobs) {
    List<Digest> parsed = digests.stream().map(Digest::parse).toList();
    try (BatchProgress progress = new BatchProgress(command, "get")) {
      List<FileTransfer> done = TreeCommands.trees(store, jobs).withListener(progress)
          .getBlobs(parsed, dir);
      report(command, progress, done, done.stream().map(t -> t.path().toString()).toList(),
          "read", "written");
    }
    return ExitCode.OK;
  }

  private static void report(StoreCommand command, BatchProgress progress,
      List<FileTransfer> done, List<String> names, String verb, String fresh) {
    long bytes = 0;
    long newFiles = 0;
    long newBytes = 0;
    java.util.Set<Path> seen = new java.util.HashSet<>();
    for (FileTransfer t : done) {
      if (!seen.add(t.path())) {
        continue; // a blob asked for twice is one file
      }
      bytes += t.size();
      if (t.transferred()) {
        newFiles++;
        newBytes += t.size();
      }
    }
    BatchProgress.Totals totals = new BatchProgress.Totals(seen.size(), bytes, newFiles, newBytes);
    if (command.json) {
      ObjectNode node = StoreCommand.JSON.createObjectNode();
      ArrayNode list = node.putArray("entries");
      for (int i = 0; i < done.size(); i++) {
        FileTransfer t = done.get(i);
        ObjectNode e = list.addObject();
        e.put("digest", t.digest().toString());
        e.put("path", names.get(i));
        e.put("size", t.size());
        e.put(fresh.equals("new") ? "stored" : "written", t.transferred());
      }
      progress.finish(totals, verb, fresh, node);
      command.printJson(node);
      return;
    }
    progress.finish(totals, verb, fresh, null);
    for (int i = 0; i < done.size(); i++) {
      command.cli().out.println(done.get(i).digest() + "\t" + names.get(i));
    }
  }
}
