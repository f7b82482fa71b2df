package dev.coffer.store.tree;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.memory.MemoryStores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second {@code put} of a directory reads only what changed ({@link HashIndex}): the index's
 * counts of files hashed and reused are the seam, and the tree's entries the outcome.
 */
class HashIndexTest {
  @TempDir Path tmp;
  private final ContentStore store = MemoryStores.open();
  /**
   * The index's clock, an hour ahead: the files just written are old enough to be recorded (a
   * change within two seconds is not), without waiting.
   */
  private Clock clock = Clock.offset(Clock.systemUTC(), Duration.ofHours(1));

  @AfterEach
  void close() {
    store.close();
  }

  private Path dir() throws IOException {
    Path src = tmp.resolve("src");
    for (String name : List.of("a.txt", "sub/b.txt", "sub/c.txt")) {
      Path f = src.resolve(name);
      Files.createDirectories(f.getParent());
      Files.writeString(f, "content of " + name, UTF_8);
    }
    Files.createSymbolicLink(src.resolve("link"), Path.of("a.txt"));
    return src;
  }

  private HashIndex index() {
    return HashIndex.load(tmp.resolve("index"), tmp.resolve("src"), clock);
  }

  private Digest put(HashIndex index) {
    Digest tree = Trees.of(store).withHashIndex(index).put(tmp.resolve("src"));
    index.save();
    return tree;
  }

  @Test
  void anUnchangedFileIsNotReadAgain() throws Exception {
    Path src = dir();
    HashIndex first = index();
    Digest tree = put(first);
    assertThat(first.hashed()).isEqualTo(3);

    HashIndex second = index();
    assertThat(put(second)).as("TREE-1: the same tree").isEqualTo(tree);
    assertThat(second.hashed()).as("nothing read").isZero();
    assertThat(second.reused()).isEqualTo(3);
    assertThat(Files.getPosixFilePermissions(indexFile())).isEqualTo(
        PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(indexFile().getParent())).isEqualTo(
        PosixFilePermissions.fromString("rwx------"));
    assertThat(src).exists();
  }

  @Test
  void aFileReplacedWithTheSameSizeAndModificationTimeIsHashedAgain() throws Exception {
    Path src = dir();
    put(index());
    Path b = src.resolve("sub/b.txt");
    FileTime modified = Files.getLastModifiedTime(b);
    // Same size, same modification time (touch -d), new bytes: a new inode and change time.
    Path replacement = src.resolve("sub/.b.new");
    Files.writeString(replacement, "CONTENT OF sub/b.txt", UTF_8);
    Files.move(replacement, b, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Files.setLastModifiedTime(b, modified);
    assertThat(Files.size(b)).isEqualTo("content of sub/b.txt".length());
    // And in place: the same inode, the same size and modification time, a new change time.
    Path c = src.resolve("sub/c.txt");
    FileTime cModified = Files.getLastModifiedTime(c);
    Files.writeString(c, "CONTENT OF sub/c.txt", UTF_8);
    Files.setLastModifiedTime(c, cModified);

    HashIndex second = index();
    Digest tree = put(second);
    assertThat(second.hashed()).as("b.txt and c.txt").isEqualTo(2);
    assertThat(second.reused()).as("a.txt").isEqualTo(1);
    Tree listed = Trees.of(store).list(tree);
    assertThat(listed.files().stream().filter(e -> e.path().equals("sub/b.txt")).findFirst()
        .orElseThrow().digest()).isEqualTo(Digest.of("CONTENT OF sub/b.txt".getBytes(UTF_8)));
    assertThat(listed.files().stream().filter(e -> e.path().equals("sub/c.txt")).findFirst()
        .orElseThrow().digest()).isEqualTo(Digest.of("CONTENT OF sub/c.txt".getBytes(UTF_8)));
  }

  @Test
  void aTruncatedOrForeignIndexIsIgnored() throws Exception {
    dir();
    Digest tree = put(index());
    Path file = indexFile();
    byte[] whole = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(whole, whole.length / 2));
    HashIndex truncated = index();
    assertThat(put(truncated)).isEqualTo(tree);
    assertThat(truncated.hashed()).as("everything hashed, as without an index").isEqualTo(3);

    // Another directory's index under this directory's name: not used.
    Files.writeString(file, new String(whole, UTF_8).replace(
        tmp.resolve("src").toAbsolutePath().toString(), "/elsewhere"), UTF_8);
    HashIndex foreign = index();
    assertThat(put(foreign)).isEqualTo(tree);
    assertThat(foreign.hashed()).isEqualTo(3);

    // Writable by others: not trusted.
    put(index());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
    HashIndex open = index();
    put(open);
    assertThat(open.hashed()).isEqualTo(3);
  }

  @Test
  void aFileChangedWithinTwoSecondsOfItsHashIsHashedAgain() throws Exception {
    dir(); // just written: its change time is now
    clock = Clock.systemUTC();
    HashIndex first = index();
    put(first);
    HashIndex second = index();
    put(second);
    assertThat(second.hashed()).as("recent changes are hashed again").isEqualTo(3);
  }

  private Path indexFile() throws IOException {
    try (Stream<Path> files = Files.list(tmp.resolve("index"))) {
      return files.filter(f -> f.getFileName().toString().endsWith(".json")).findFirst()
          .orElseThrow();
    }
  }
}
