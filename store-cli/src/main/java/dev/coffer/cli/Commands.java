package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The blob commands. */
final class Commands {
  private Commands() {}

  static final int CHUNK = 1 << 20;
  /** Content below the store's default part size is put in one step. */
  static final int ONE_STEP_LIMIT = (int) S3StoreConfig.PART_SIZE_DEFAULT;

  @Command(name = "put", description = {
      "Store a file (or stdin with -) and print its digest.",
      "An interrupted put of the same file resumes where it stopped."})
  static final class Put extends StoreCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", defaultValue = "-",
        description = "File to store; - for stdin (default).")
    String file;

    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "Label (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--ref", description = "Ingest ref (default: derived from the file, or random for stdin).")
    String ref;

    @Option(names = "--expect", paramLabel = "DIGEST", description = "Fail unless the content has this digest.")
    String expect;

    @Override
    ExitCode execute(ContentStore store, Settings settings) throws IOException {
      Digest expected = expect == null ? null : Digest.parse(expect);
      boolean stdin = file.equals("-");
      Path path = stdin ? null : Path.of(file);
      long size = 0;
      if (path != null) {
        BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
        if (!attrs.isRegularFile()) {
          throw new IOException("not a regular file: " + file);
        }
        size = attrs.size();
      }
      String ingestRef = ref != null ? ref : defaultRef(path);
      Transfer transfer = new Transfer(this, "put", size);
      Digest digest;
      boolean stored = true;
      long bytes;
      InputStream in = stdin ? cli().in : null;
      byte[] whole = null;
      // Content below one part is stored in one step, without an ingest; an explicit --ref asks
      // for a resumable ingest, and longer content keeps one so an interrupted put resumes.
      if (ref == null && path != null && size < ONE_STEP_LIMIT) {
        whole = Files.readAllBytes(path);
      } else if (ref == null && stdin) {
        byte[] head = in.readNBytes(ONE_STEP_LIMIT);
        if (head.length < ONE_STEP_LIMIT) {
          whole = head;
        } else {
          in = new SequenceInputStream(new ByteArrayInputStream(head), in);
        }
      }
      Writer writer = whole != null ? null
          : openUnlessStored(store, ingestRef, new Descriptor(expected, size));
      if (whole != null) {
        transfer.start(0);
        try {
          digest = store.put(whole, expected, labels).digest();
        } catch (AlreadyExistsException e) {
          stored = false;
          digest = expected != null ? expected : Digest.of(whole);
        }
        bytes = whole.length;
        transfer.advance(whole.length);
      } else if (writer == null) {
        digest = expected;
        stored = false;
        bytes = store.info(digest).size();
      } else {
        try (writer) {
          long offset = writer.status().offset();
          transfer.start(offset);
          if (path != null) {
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
              if (offset > channel.size()) {
                writer.truncate(0);
                offset = 0;
              }
              ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
              long position = offset;
              int n;
              while ((n = channel.read(buffer, position)) >= 0) {
                buffer.flip();
                writer.write(buffer);
                buffer.clear();
                position += n;
                transfer.advance(n);
              }
            }
          } else {
            try {
              in.skipNBytes(offset); // a resumed ingest already holds the first bytes
            } catch (java.io.EOFException e) {
              throw new FailedPreconditionException("stdin is shorter than the " + offset
                  + " bytes ingest \"" + ingestRef + "\" already holds", e);
            }
            byte[] buffer = new byte[CHUNK];
            int n;
            while ((n = in.read(buffer)) >= 0) {
              writer.write(buffer, 0, n);
              transfer.advance(n);
            }
          }
          digest = writer.digest();
          bytes = writer.status().offset();
          try {
            writer.commit(size, expected, labels);
          } catch (AlreadyExistsException e) {
            stored = false;
          }
        }
      }
      if (!stored && !labels.isEmpty()) {
        // The content was there already: its labels still become what this put asked for.
        store.update(Info.forUpdate(digest, labels), labelPaths(labels.keySet()));
      }
      transfer.finish(bytes, stored ? "stored" : "already stored");
      if (json) {
        ObjectNode node = JSON.createObjectNode();
        node.put("digest", digest.toString());
        node.put("size", bytes);
        node.put("stored", stored);
        node.put("ref", ingestRef);
        node.put("seconds", transfer.seconds());
        printJson(node);
      } else {
        cli().out.println(digest);
      }
      return ExitCode.OK;
    }

    /** A writer for the ref, or null if the expected content is already stored. */
    private static Writer openUnlessStored(ContentStore store, String ref, Descriptor descriptor) {
      try {
        return Content.openWriter(store, ref, descriptor, Duration.ofMinutes(1));
      } catch (AlreadyExistsException e) {
        return null;
      }
    }

    /** A ref that is the same for the same file content version, so an interrupted put resumes. */
    private static String defaultRef(Path path) throws IOException {
      if (path == null) {
        return "coffer-put-stdin-" + UUID.randomUUID();
      }
      BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
      String identity = path.toAbsolutePath().normalize() + "\0" + attrs.size() + "\0"
          + attrs.lastModifiedTime().toMillis();
      return "coffer-put-" + Digest.of(identity.getBytes(StandardCharsets.UTF_8)).hex()
          .substring(0, 32);
    }
  }

  @Command(name = "get", description = "Write a blob (or a byte range of it) to stdout or a file.")
  static final class Get extends StoreCommand {
    @Parameters(index = "0", paramLabel = "DIGEST")
    String digest;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write to FILE instead of stdout.")
    String output;

    @Option(names = "--range", paramLabel = "START-END",
        description = "Bytes START to END inclusive (END may be omitted: to the end).")
    String range;

    @Override
    ExitCode execute(ContentStore store, Settings settings) throws IOException {
      Digest d = Digest.parse(digest);
      Transfer transfer = new Transfer(this, "get", 0).watching(store);
      try (ReaderAt reader = store.readerAt(d)) {
        long size = reader.size();
        long[] span = range == null ? new long[] {0, size} : parseRange(range, size);
        long start = span[0];
        long end = span[1];
        transfer.expect(end - start);
        transfer.start(0);
        Path target = output == null ? null : Path.of(output);
        Path temp = null;
        MessageDigest hasher = range == null ? d.algorithm().newHasher() : null;
        OutputStream out;
        if (target != null && (Files.notExists(target) || Files.isRegularFile(target))) {
          // A file appears whole or not at all: write beside it, then rename over it.
          Path dir = target.toAbsolutePath().getParent();
          temp = Files.createTempFile(dir, "." + target.getFileName(), ".part");
          out = Files.newOutputStream(temp);
        } else if (target != null) {
          // A device or a pipe (say /dev/null) is written in place, never replaced.
          out = Files.newOutputStream(target, StandardOpenOption.WRITE);
        } else {
          out = cli().out;
        }
        try {
          ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
          long position = start;
          while (position < end) {
            buffer.clear();
            buffer.limit((int) Math.min(CHUNK, end - position));
            int n = reader.read(buffer, position);
            if (n < 0) {
              throw new FailedPreconditionException("blob " + d + " ended at byte " + position
                  + " of " + size);
            }
            out.write(buffer.array(), 0, n);
            if (hasher != null) {
              hasher.update(buffer.array(), 0, n);
            }
            position += n;
            transfer.advance(n);
          }
          out.flush();
          if (hasher != null) {
            Digest actual = Digest.fromHasher(d.algorithm(), hasher.digest());
            if (!actual.equals(d)) {
              throw new FailedPreconditionException("blob " + d + " read back as " + actual
                  + ": the stored bytes are corrupt");
            }
          }
          if (temp != null) {
            out.close();
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
            temp = null;
          }
        } finally {
          if (target != null) {
            out.close();
          }
          if (temp != null) {
            Files.deleteIfExists(temp);
          }
        }
        transfer.finish(end - start, "read");
      }
      return ExitCode.OK;
    }

    static long[] parseRange(String range, long size) {
      int dash = range.indexOf('-');
      try {
        if (dash <= 0) {
          throw new NumberFormatException();
        }
        long start = Long.parseLong(range.substring(0, dash));
        String endText = range.substring(dash + 1);
        long end = endText.isEmpty() ? size - 1 : Long.parseLong(endText);
        if (start < 0 || end < start) {
          throw new NumberFormatException();
        }
        if (start >= size && size > 0) {
          throw new InvalidArgumentException("invalid range \"" + range + "\": the blob has "
              + size + " bytes");
        }
        return new long[] {start, Math.min(end + 1, size)};
      } catch (NumberFormatException e) {
        throw new InvalidArgumentException("invalid range \"" + range
            + "\": expected START-END or START- with START <= END");
      }
    }
  }

  @Command(name = "info", description = "Show a blob's size, times, labels, references and links.")
  static final class InfoCommand extends StoreCommand {
    @Parameters(index = "0", paramLabel = "DIGEST")
    String digest;

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
        description = "Filter, e.g. 'labels.team==ci' (repeatable: any matches).")
    List<String> filters = new ArrayList<>();

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
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
      Map<String, String> labels = new LinkedHashMap<>();
      for (String kv : set) {
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          throw new InvalidArgumentException("invalid label \"" + kv + "\": expected KEY=VALUE");
        }
        labels.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
      if (labels.isEmpty() && remove.isEmpty()) {
        throw new InvalidArgumentException("nothing to change: give KEY=VALUE or --remove KEY");
      }
      List<String> keys = new ArrayList<>(labels.keySet());
      keys.addAll(remove);
      Info info = store.update(Info.forUpdate(d, labels), labelPaths(keys));
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
      "Remove one reference from a blob. At zero the blob is removed and what it links to is",
      "dereferenced in turn."})
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
      "Record that FROM links to TO; your reference to TO passes to the link."})
  static final class Link extends StoreCommand {
    @Parameters(index = "0", paramLabel = "FROM")
    String from;

    @Parameters(index = "1", paramLabel = "TO")
    String to;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Digest f = Digest.parse(from);
      Digest t = Digest.parse(to);
      store.link(t, f);
      reportLinks(this, store, f, "linked");
      return ExitCode.OK;
    }
  }

  @Command(name = "unlink", description = "Remove the link from FROM to TO and dereference TO.")
  static final class Unlink extends StoreCommand {
    @Parameters(index = "0", paramLabel = "FROM")
    String from;

    @Parameters(index = "1", paramLabel = "TO")
    String to;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Digest f = Digest.parse(from);
      Digest t = Digest.parse(to);
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

  static String[] labelPaths(java.util.Collection<String> keys) {
    return keys.stream().map(k -> "labels." + k).toArray(String[]::new);
  }
}
