package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.cache.CacheStats;
import dev.coffer.store.cache.CachedContentStore;
import picocli.CommandLine.Command;

/** {@code coffer cache stats|clear}: the local cache. */
@Command(name = "cache", description = "Show or clear the local cache.",
    subcommands = {CacheCommands.Stats.class, CacheCommands.Clear.class})
final class CacheCommands implements Runnable {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
        "missing subcommand: stats or clear");
  }

  static CachedContentStore cached(ContentStore store) {
    if (store instanceof CachedContentStore cached) {
      return cached;
    }
    throw new FailedPreconditionException("the cache is disabled (--no-cache or COFFER_NO_CACHE)");
  }

  @Command(name = "stats", description = "Show the disk tier's size and this process's counters.")
  static final class Stats extends StoreCommand {
    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      CacheStats s = cached(store).stats();
      if (json) {
        ObjectNode node = JSON.createObjectNode();
        node.put("memoryHits", s.memoryHits());
        node.put("memoryMisses", s.memoryMisses());
        node.put("diskHits", s.diskHits());
        node.put("diskMisses", s.diskMisses());
        node.put("memoryBytesServed", s.memoryBytesServed());
        node.put("diskBytesServed", s.diskBytesServed());
        node.put("backingBytesServed", s.backingBytesServed());
        node.put("memoryEvictions", s.memoryEvictions());
        node.put("diskEvictions", s.diskEvictions());
        node.put("corruptEntries", s.corruptEntries());
        node.put("loads", s.loads());
        node.put("loadFailures", s.loadFailures());
        node.put("totalLoadSeconds", s.totalLoadTime().toNanos() / 1e9);
        node.put("diskFailures", s.diskFailures());
        node.put("memoryBytes", s.memoryBytes());
        node.put("diskBytes", s.diskBytes());
        node.put("diskDegraded", s.diskDegraded());
        node.put("directory", settings.cacheDir().toString());
        node.put("diskMaxBytes", settings.diskCacheBytes());
        node.put("memoryMaxBytes", settings.memoryCacheBytes());
        printJson(node);
      } else {
        var out = cli().out;
        out.println("directory:   " + settings.cacheDir());
        out.println("disk:        " + Sizes.format(s.diskBytes()) + " of "
            + Sizes.format(settings.diskCacheBytes()) + (s.diskDegraded() ? " (degraded)" : ""));
        out.println("memory:      " + Sizes.format(s.memoryBytes()) + " of "
            + Sizes.format(settings.memoryCacheBytes()));
        out.println("corrupt:     " + s.corruptEntries());
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "clear", description = "Delete every cached blob; the bucket is not changed.")
  static final class Clear extends StoreCommand {
    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      CachedContentStore cached = cached(store);
      long before = cached.stats().diskBytes();
      cached.clear();
      if (json) {
        printJson(JSON.createObjectNode().put("cleared", true).put("bytesFreed", before));
      } else {
        cli().out.println("cleared " + Sizes.format(before) + " from " + settings.cacheDir());
      }
      return ExitCode.OK;
    }
  }
}
