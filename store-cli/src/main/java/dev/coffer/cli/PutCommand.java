package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code coffer put}: stores a file or stdin and prints its digest.
 *
 * <p>A file is hashed before anything is sent (a local read is far faster than an upload): content
 * already stored is not uploaded again, and {@code --expect} is checked against the file's own
 * digest before the store is touched, so it never fails late or changes another blob's labels.
 * Stdin is hashed as it is read: with {@code --expect} of stored content it is only hashed, never
 * uploaded; otherwise it is uploaded and checked before the commit. Invariants CLI-1 and CLI-2 of
 * docs/architecture.md.
 */
@Command(name = "put", description = {
    "Store a file (or stdin with -) and print its digest; or several files, a line each.",
    "A file is hashed first, so content already stored is not uploaded again and --expect is"
        + " checked before anything is stored.",
    "A file goes straight to its digest's place; with --ref, an interrupted put of the same"
        + " file resumes where it stopped."})
final class PutCommand extends StoreCommand {
  private static final int CHUNK = 1 << 20;
  /** Content below the store's default part size is put in one step, without an ingest. */
  static final int ONE_STEP_LIMIT = (int) S3StoreConfig.PART_SIZE_DEFAULT;
  /**
   * From this size, content put in one step is looked up before it is sent: one small request is
   * cheaper than sending it again. Below it, sending it is the lookup.
   */
  static final int LOOKUP_FIRST = 1 << 20;

  @Parameters(arity = "0..*", paramLabel = "FILE",
      description = "File to store; - for stdin (the default). Several files are stored in one"
          + " run, --jobs at a time, each printed as DIGEST<tab>FILE.")
  List<String> files = new ArrayList<>();

  /** The one file (or {@code -}) of a single put. */
  String file;

  @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE",
      description = "Label to set (repeatable), also on content already stored.")
  List<String> labelArgs = new ArrayList<>();

  @Option(names = "--ref", description = "Ingest ref, for a resumable put (default: none for a"
      + " file, which goes straight to its digest key; none for stdin below 16 MiB, else a random"
      + " one).")
  String ref;

  @Option(names = "--expect", paramLabel = "DIGEST",
      description = "Fail, storing nothing, unless the content has this digest.")
  String expect;

  @Option(names = {"-r", "--recursive"},
      description = "FILE is a directory: store it as a tree and print the tree's digest.")
  boolean recursive;

  @Option(names = "--base", paramLabel = "TREE",
      description = "With -r: store the directory as a delta over tree TREE (say, the previous"
          + " build's), listing and referencing only what changed; a full tree when the chain"
          + " would be too deep or the change large.")
  String base;

  @Option(names = "--jobs", paramLabel = "N",
      description = "Parallel transfers with -r or several files (default 16, or the"
          + " processors if more; fewer on a heap below 2 GiB).")
  Integer jobs;

  /** What a put did: the content's digest and size, whether it stored it, and its ingest if any. */
  private record Outcome(Digest digest, long size, boolean stored, String ref) {}

  /** Always: the summary of a batch or tree put counts its requests (BatchProgress). */
  @Override
  boolean measuresRequests() {
    return true;
  }

  /**
   * A put of a directory opens no blob cache: what saves its local work is the hash index, kept in
   * the cache's directory (unless {@code --no-cache}). Filling the cache with the files it sends
   * cost a second hash of each, a copy to disk, and the disk tier's indexing of the whole cache
   * directory at every start, for files the host has in the directory anyway.
   */
  @Override
  boolean readsContent() {
    return !recursive;
  }

  @Override
  ExitCode execute(ContentStore store, Settings settings) throws IOException {
    Map<String, String> labels = LabelArgs.parse(labelArgs);
    file = files.isEmpty() ? "-" : files.get(0);
    if (files.size() > 1) {
      if (recursive || ref != null || expect != null || files.contains("-")) {
        throw new InvalidArgumentException("several files are put without -r, --ref, --expect"
            + " or stdin (-); put them one at a time for those");
      }
      return BatchCommands.put(this, store, files, labels, jobs);
    }
    if (base != null && !recursive) {
      throw new InvalidArgumentException("--base names the tree a put -r stores a delta over;"
          + " it needs -r");
    }
    if (recursive) {
      return TreeCommands.put(this, store, cli().path(file), labels, jobs,
          base == null ? null : Digest.parse(base),
          resolved.cacheEnabled() ? TreeCommands.hashIndexDir(resolved.cacheDir()) : null);
    }
    Digest expected = expect == null ? null : Digest.parse(expect);
    Transfer transfer = new Transfer(this);
    Outcome outcome;
    try {
      outcome = file.equals("-") ? putStdin(store, labels, expected, transfer)
          : putFile(store, labels, expected, transfer);
    } finally {
      transfer.abandon();
    }
    if (!outcome.stored() && !labels.isEmpty()) {
      // The content was there already: its labels still become what this put asked for.
      store.update(Info.forUpdate(outcome.digest(), labels), LabelArgs.paths(labels.keySet()));
    }
    transfer.finish(outcome.size(), outcome.stored() ? "stored" : "already stored");
    if (json) {
      ObjectNode node = JSON.createObjectNode();
      node.put("digest", outcome.digest().toString());
      node.put("size", outcome.size());
      node.put("stored", outcome.stored());
      if (outcome.ref() != null) {
        node.put("ref", outcome.ref());
      }
      node.put("seconds", transfer.seconds());
      printJson(node);
    } else {
      cli().out.println(outcome.digest());
    }
    return ExitCode.OK;
  }

  private Outcome putFile(ContentStore store, Map<String, String> labels, Digest expected,
      Transfer transfer) throws IOException {
    Path path = cli().path(file);
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (IOException e) {
      throw LocalFiles.cannotRead(file, e);
    }
    if (!attrs.isRegularFile()) {
      throw new IOException("cannot read " + file + ": " + (attrs.isDirectory() ? "a directory"
          : "not a regular file") + "; give a file, or store a stream with: coffer put - < FILE");
    }
    long size = attrs.size();
    DigestAlgorithm algorithm = expected == null ? DigestAlgorithm.CANONICAL
        : expected.algorithm();
    if (ref == null && size < ONE_STEP_LIMIT) {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(path);
      } catch (IOException e) {
        throw LocalFiles.cannotRead(file, e);
      }
      Digest digest = Digest.of(algorithm, bytes);
      checkExpected(file, digest, expected);
      return putBytes(store, bytes, digest, labels);
    }
    transfer.phase("hash", size, 0);
    Digest digest = hash(path, algorithm, transfer);
    checkExpected(file, digest, expected);
    if (ref == null) {
      return putDirect(store, path, digest, size, labels, transfer);
    }
    String ingestRef = ref;
    Writer writer = RefWait.open(this, store, ingestRef, Descriptor.of(digest, size), transfer);
    if (writer == null) {
      return new Outcome(digest, size, false, null);
    }
    try (writer) {
      long offset = writer.status().offset();
      if (offset > size) {
        writer.truncate(0);
        offset = 0;
      }
      resuming(ingestRef, offset, size);
      transfer.phase("upload", size, offset);
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
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
      } catch (IOException e) {
        throw LocalFiles.cannotRead(file, e);
      }
      transfer.waitPhase("commit", "copying " + Sizes.format(size) + " to its digest key", size);
      try {
        writer.commit(size, digest, labels);
        return new Outcome(digest, size, true, ingestRef);
      } catch (AlreadyExistsException e) {
        return new Outcome(digest, size, false, ingestRef);
      } catch (FailedPreconditionException e) {
        // The bytes sent are not those hashed: the file changed meanwhile. The ingest holds a mix.
        abortQuietly(store, ingestRef, e);
        throw changedWhileStored(size, digest, e);
      }
    }
  }

  /**
   * A file without {@code --ref}: straight to its digest's place ({@link ContentStore#putFile}: on
   * S3 a multipart upload to the digest key, completed only if the bytes sent hash to the digest
   * hashed here), with no ingest to resume and no copy.
   */
  private Outcome putDirect(ContentStore store, Path path, Digest digest, long size,
      Map<String, String> labels, Transfer transfer) throws IOException {
    transfer.waitPhase("upload", "sending " + Sizes.format(size) + " to its digest key", size);
    try {
      store.putFile(path, digest, labels);
      return new Outcome(digest, size, true, null);
    } catch (AlreadyExistsException e) {
      return new Outcome(digest, size, false, null);
    } catch (FailedPreconditionException e) {
      throw changedWhileStored(size, digest, e);
    } catch (IOException e) {
      throw LocalFiles.cannotRead(file, e);
    }
  }

  /** The one-line error for a file whose bytes sent are not those it hashed to. */
  private FailedPreconditionException changedWhileStored(long size, Digest digest,
      FailedPreconditionException cause) {
    return new FailedPreconditionException(file + " changed while it was being stored (it was "
        + Sizes.format(size) + " with digest " + digest + " when hashed); nothing stored; put it"
        + " again once it is complete", cause);
  }

  private Outcome putStdin(ContentStore store, Map<String, String> labels, Digest expected,
      Transfer transfer) throws IOException {
    InputStream in = cli().in;
    String ingestRef = ref;
    if (ref == null) {
      byte[] head = in.readNBytes(ONE_STEP_LIMIT);
      if (head.length < ONE_STEP_LIMIT) {
        Digest digest = Digest.of(expected == null ? DigestAlgorithm.CANONICAL
            : expected.algorithm(), head);
        checkExpected("stdin", digest, expected);
        return putBytes(store, head, digest, labels);
      }
      in = new SequenceInputStream(new ByteArrayInputStream(head), in);
      ingestRef = "coffer-put-stdin-" + UUID.randomUUID();
    }
    // With --expect, the writer hashes with the expected digest's algorithm, and opening it finds
    // out whether that content is stored; nothing is believed until the bytes are hashed.
    Writer writer = RefWait.open(this, store, ingestRef, new Descriptor(expected, 0), transfer);
    if (writer == null) {
      transfer.phase("hash", 0, 0);
      MessageDigest hasher = expected.algorithm().newHasher();
      long size = 0;
      byte[] buffer = new byte[CHUNK];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        hasher.update(buffer, 0, n);
        size += n;
        transfer.advance(n);
      }
      checkExpected("stdin", Digest.fromHasher(expected.algorithm(), hasher.digest()), expected);
      return new Outcome(expected, size, false, null);
    }
    Digest actual;
    long size;
    try (writer) {
      long offset = writer.status().offset();
      try {
        in.skipNBytes(offset); // a resumed ingest already holds the first bytes
      } catch (EOFException e) {
        throw new FailedPreconditionException("stdin is shorter than the " + offset
            + " bytes ingest \"" + ingestRef + "\" already holds", e);
      }
      resuming(ingestRef, offset, 0);
      transfer.phase("upload", 0, offset);
      byte[] buffer = new byte[CHUNK];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        writer.write(buffer, 0, n);
        transfer.advance(n);
      }
      actual = writer.digest();
      size = writer.status().offset();
      if (expected == null || actual.equals(expected)) {
        transfer.waitPhase("commit", "copying " + Sizes.format(size) + " to its digest key", size);
        try {
          writer.commit(size, expected, labels);
          return new Outcome(actual, size, true, ingestRef);
        } catch (AlreadyExistsException e) {
          return new Outcome(actual, size, false, ingestRef);
        }
      }
    }
    String mismatch = "stdin has digest " + actual + ", not the expected " + expected
        + "; nothing stored";
    if (ref == null) {
      // Nobody can resume an ingest under a ref they never saw.
      FailedPreconditionException failure = new FailedPreconditionException(mismatch);
      abortQuietly(store, ingestRef, failure);
      throw failure;
    }
    throw new FailedPreconditionException(mismatch + "; ingest \"" + ref + "\" keeps its " + size
        + " bytes: a put --ref " + ref + " of the whole input resumes it, or remove it with: coffer"
        + " ingest abort " + ref);
  }

  /** Content in memory: looked up first when large enough, then put in one step. */
  private static Outcome putBytes(ContentStore store, byte[] bytes, Digest digest,
      Map<String, String> labels) {
    if (bytes.length >= LOOKUP_FIRST && stored(store, digest)) {
      return new Outcome(digest, bytes.length, false, null);
    }
    try {
      store.put(bytes, digest, labels);
      return new Outcome(digest, bytes.length, true, null);
    } catch (AlreadyExistsException e) {
      return new Outcome(digest, bytes.length, false, null);
    }
  }

  private static boolean stored(ContentStore store, Digest digest) {
    try {
      store.info(digest);
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }

  private Digest hash(Path path, DigestAlgorithm algorithm, Transfer transfer) throws IOException {
    MessageDigest hasher = algorithm.newHasher();
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
      int n;
      while ((n = channel.read(buffer)) >= 0) {
        buffer.flip();
        hasher.update(buffer);
        buffer.clear();
        transfer.advance(n);
      }
    } catch (IOException e) {
      throw LocalFiles.cannotRead(file, e);
    }
    return Digest.fromHasher(algorithm, hasher.digest());
  }

  private static void checkExpected(String source, Digest actual, Digest expected) {
    if (expected != null && !actual.equals(expected)) {
      throw new FailedPreconditionException(source + " has digest " + actual
          + ", not the expected " + expected + "; nothing stored");
    }
  }

  private void resuming(String ingestRef, long offset, long size) {
    if (offset > 0) {
      notices().println(name() + ": resuming ingest \"" + ingestRef + "\" at "
          + Sizes.format(offset) + (size > 0 ? " of " + Sizes.format(size) : ""));
    }
  }

  private static void abortQuietly(ContentStore store, String ingestRef, Exception failure) {
    try {
      store.abort(ingestRef);
    } catch (StoreException e) {
      failure.addSuppressed(e);
    }
  }
}
