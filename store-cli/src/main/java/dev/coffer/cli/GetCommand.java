package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.DataLossException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code coffer get}: a blob, or a byte range of it, to stdout or a file. A file appears whole or
 * not at all (see {@link PartFiles}); a whole read is checked against the digest, and a mismatch is
 * DataLossException (INT-2): the file is then not written, stdout has had the bytes already.
 */
@Command(name = "get", description = {
    "Write a blob, or a byte range of it, to stdout or a file, or several blobs into a directory.",
    "Several blobs (-o DIR) are each verified and named by their digest's hex."})
final class GetCommand extends StoreCommand {
  private static final int CHUNK = 1 << 20;
  /** Bytes handed over per transfer from a verified cache entry: the progress bar's step. */
  private static final long TRANSFER_CHUNK = 16L << 20;
  private static final Pattern RANGE = Pattern.compile("(\\d{1,18})-(\\d{0,18})");

  @Parameters(arity = "1..*", paramLabel = "DIGEST",
      description = "The blob; several, or one with -o naming a directory, are written to DIR/<hex"
          + " of the digest>, --jobs at a time, each printed as DIGEST<tab>FILE.")
  List<String> digests;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE",
      description = "Write to FILE instead of stdout (a directory with -r or several digests).")
  String output;

  @Option(names = "--range", paramLabel = "START-END",
      description = "Only bytes START to END, inclusive; START- reads to the end.")
  String range;

  @Option(names = {"-r", "--recursive"},
      description = "DIGEST is a tree: restore it into the directory given by -o.")
  boolean recursive;

  @Option(names = "--jobs", paramLabel = "N",
      description = "Parallel transfers with -r or several digests (default 16, or the"
          + " processors if more; fewer on a heap below 2 GiB).")
  Integer jobs;

  /**
   * The summary of a batch or tree get counts its requests (BatchProgress); a get of one blob
   * reports none, so it leaves the meters unloaded (unless run under {@code coffer stats}): their
   * registry and a meter update per request are CPU a one-shot read does not need.
   */
  @Override
  boolean measuresRequests() {
    return recursive || batch();
  }

  /** Whether this is a get of several blobs, or of one into a directory (BatchCommands). */
  private boolean batch() {
    return !recursive && (digests.size() > 1
        || (output != null && Files.isDirectory(cli().path(output))));
  }

  @Override
  ExitCode execute(ContentStore store, Settings settings) throws IOException {
    if (batch()) {
      if (output == null || range != null) {
        throw new InvalidArgumentException("several digests are written with -o DIR, without"
            + " --range");
      }
      return BatchCommands.get(this, store, digests, cli().path(output), jobs);
    }
    if (digests.size() > 1) {
      throw new InvalidArgumentException("get -r takes one tree");
    }
    Digest d = Digest.parse(digests.get(0));
    if (recursive) {
      if (output == null) {
        throw new InvalidArgumentException("get -r needs -o DIR");
      }
      return TreeCommands.get(this, store, d, cli().path(output), jobs);
    }
    Transfer transfer = new Transfer(this).watching(store);
    try {
      long bytes = read(store, d, transfer);
      transfer.finish(bytes, "read");
    } catch (NotFoundException e) {
      transfer.abandon();
      throw missingContent(store, d, e);
    } finally {
      transfer.abandon();
    }
    return ExitCode.OK;
  }

  private long read(ContentStore store, Digest d, Transfer transfer) throws IOException {
    try (ReaderAt reader = store.readerAt(Descriptor.of(d))) {
      long size = reader.size();
      long[] span = range == null ? new long[] {0, size} : parseRange(range, size);
      long start = span[0];
      long end = span[1];
      transfer.phase("read", end - start, 0);
      boolean whole = range == null;
      Path target = output == null ? null : cli().path(output);
      if (target != null && (Files.notExists(target) || Files.isRegularFile(target))) {
        Path part;
        try {
          part = PartFiles.create(target);
        } catch (IOException e) {
          throw LocalFiles.cannotWrite(target, e);
        }
        try {
          try (FileChannel out = FileChannel.open(part, StandardOpenOption.WRITE)) {
            copy(reader, d, start, end, size, out, whole, transfer);
          }
          Files.move(part, target, StandardCopyOption.REPLACE_EXISTING,
              StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          throw LocalFiles.cannotWrite(target, e);
        } finally {
          Files.deleteIfExists(part);
        }
      } else if (target != null) {
        // A device or a pipe (say /dev/null) is written in place, never replaced.
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE)) {
          copy(reader, d, start, end, size, out, whole, transfer);
        }
      } else {
        copy(reader, d, start, end, size, cli().outChannel(), whole, transfer);
        cli().out.flush();
      }
      return end - start;
    }
  }

  /**
   * Copies bytes {@code start} to {@code end} of the blob to {@code out}; a {@code whole} read is
   * checked against the digest, once (INT-2). Content the reader serves from a verified cache entry
   * was checked when the entry was installed and sealed (CLI-6), so it goes straight from the
   * entry's file to {@code out} ({@link ReaderAt#transferTo}) without being hashed again; if the
   * entry fails mid-way and the rest comes from the store, the blob is hashed as the store serves
   * it. A reader that verifies in-order reads itself (the S3 store's, {@code --no-cache}) hashes
   * the whole read as it passes, so the command does not hash it a second time; only if the reader
   * then does not report the pass as checked is the blob hashed here.
   */
  private static void copy(ReaderAt reader, Digest d, long start, long end, long size,
      WritableByteChannel out, boolean whole, Transfer transfer) throws IOException {
    boolean verified = reader.servesVerifiedContent();
    boolean readerVerifies = whole && !verified && reader.verifiesInOrderReads();
    MessageDigest hasher = whole && !verified && !readerVerifies
        ? d.algorithm().newHasher() : null;
    ByteBuffer buffer = hasher == null && !readerVerifies ? null : ByteBuffer.allocate(CHUNK);
    long position = start;
    while (position < end) {
      long n;
      if (buffer == null) {
        n = reader.transferTo(position, Math.min(TRANSFER_CHUNK, end - position), out);
      } else {
        buffer.clear();
        buffer.limit((int) Math.min(CHUNK, end - position));
        n = Math.max(0, reader.read(buffer, position));
        if (hasher != null) {
          hasher.update(buffer.array(), 0, (int) n);
        }
        buffer.flip();
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
      }
      if (n <= 0) {
        throw DataLossException.lengthMismatch(d, size, position);
      }
      position += n;
      transfer.advance(n);
    }
    if (hasher != null) {
      check(d, Digest.fromHasher(d.algorithm(), hasher.digest()));
    } else if (whole && !reader.servesVerifiedContent() && !reader.verifiedInOrderRead()) {
      check(d, hashAll(reader, d, size));
    }
  }

  /** The digest of the blob as {@code reader} serves it now. */
  private static Digest hashAll(ReaderAt reader, Digest d, long size) {
    MessageDigest hasher = d.algorithm().newHasher();
    ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
    long position = 0;
    while (position < size) {
      buffer.clear();
      int n = reader.read(buffer, position);
      if (n < 0) {
        throw DataLossException.lengthMismatch(d, size, position);
      }
      hasher.update(buffer.array(), 0, n);
      position += n;
    }
    return Digest.fromHasher(d.algorithm(), hasher.digest());
  }

  private static void check(Digest d, Digest actual) {
    if (!actual.equals(d)) {
      throw DataLossException.digestMismatch(d, actual);
    }
  }

  /**
   * What a NotFound met while reading means: the blob is unknown or was deleted meanwhile (the
   * store's own message), or its record is there but the object holding its bytes is not.
   */
  private static NotFoundException missingContent(ContentStore store, Digest d,
      NotFoundException e) {
    try {
      store.info(d);
    } catch (NotFoundException gone) {
      return e;
    }
    return new NotFoundException("the content of blob " + d + " is missing from the bucket,"
        + " though its record is there (deleted outside coffer?); 'coffer fsck' lists such blobs;"
        + " to store it again: coffer rm " + d + ", then put the same content", e);
  }

  /**
   * The half-open byte span {@code [start, end)} of {@code range} in a blob of {@code size} bytes.
   * {@code START-} may start at the end (an empty read, as {@code tail -c} past the last byte);
   * {@code START-END} must start at a byte of the blob and is cut at its end.
   *
   * @throws InvalidArgumentException naming the range and, if it does not fit, the blob's bytes
   */
  static long[] parseRange(String range, long size) {
    Matcher m = RANGE.matcher(range);
    long start;
    long end;
    try {
      if (!m.matches()) {
        throw new NumberFormatException();
      }
      start = Long.parseLong(m.group(1));
      end = m.group(2).isEmpty() ? -1 : Long.parseLong(m.group(2));
      if (end >= 0 && end < start) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      throw new InvalidArgumentException("invalid range \"" + range
          + "\": expected START-END or START- (byte offsets from 0, START <= END)");
    }
    boolean open = end < 0;
    if (start > size || (!open && start == size)) {
      throw new InvalidArgumentException("invalid range \"" + range + "\": it starts past the end"
          + " of the blob, which " + (size == 0 ? "is empty" : "has " + size + " bytes (0-"
          + (size - 1) + ")"));
    }
    return new long[] {start, open ? size : Math.min(end + 1, size)};
  }
}
