package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The blob commands. */
final class Commands {
  private Commands() {}

  @Command(name = "info", description = "Show a blob's size, times, labels, references and links.")
  static final class InfoCommand extends StoreCommand {
    @Parameters(index = "0", paramLabel = "DIGEST")
    String digest;

    @Override
    boolean readsContent() {
      return false;
    }

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Info info = store.info(Digest.parse(digest));
      if (json) {
        printJson(toJson(info));
      } else {
        var out = cli().out;
        out.println("digest:    " + info.digest());
        out.println("size:      " + info.size() + " (" + Sizes.format(info.size()) + ")");
        out.println("created:   " + info.createdAt());
        out.println("updated:   " + info.updatedAt());
        out.println("last used: " + info.lastUsedAt());
        out.println("refs:      " + info.refCount());
        info.links().forEach(l -> out.println("link:      " + l));
        info.labels().forEach((k, v) -> out.println("label:     " + k + "=" + v));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "ls", description = "List blobs, optionally filtered (containerd filter syntax).")
  static final class Ls extends StoreCommand {
    @Option(names = {"-f", "--filter"}, paramLabel = "FILTER",
        description = "Filter, e.g. 'labels.team==ci' or 'lastUsedAt<2026-11-01T00:00:00Z'"
            + " (repeatable: any matches).")
    List<String> filters = new ArrayList<>();

    @Option(names = {"-r", "--tree"}, paramLabel = "TREE", description = "List the entries of a tree.")
    String tree;

    /** A tree's entries are its blob's bytes; the blobs' records are not. */
    @Override
    boolean readsContent() {
      return tree != null;
    }

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      if (tree != null) {
        return TreeCommands.list(this, store, Digest.parse(tree));
      }
      FilterFields.checkBlobs(filters);
      List<Info> infos = new ArrayList<>();
      store.walk(infos::add, filters.toArray(String[]::new));
      infos.sort((a, b) -> a.digest().compareTo(b.digest()));
      if (json) {
        ArrayNode array = JSON.createArrayNode();
        infos.forEach(i -> array.add(toJson(i)));
        printJson(array);
      } else {
        for (Info i : infos) {
          StringBuilder line = new StringBuilder()
              .append(i.digest()).append('\t').append(i.size()).append('\t')
              .append(i.refCount()).append('\t').append(i.createdAt());
          i.labels().forEach((k, v) -> line.append('\t').append(k).append('=').append(v));
          cli().out.println(line);
        }
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "label", description = "Set (KEY=VALUE) or remove (--remove KEY) labels of a blob.")
  static final class Label extends StoreCommand {
    @Parameters(index = "0", paramLabel = "DIGEST")
    String digest;

    @Parameters(index = "1..*", paramLabel = "KEY=VALUE", arity = "0..*")
    List<String> set = new ArrayList<>();

    @Option(names = {"-r", "--remove"}, paramLabel = "KEY", description = "Label to remove (repeatable).")
    List<String> remove = new ArrayList<>();

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Digest d = Digest.parse(digest);
      Map<String, String> labels = LabelArgs.parse(set);
      if (labels.isEmpty() && remove.isEmpty()) {
        throw new InvalidArgumentException("nothing to change: give KEY=VALUE or --remove KEY");
      }
      List<String> keys = new ArrayList<>(labels.keySet());
      keys.addAll(remove);
      Info info = store.update(Info.forUpdate(d, labels), LabelArgs.paths(keys));
      if (json) {
        printJson(toJson(info));
      } else {
        info.labels().forEach((k, v) -> cli().out.println(k + "=" + v));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "rm", description = "Delete blobs, whatever their reference counts.")
  static final class Rm extends StoreCommand {
    @Parameters(arity = "1..*", paramLabel = "DIGEST")
    List<String> digests;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      List<Digest> parsed = digests.stream().map(Digest::parse).toList();
      ArrayNode deleted = JSON.createArrayNode();
      for (Digest d : parsed) {
        store.delete(d);
        deleted.add(d.toString());
        if (!json) {
          cli().out.println("deleted " + d);
        }
      }
      if (json) {
        printJson(JSON.createObjectNode().set("deleted", deleted));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "ref", description = "Add one reference to a blob; print its count.")
  static final class Ref extends StoreCommand {
    @Parameters(index = "0", paramLabel = "DIGEST")
    String digest;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Info info = store.ref(Digest.parse(digest));
      printCount(info.digest(), info.refCount());
      return ExitCode.OK;
    }

    void printCount(Digest d, long count) {
      if (json) {
        ObjectNode node = JSON.createObjectNode();
        node.put("digest", d.toString());
        node.put("refCount", count);
        printJson(node);
      } else {
        cli().out.println(d + "\t" + count);
      }
    }
  }

  @Command(name = "deref", description = {
      "Remove one reference from a blob; at zero, remove it and dereference what it links to."})
  static final class Deref extends StoreCommand {
    @Parameters(index = "0", paramLabel = "DIGEST")
    String digest;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Digest d = Digest.parse(digest);
      store.deref(d);
      long count;
      try {
        count = store.info(d).refCount();
      } catch (dev.coffer.store.NotFoundException e) {
        count = 0;
      }
      if (json) {
        ObjectNode node = JSON.createObjectNode();
        node.put("digest", d.toString());
        node.put("refCount", count);
        node.put("removed", count == 0);
        printJson(node);
      } else {
        cli().out.println(d + "\t" + count + (count == 0 ? "\tremoved" : ""));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "link", description = {
      "Record that FROM links to TO; your reference to TO passes to the link.",
      "TO comes first, as the target does in ln TARGET NAME and in the library's link(to, from)."})
  static final class Link extends StoreCommand {
    @Parameters(index = "0", paramLabel = "TO")
    String to;

    @Parameters(index = "1", paramLabel = "FROM")
    String from;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Digest t = Digest.parse(to);
      Digest f = Digest.parse(from);
      store.link(t, f);
      reportLinks(this, store, f, "linked");
      return ExitCode.OK;
    }
  }

  @Command(name = "unlink", description = {
      "Remove the link from FROM to TO and dereference TO (the order of link)."})
  static final class Unlink extends StoreCommand {
    @Parameters(index = "0", paramLabel = "TO")
    String to;

    @Parameters(index = "1", paramLabel = "FROM")
    String from;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Digest t = Digest.parse(to);
      Digest f = Digest.parse(from);
      store.unlink(t, f);
      reportLinks(this, store, f, "unlinked");
      return ExitCode.OK;
    }
  }

  /** Prints the links of {@code from} after a link or unlink. */
  static void reportLinks(StoreCommand command, ContentStore store, Digest from, String what) {
    Info info = store.info(from);
    if (command.json) {
      command.printJson(StoreCommand.toJson(info));
    } else {
      command.cli().out.println(what + " " + from + " -> " + info.links());
    }
  }
}
