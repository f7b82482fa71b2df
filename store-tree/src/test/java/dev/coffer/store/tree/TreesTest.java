package dev.coffer.store.tree;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.UnknownException;
import dev.coffer.store.memory.MemoryStores;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreesTest {

  @TempDir Path tmp;
  private final ContentStore store = MemoryStores.open();
  private final Trees trees = Trees.of(store).withJobs(4);

  @AfterEach
  void close() {
    store.close();
  }

  /**
   * The default parallel transfers: 16 on a small machine (transfers wait on round trips, not on
   * processors), the processors on a larger one, one per 128 MiB of a small heap, at least 4.
   */
  @Test
  void theDefaultJobsAreSixteenOrTheProcessorsBoundedByTheHeap() {
    long mib = 1L << 20;
    assertThat(Trees.defaultJobs(2, 6144 * mib)).isEqualTo(16);
    assertThat(Trees.defaultJobs(64, 16384 * mib)).isEqualTo(64);
    assertThat(Trees.defaultJobs(2, 1024 * mib)).as("one per 128 MiB of heap").isEqualTo(8);
    assertThat(Trees.defaultJobs(64, 1024 * mib)).isEqualTo(8);
    assertThat(Trees.defaultJobs(2, 256 * mib)).as("at least 4").isEqualTo(4);
    assertThat(Trees.defaultJobs(1, Long.MAX_VALUE)).as("no heap limit").isEqualTo(16);
    assertThat(Trees.DEFAULT_JOBS).isEqualTo(Trees.defaultJobs(
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory()));
  }

  private static Path write(Path file, String content) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.writeString(file, content, UTF_8);
  }

  private Path sample() throws IOException {
    Path src = tmp.resolve("src");
    write(src.resolve("bin/run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(src.resolve("bin/run.sh"),
        PosixFilePermissions.fromString("rwxr-x---"));
    write(src.resolve("données/日本語.txt"), "unicode ✓");
    write(src.resolve("secret"), "only me");
    Files.setPosixFilePermissions(src.resolve("secret"), PosixFilePermissions.fromString("rw-------"));
    write(src.resolve("empty-file"), "");
    write(src.resolve("copy-of-secret"), "only me");
    Files.createDirectories(src.resolve("empty/dir"));
    Files.createSymbolicLink(src.resolve("link"), Path.of("bin/run.sh"));
    Files.createSymbolicLink(src.resolve("dangling"), Path.of("/nowhere/at/all"));
    return src;
  }

  /**
   * {@link #sample()} and 8 more files of their own contents: 12 targets, so that a put with one
   * job (a window of 2 files stored or being stored and not linked) makes at least 6 link calls.
   */
  private Path sampleOfTwelve() throws IOException {
    Path src = sample();
    for (int i = 0; i < 8; i++) {
      write(src.resolve("more/f" + i), "more " + i);
    }
    return src;
  }

  private static Digest digestOf(String s) {
    return Digest.of(s.getBytes(UTF_8));
  }

  @Test
  void aFileAboveTheOneStepLimitGoesThroughAWriterAndRoundTrips() throws IOException {
    Path src = tmp.resolve("big");
    byte[] big = new byte[5 << 20];
    new java.util.Random(7).nextBytes(big);
    Files.createDirectories(src);
    Files.write(src.resolve("big.bin"), big);
    TreeTransfer put = trees.put(src, Map.of());
    assertThat(put.newBytes()).isEqualTo(big.length);
    assertThat(trees.put(src, Map.of()).newFiles()).isZero();
    assertThat(store.info(Digest.of(big)).refCount()).isEqualTo(1);
    Path out = tmp.resolve("out");
    trees.get(put.tree(), out);
    assertThat(Files.readAllBytes(out.resolve("big.bin"))).isEqualTo(big);
  }

  @Test
  void roundTripRestoresBytesModesLinksEmptyDirsAndUnicodeNames() throws IOException {
    Path src = sample();
    TreeTransfer put = trees.put(src, Map.of());
    assertThat(put.files()).isEqualTo(5);
    assertThat(put.newFiles()).isEqualTo(4); // secret and copy-of-secret share a blob
    assertThat(put.bytes()).isEqualTo(Files.size(src.resolve("bin/run.sh")) + "unicode ✓"
        .getBytes(UTF_8).length + 7 + 7);

    Path out = tmp.resolve("out");
    TreeTransfer got = trees.get(put.tree(), out);
    assertThat(got.newFiles()).isEqualTo(5);
    assertThat(Files.readString(out.resolve("bin/run.sh"))).isEqualTo("#!/bin/sh\necho hi\n");
    assertThat(Files.readString(out.resolve("données/日本語.txt"))).isEqualTo("unicode ✓");
    assertThat(Files.readString(out.resolve("copy-of-secret"))).isEqualTo("only me");
    assertThat(Files.size(out.resolve("empty-file"))).isZero();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("bin/run.sh"))))
        .isEqualTo("rwxr-x---");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("secret"))))
        .isEqualTo("rw-------");
    assertThat(Files.isDirectory(out.resolve("empty/dir"))).isTrue();
    assertThat(Files.readSymbolicLink(out.resolve("link"))).isEqualTo(Path.of("bin/run.sh"));
    assertThat(Files.readSymbolicLink(out.resolve("dangling"))).isEqualTo(Path.of("/nowhere/at/all"));
    try (var s = Files.list(out)) {
      assertThat(s.map(p -> p.getFileName().toString()).collect(Collectors.toSet()))
          .containsExactlyInAnyOrder("bin", "données", "secret", "empty-file", "copy-of-secret",
              "empty", "link", "dangling"); // no temporary names left
    }
    // TREE-1: the restored copy stores as the same tree.
    assertThat(trees.put(out, Map.of()).tree()).isEqualTo(put.tree());
  }

  @Test
  void theSameDirectoryGivesTheSameDigestAndIsNotUploadedAgain() throws IOException {
    Path src = sample();
    TreeTransfer first = trees.put(src, Map.of("build", "1"));
    TreeTransfer second = trees.put(src, Map.of());
    assertThat(second.tree()).isEqualTo(first.tree());
    assertThat(second.newFiles()).isZero();
    assertThat(second.newBytes()).isZero();
    // Each put holds one reference on the tree; the tree holds one on each distinct file (TREE-2).
    assertThat(store.info(first.tree()).refCount()).isEqualTo(2);
    assertThat(store.info(first.tree()).labels()).containsEntry("build", "1");
    assertThat(store.info(digestOf("only me")).refCount()).isEqualTo(1);
    assertThat(store.info(first.tree()).links()).hasSize(4);
    assertThat(trees.list(first.tree()).entries().get(0).path()).isEqualTo("bin");
  }

  @Test
  void anExistingFileWithTheRightDigestIsLeftUntouched() throws IOException {
    Path src = sample();
    Digest tree = trees.put(src);
    Path out = tmp.resolve("out");
    trees.get(tree, out);
    Object before = Files.readAttributes(out.resolve("secret"), BasicFileAttributes.class).fileKey();
    write(out.resolve("bin/run.sh"), "tampered");
    TreeTransfer again = trees.get(tree, out);
    assertThat(again.newFiles()).isEqualTo(1);
    assertThat(Files.readString(out.resolve("bin/run.sh"))).isEqualTo("#!/bin/sh\necho hi\n");
    assertThat(Files.readAttributes(out.resolve("secret"), BasicFileAttributes.class).fileKey())
        .isEqualTo(before);
  }

  @Test
  void treesSharingFilesCountExactlyAndDerefFreesOnlyUniqueFiles() throws IOException {
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    write(a.resolve("only-a"), "A");
    write(a.resolve("shared1"), "S1");
    write(a.resolve("x/shared2"), "S2");
    write(b.resolve("renamed-shared1"), "S1");
    write(b.resolve("x/shared2"), "S2");
    write(b.resolve("only-b"), "B");
    TreeTransfer ta = trees.put(a, Map.of());
    TreeTransfer tb = trees.put(b, Map.of());
    assertThat(tb.newFiles()).isEqualTo(1);
    assertThat(tb.newBytes()).isEqualTo(1);
    assertThat(store.info(digestOf("A")).refCount()).isEqualTo(1);
    assertThat(store.info(digestOf("S1")).refCount()).isEqualTo(2);
    assertThat(store.info(digestOf("S2")).refCount()).isEqualTo(2);
    assertThat(store.info(digestOf("B")).refCount()).isEqualTo(1);

    store.deref(ta.tree());

    assertThatThrownBy(() -> store.info(ta.tree())).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.info(digestOf("A"))).isInstanceOf(NotFoundException.class);
    assertThat(store.info(digestOf("S1")).refCount()).isEqualTo(1);
    assertThat(store.info(digestOf("S2")).refCount()).isEqualTo(1);
    assertThat(store.info(digestOf("B")).refCount()).isEqualTo(1);
    Path out = tmp.resolve("out");
    trees.get(tb.tree(), out);
    assertThat(Files.readString(out.resolve("renamed-shared1"))).isEqualTo("S1");
  }

  @Test
  void diffNamesAddedRemovedChangedAndBytesToTransfer() throws IOException {
    Path a = tmp.resolve("a");
    write(a.resolve("same"), "same");
    write(a.resolve("gone"), "gone");
    write(a.resolve("edited"), "v1");
    Path b = tmp.resolve("b");
    write(b.resolve("same"), "same");
    write(b.resolve("edited"), "v2!");
    write(b.resolve("new"), "new content");
    write(b.resolve("new-but-known"), "gone");
    TreeDiff diff = trees.diff(trees.put(a), trees.put(b));
    assertThat(diff.added()).containsExactly("new", "new-but-known");
    assertThat(diff.removed()).containsExactly("gone");
    assertThat(diff.changed()).containsExactly("edited");
    assertThat(diff.bytesToTransfer()).isEqualTo(3 + 11);
  }

  private Digest storeTree(String entriesJson) {
    byte[] blob = ("{\"mediaType\":\"" + Tree.MEDIA_TYPE + "\",\"version\":1,\"entries\":["
        + entriesJson + "]}").getBytes(UTF_8);
    return store.putAndRef(blob, null, Map.of()).digest();
  }

  @Test
  void entriesEscapingTheTargetAreRefusedNamingTheEntry() throws IOException {
    Digest file = store.putAndRef("x".getBytes(UTF_8), null, Map.of()).digest();
    Path out = tmp.resolve("out");
    for (String path : List.of("../evil", "/etc/evil", "a/../../evil", "./a", "a//b")) {
      Digest tree = storeTree("{\"path\":\"" + path + "\",\"kind\":\"file\",\"mode\":420,"
          + "\"size\":1,\"digest\":\"" + file + "\"}");
      assertThatThrownBy(() -> trees.get(tree, out))
          .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"" + path + "\"");
    }
    // Through a link of the tree itself.
    Digest viaLink = storeTree("{\"path\":\"ln\",\"kind\":\"symlink\",\"mode\":511,"
        + "\"target\":\"/tmp\"},{\"path\":\"ln/evil\",\"kind\":\"file\",\"mode\":420,"
        + "\"size\":1,\"digest\":\"" + file + "\"}");
    assertThatThrownBy(() -> trees.get(viaLink, out))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"ln/evil\"");
    // Through a link already in the target directory.
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createDirectories(out);
    Files.createSymbolicLink(out.resolve("ln"), outside);
    Digest plain = storeTree("{\"path\":\"ln/evil\",\"kind\":\"file\",\"mode\":420,"
        + "\"size\":1,\"digest\":\"" + file + "\"}");
    assertThatThrownBy(() -> trees.get(plain, out))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"ln/evil\"");
    try (var s = Files.list(outside)) {
      assertThat(s.toList()).isEmpty();
    }
    assertThat(Files.exists(tmp.resolve("evil"))).isFalse();
  }

  @Test
  void aLinkInPlaceOfADirectoryIsNotFollowedToChangeModes() throws IOException {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path out = Files.createDirectories(tmp.resolve("out"));
    Files.createSymbolicLink(out.resolve("d"), outside);
    Digest tree = storeTree("{\"path\":\"d\",\"kind\":\"dir\",\"mode\":448}");
    assertThatThrownBy(() -> trees.get(tree, out))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"d\"");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(outside)))
        .isEqualTo("rwxr-xr-x");
  }

  /**
   * TREE-3: a put killed at its k-th link call, for every k up to its number of link calls (how
   * many files each links depends on how far the uploads ran ahead): once killed, the process makes no
   * further call (nothing given back), as a real kill. A rerun then ends with every file at count
   * 1, held by the tree's link, and the tree at 1: nothing is left over-referenced. (Before
   * linkNew, the cut batch kept the references it took before its links: count 2.)
   */
  @Test
  void aPutKilledAtAnyLinkIsFinishedByARerunWithExactCounts() throws IOException {
    Path src = sampleOfTwelve();
    int killed = 0;
    for (int killAt = 1; killAt <= 12; killAt++) {
      try (ContentStore fresh = MemoryStores.open()) {
        int at = killAt;
        AtomicInteger links = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean dead =
            new java.util.concurrent.atomic.AtomicBoolean();
        ContentStore dying = (ContentStore) Proxy.newProxyInstance(
            ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
            (proxy, method, args) -> {
              if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
                return InvocationHandler.invokeDefault(proxy, method, args);
              }
              if (dead.get() || method.getName().startsWith("link")
                  && links.incrementAndGet() == at) {
                dead.set(true);
                throw new IllegalStateException("killed");
              }
              try {
                return method.invoke(fresh, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
        try {
          Trees.of(dying).withJobs(1).put(src, Map.of());
          break; // fewer link calls than killAt: every one of them was killed at already
        } catch (IllegalStateException e) {
          assertThat(e).hasMessageContaining("killed");
          killed++;
        }

        Digest tree = Trees.of(fresh).put(src);

        assertThat(fresh.info(tree).refCount()).isEqualTo(1);
        assertThat(fresh.info(tree).links()).hasSize(12);
        for (Digest f : fresh.info(tree).links()) {
          assertThat(fresh.info(f).refCount()).as("killed at link %d: %s", at, f).isEqualTo(1);
        }
        fresh.deref(tree);
        Set<Digest> left = new java.util.HashSet<>();
        fresh.walk(i -> left.add(i.digest()));
        assertThat(left).as("killed at link %d", at).isEmpty();
      }
    }
    // 12 files, one stored at a time and at most 8 stored and not linked (the window's least,
    // 8 × jobs): 2 link calls at least.
    assertThat(killed).as("puts killed, one at each link call").isBetween(2, 12);
  }

  @Test
  void aPutInterruptedWhileLinkingIsFinishedByARerun() throws IOException {
    Path src = sampleOfTwelve();
    AtomicInteger links = new AtomicInteger();
    ContentStore failing = (ContentStore) Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("linkNew") && links.incrementAndGet() > 1) {
            throw new IllegalStateException("killed"); // after one linkNew (of 2 or more)
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    assertThatThrownBy(() -> Trees.of(failing).withJobs(1).put(src, Map.of()))
        .hasMessageContaining("killed");
    Digest tree = Trees.of(store).put(src);
    // TREE-3: an interrupted put left the tree at count 0, so the rerun's root reference is the only one.
    assertThat(store.info(tree).refCount()).isEqualTo(1);
    assertThat(store.info(tree).links()).hasSize(12);
    for (Digest f : store.info(tree).links()) {
      assertThat(store.info(f).refCount()).as(f.toString()).isEqualTo(1);
    }
    store.deref(tree);
    Set<Digest> left = new java.util.HashSet<>();
    store.walk(i -> left.add(i.digest()));
    assertThat(left).isEmpty();
  }

  @Test
  void aLinkNewWhoseAnswerWasLostIsFinishedExactlyByARerunWhenItLandsLate() throws IOException {
    Path src = sample();
    List<Runnable> late = new java.util.ArrayList<>();
    ContentStore lossy = (ContentStore) Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("linkNew")) {
            // Sent, its answer lost: the change lands only after the put has given up.
            @SuppressWarnings("unchecked")
            List<Digest> targets = List.copyOf((Collection<Digest>) args[0]);
            Digest from = (Digest) args[1];
            late.add(() -> store.linkNew(targets, from));
            throw new UnknownException("linkNew: answer lost");
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    assertThatThrownBy(() -> Trees.of(lossy).withJobs(4).put(src, Map.of()))
        .isInstanceOf(UnknownException.class);
    assertThat(late).as("the put stops at its first failed link").hasSize(1);
    late.forEach(Runnable::run); // lands now, after any read of the tree's links the put made

    Digest tree;
    try (ContentStore other = MemoryStores.open()) {
      tree = Trees.of(other).put(src);
    }
    Set<Digest> lateLinks = store.info(tree).links();
    assertThat(lateLinks).as("what the lost call linked (the files stored by then)").isNotEmpty();
    for (Digest f : lateLinks) {
      // The late link holds the one reference: nothing was taken apart from it.
      assertThat(store.info(f).refCount()).as(f.toString()).isEqualTo(1);
    }
    assertThat(Trees.of(store).put(src)).isEqualTo(tree);
    assertThat(store.info(tree).refCount()).isEqualTo(1);
    Set<Digest> files = store.info(tree).links();
    assertThat(files).hasSize(4).containsAll(lateLinks);
    for (Digest f : files) {
      assertThat(store.info(f).refCount()).as("exact after the rerun: %s", f).isEqualTo(1);
    }
    store.deref(tree);
    Set<Digest> left = new java.util.HashSet<>();
    store.walk(i -> left.add(i.digest()));
    assertThat(left).isEmpty();
  }

  @Test
  void aFileReleasedToZeroBetweenALookupAndItsLinkIsStoredAgain() throws IOException {
    Path src = sample();
    // The other holder of the same file (bin/run.sh) releases it, to 0, between this put's
    // lookup and its link. The memory store removes a blob at 0 at once; the S3 store moves it
    // to deleting, purged only after the grace (GcOnSimulatedClockTest
    // .aDeletedBlobIsPurgedOnlyAfterItsGrace), and a put within the grace brings it back: on
    // both linkNew then says NotFound, and the put stores the file again rather than fail.
    Digest shared = digestOf("#!/bin/sh\necho hi\n");
    store.putAndRef("#!/bin/sh\necho hi\n".getBytes(UTF_8), shared, Map.of());
    AtomicInteger refs = new AtomicInteger();
    ContentStore racing = (ContentStore) Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("linkNew")
              && ((Collection<?>) args[0]).contains(shared) && refs.incrementAndGet() == 1) {
            store.deref(shared); // the other holder's release, to 0
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    Digest tree = Trees.of(racing).put(src);
    assertThat(refs).as("the release raced the first link, and the link was made again").hasValue(2);
    assertThat(store.info(tree).links()).contains(shared);
    assertThat(store.info(shared).refCount()).as("the tree's link").isEqualTo(1);
    Path out = tmp.resolve("out");
    Trees.of(store).get(tree, out);
    assertThat(Files.readString(out.resolve("bin/run.sh"))).isEqualTo("#!/bin/sh\necho hi\n");
  }

  @Test
  void anAbandonedPutIsReclaimedByRefThenDeref() throws IOException {
    Path src = sample();
    AtomicInteger refs = new AtomicInteger();
    ContentStore failing = (ContentStore) Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          // The files are stored without a reference and linked by linkNew: the only ref is the
          // root's.
          if (method.getName().equals("ref") && refs.incrementAndGet() > 0) {
            throw new IllegalStateException("killed before the root reference");
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    assertThatThrownBy(() -> Trees.of(failing).put(src, Map.of())).hasMessageContaining("killed");
    Set<Digest> stored = new java.util.HashSet<>();
    store.walk(i -> stored.add(i.digest()));
    Digest tree = stored.stream().filter(d -> store.info(d).links().size() == 4).findFirst()
        .orElseThrow();
    assertThat(store.info(tree).refCount()).isZero();
    store.ref(tree);
    store.deref(tree);
    Set<Digest> left = new java.util.HashSet<>();
    store.walk(i -> left.add(i.digest()));
    assertThat(left).isEmpty();
  }

  @Test
  void theTreeBlobIsCanonicalJson() throws IOException {
    Path src = tmp.resolve("s");
    write(src.resolve("b"), "b");
    write(src.resolve("a/c"), "c");
    Digest tree = trees.put(src);
    String json = new String(dev.coffer.store.Content.readBlob(store,
        dev.coffer.store.Descriptor.of(tree)), UTF_8);
    assertThat(json).isEqualTo("{\"mediaType\":\"application/vnd.coffer.tree.v1+json\","
        + "\"version\":1,\"entries\":["
        + "{\"path\":\"a\",\"kind\":\"dir\",\"mode\":" + modeOf(src.resolve("a")) + "},"
        + "{\"path\":\"a/c\",\"kind\":\"file\",\"mode\":" + modeOf(src.resolve("a/c"))
        + ",\"size\":1,\"digest\":\"" + digestOf("c") + "\"},"
        + "{\"path\":\"b\",\"kind\":\"file\",\"mode\":" + modeOf(src.resolve("b"))
        + ",\"size\":1,\"digest\":\"" + digestOf("b") + "\"}]}");
  }

  /**
   * All links write the tree's record: made one call each, a put -r on S3 rewrote that record
   * once a file (a read and a conditional write each). The linker links, one linkNew at a time
   * (two at once only conflict on that record), whatever was stored since its last call: at most
   * the pipeline's window of files ({@link LinkPipeline#window}: 32 with four jobs), each once.
   */
  @Test
  void linksToTheTreeAreMadeOneLinkNewAtATimeOfWhatWasStoredSinceTheLast() throws IOException {
    Path src = tmp.resolve("many");
    Files.createDirectories(src);
    for (int i = 0; i < 100; i++) {
      Files.writeString(src.resolve("f" + i), "file " + i);
    }
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Digest> targets = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Integer> sizes = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicInteger linking = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    ContentStore watched = (ContentStore) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          boolean link = method.getName().startsWith("link");
          if (link) {
            calls.add(method.getName());
            mostAtOnce.accumulateAndGet(linking.incrementAndGet(), Math::max);
            if (args[0] instanceof Collection<?> c) {
              sizes.add(c.size());
              c.forEach(d -> targets.add((Digest) d));
            }
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          } finally {
            if (link) {
              linking.decrementAndGet();
            }
          }
        });
    Digest tree = Trees.of(watched).withJobs(4).put(src);
    assertThat(store.info(tree).links()).hasSize(100);
    assertThat(calls).as("linkNew only").containsOnly("linkNew");
    assertThat(mostAtOnce).as("one linkNew at a time").hasValue(1);
    assertThat(targets).as("each file linked once").hasSize(100).doesNotHaveDuplicates();
    assertThat(sizes).as("at most the window's files a call")
        .allMatch(n -> n >= 1 && n <= LinkPipeline.window(4, 100));
  }

  /**
   * Issue 23: no file's link waits for another file's upload. With the largest file's upload
   * held (it is taken first) until every other file is linked, the put ends; in batches of jobs
   * files linked once the whole batch was stored, the slow file's batch (f8, f9 and it) was not
   * linked while it was held: the hold ran out with 8 of the 10 linked, and the test failed.
   */
  @Test
  void theOtherFilesAreLinkedWhileOneSlowFileIsStillBeingStored() throws Exception {
    Path src = tmp.resolve("slow");
    Files.createDirectories(src);
    Files.writeString(src.resolve("slow"), "the largest file of all, held");
    for (int i = 0; i < 10; i++) {
      Files.writeString(src.resolve("f" + i), "file " + i);
    }
    Digest slow = Digest.of(Files.readAllBytes(src.resolve("slow")));
    Set<Digest> others = new java.util.HashSet<>();
    for (int i = 0; i < 10; i++) {
      others.add(digestOf("file " + i));
    }
    Set<Digest> linked = java.util.concurrent.ConcurrentHashMap.newKeySet();
    java.util.concurrent.CountDownLatch othersLinked = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean linkedWhileHeld =
        new java.util.concurrent.atomic.AtomicBoolean();
    AtomicInteger linkedWhenReleased = new AtomicInteger();
    ContentStore held = (ContentStore) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("put") && slow.equals(args[1])) {
            // Held until the others are linked; the bound only ends a put that never links them.
            linkedWhileHeld.set(othersLinked.await(10, java.util.concurrent.TimeUnit.SECONDS));
            linkedWhenReleased.set(linked.size());
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          } finally {
            if (method.getName().equals("linkNew")) {
              @SuppressWarnings("unchecked")
              Collection<Digest> to = (Collection<Digest>) args[0];
              linked.addAll(to);
              if (linked.containsAll(others)) {
                othersLinked.countDown();
              }
            }
          }
        });
    Digest tree = Trees.of(held).withJobs(4).put(src);
    assertThat(linkedWhileHeld).as("the other 10 files were linked while the slow one was held; "
        + "linked by then: %s", linkedWhenReleased).isTrue();
    assertThat(store.info(tree).links()).hasSize(11).contains(slow);
    for (Digest f : store.info(tree).links()) {
      assertThat(store.info(f).refCount()).isEqualTo(1);
    }
  }

  /** A directory of 40 files in 4 sub-directories, "file I" in d(I%4)/fI. */
  private Path forty() throws IOException {
    Path src = tmp.resolve("forty");
    for (int i = 0; i < 40; i++) {
      write(src.resolve("d" + i % 4 + "/f" + i), "file " + i);
    }
    return src;
  }

  private String json(Digest blob) {
    return new String(dev.coffer.store.Content.readBlob(store,
        dev.coffer.store.Descriptor.of(blob)), UTF_8);
  }

  private Set<Digest> stored() {
    Set<Digest> all = new java.util.HashSet<>();
    store.walk(i -> all.add(i.digest()));
    return all;
  }

  @Test
  void aDeltaTreeListsOnlyWhatChangedAndRoundTripsThroughAChain() throws IOException {
    Path src = forty();
    Digest full = trees.put(src);
    write(src.resolve("d1/f1"), "file 1, changed");
    write(src.resolve("d2/new"), "new file");
    Files.delete(src.resolve("d3/f3"));
    Digest delta = trees.put(src, Map.of(), full).tree();

    assertThat(json(delta)).isEqualTo("{\"mediaType\":\"application/vnd.coffer.tree.v2+json\","
        + "\"version\":2,\"base\":\"" + full + "\",\"depth\":1,\"entries\":["
        + "{\"path\":\"d1/f1\",\"kind\":\"file\",\"mode\":" + modeOf(src.resolve("d1/f1"))
        + ",\"size\":15,\"digest\":\"" + digestOf("file 1, changed") + "\"},"
        + "{\"path\":\"d2/new\",\"kind\":\"file\",\"mode\":" + modeOf(src.resolve("d2/new"))
        + ",\"size\":8,\"digest\":\"" + digestOf("new file") + "\"}],"
        + "\"removed\":[\"d3/f3\"]}");
    // TREE-2: the delta links to its base and to the files it lists, nothing else.
    assertThat(store.info(delta).links())
        .containsExactlyInAnyOrder(full, digestOf("file 1, changed"), digestOf("new file"));
    assertThat(store.info(delta).refCount()).isEqualTo(1);
    assertThat(store.info(full).refCount()).as("its put's reference and the delta's link")
        .isEqualTo(2);
    // TREE-1 for a given base: the same directory over the same base is the same delta.
    assertThat(trees.put(src, Map.of(), full).tree()).isEqualTo(delta);
    assertThat(store.info(delta).refCount()).isEqualTo(2);

    write(src.resolve("d0/f4"), "file 4, changed");
    Digest second = trees.put(src, Map.of(), delta).tree();
    assertThat(json(second)).contains("\"base\":\"" + delta + "\",\"depth\":2,");
    assertThat(store.info(second).links()).containsExactlyInAnyOrder(delta,
        digestOf("file 4, changed"));

    // Read through the chain, it is the full tree of the directory, as stored anywhere.
    Tree expected;
    try (ContentStore other = MemoryStores.open()) {
      Trees elsewhere = Trees.of(other);
      expected = elsewhere.list(elsewhere.put(src));
    }
    assertThat(trees.list(second)).isEqualTo(expected);
    assertThat(trees.list(second).files()).hasSize(40);
    Path out = tmp.resolve("out");
    TreeTransfer got = trees.get(second, out);
    assertThat(got.files()).isEqualTo(40);
    for (Tree.Entry e : expected.files()) {
      assertThat(Digest.of(Files.readAllBytes(out.resolve(e.path())))).isEqualTo(e.digest());
    }
    assertThat(Files.readString(out.resolve("d0/f4"))).isEqualTo("file 4, changed");
    assertThat(Files.exists(out.resolve("d3/f3"))).isFalse();
    TreeDiff diff = trees.diff(full, second);
    assertThat(diff.added()).containsExactly("d2/new");
    assertThat(diff.removed()).containsExactly("d3/f3");
    assertThat(diff.changed()).containsExactly("d0/f4", "d1/f1");
  }

  @Test
  void derefOfTheNewestDeltaFreesOnlyWhatNothingElseHolds() throws IOException {
    Path src = forty();
    Digest full = trees.put(src);
    write(src.resolve("d1/f1"), "file 1, changed");
    Digest delta = trees.put(src, Map.of(), full).tree();
    Set<Digest> before = stored();
    assertThat(before).hasSize(40 + 1 + 2);

    store.deref(delta);
    // The delta and the one file only it held go; the base keeps its put's reference.
    assertThat(before).containsAll(stored());
    assertThat(stored()).doesNotContain(delta, digestOf("file 1, changed")).hasSize(41);
    assertThat(store.info(full).refCount()).isEqualTo(1);
    store.deref(full);
    assertThat(stored()).isEmpty();

    // The other order: the base's holder lets go first, and the delta keeps the base whole,
    // the file it replaced included, until the delta goes.
    Digest full2 = trees.put(src);
    write(src.resolve("d1/f1"), "file 1, again");
    Digest delta2 = trees.put(src, Map.of(), full2).tree();
    store.deref(full2);
    assertThat(store.info(full2).refCount()).isEqualTo(1);
    assertThat(store.info(digestOf("file 1, changed")).refCount()).isEqualTo(1);
    assertThat(trees.list(delta2).files()).hasSize(40);
    store.deref(delta2);
    assertThat(stored()).isEmpty();
  }

  @Test
  void aPutWritesAFullTreeWhenTheChainWouldBeTooDeepOrTheDeltaLarge() throws IOException {
    Path src = forty();
    Digest tree = trees.put(src);
    for (int i = 1; i <= Trees.MAX_DELTA_DEPTH; i++) {
      write(src.resolve("d0/f0"), "version " + i);
      tree = trees.put(src, Map.of(), tree).tree();
      assertThat(json(tree)).contains("\"depth\":" + i + ",");
    }
    write(src.resolve("d0/f0"), "one too deep");
    Digest full = trees.put(src, Map.of(), tree).tree();
    assertThat(json(full)).startsWith("{\"mediaType\":\"application/vnd.coffer.tree.v1+json\"");
    assertThat(full).isEqualTo(Trees.of(store).put(src)); // the directory's full tree

    // More than a quarter of the 44 entries changed: a full tree.
    for (int i = 0; i < 12; i++) {
      write(src.resolve("d" + i % 4 + "/f" + i), "rewritten " + i);
    }
    Digest large = trees.put(src, Map.of(), full).tree();
    assertThat(json(large)).startsWith("{\"mediaType\":\"application/vnd.coffer.tree.v1+json\"");
    assertThat(store.info(large).links()).hasSize(40);

    // Nothing changed: the tree is the base, with one more reference.
    long count = store.info(large).refCount();
    assertThat(trees.put(src, Map.of(), large).tree()).isEqualTo(large);
    assertThat(store.info(large).refCount()).isEqualTo(count + 1);
  }

  @Test
  void theBaseIsReadWhileTheDirectoryIsScannedAndHashed() throws Exception {
    Path src = forty();
    Digest full = trees.put(src);
    write(src.resolve("d1/f1"), "file 1, changed");
    // The base's record is read only once the directory has been scanned (the listener's
    // start): a put that read its base first would wait here until the latch gave up.
    java.util.concurrent.CountDownLatch scanned = new java.util.concurrent.CountDownLatch(1);
    AtomicInteger baseReadsAfterTheScan = new AtomicInteger();
    ContentStore waiting = (ContentStore) Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) {
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("info") && full.equals(args[0])
              && scanned.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
            baseReadsAfterTheScan.incrementAndGet();
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    TreeTransfer delta = Trees.of(waiting).withJobs(4).withListener(new TransferListener() {
      @Override
      public void started(long files, long bytes) {
        scanned.countDown();
      }
    }).put(src, Map.of(), full);

    assertThat(baseReadsAfterTheScan).hasValue(1);
    assertThat(json(delta.tree())).contains("\"base\":\"" + full + "\"");
    assertThat(delta.newFiles()).isEqualTo(1);
    assertThat(trees.list(delta.tree())).isEqualTo(trees.list(Trees.of(store).put(src)));
  }

  @Test
  void aBaseNotStoredFailsThePutBeforeAnythingIsWritten() throws IOException {
    Path src = forty();
    Set<Digest> before = stored();
    Digest missing = digestOf("no such tree");
    assertThatThrownBy(() -> trees.put(src, Map.of(), missing))
        .isInstanceOf(NotFoundException.class);
    // A base that is not a tree: refused the same way, and nothing stored either.
    Digest notATree = store.putAndRef("not a tree".getBytes(UTF_8), null, Map.of()).digest();
    assertThatThrownBy(() -> trees.put(src, Map.of(), notATree))
        .isInstanceOf(InvalidArgumentException.class);
    before.add(notATree);
    assertThat(stored()).isEqualTo(before);
    assertThat(Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("coffer-tree-base"))).isEmpty();
  }

  @Test
  void aPutOverATreeItKeptReadsOnlyTheBasesRecord() throws IOException {
    Path src = forty();
    Path kept = tmp.resolve("cache/tree-blobs");
    List<String> baseReads = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicReference<Digest> watched =
        new java.util.concurrent.atomic.AtomicReference<>();
    ContentStore counting = (ContentStore) Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) {
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          Object first = args == null || args.length == 0 ? null : args[0];
          Digest d = first instanceof Digest digest ? digest
              : first instanceof dev.coffer.store.Descriptor desc ? desc.digest() : null;
          if (d != null && d.equals(watched.get())) {
            baseReads.add(method.getName());
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    Trees cached = Trees.of(counting).withJobs(4).withTreeCache(kept);
    Digest full = cached.put(src); // written, so kept
    assertThat(Files.readAllBytes(kept.resolve(full.hex())))
        .isEqualTo(dev.coffer.store.Content.readBlob(store, dev.coffer.store.Descriptor.of(full)));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kept)))
        .isEqualTo("rwx------");

    watched.set(full);
    write(src.resolve("d1/f1"), "file 1, changed");
    Digest delta = cached.put(src, Map.of(), full).tree();
    assertThat(baseReads).containsExactly("info"); // its record, not its bytes
    assertThat(trees.list(delta)).isEqualTo(trees.list(Trees.of(store).put(src)));

    // A kept blob altered is not used: the base's bytes are read from the store again.
    Files.write(kept.resolve(full.hex()), json(full).replace("file", "fil3").getBytes(UTF_8));
    baseReads.clear();
    write(src.resolve("d2/f2"), "file 2, changed");
    Digest second = cached.put(src, Map.of(), full).tree();
    assertThat(baseReads).contains("info").hasSizeGreaterThan(1);
    assertThat(trees.list(second)).isEqualTo(trees.list(Trees.of(store).put(src)));
    // ...and kept anew, as read.
    assertThat(Files.readAllBytes(kept.resolve(full.hex())))
        .isEqualTo(dev.coffer.store.Content.readBlob(store, dev.coffer.store.Descriptor.of(full)));
  }

  @Test
  void aDeltaIsCheckedAsAWholeTreeBeforeAnythingIsWritten() throws IOException {
    Path src = forty();
    Digest full = trees.put(src);
    Digest file = digestOf("file 0");
    String head = "{\"mediaType\":\"" + Tree.DELTA_MEDIA_TYPE + "\",\"version\":2,\"base\":\""
        + full + "\",\"depth\":1,\"entries\":[";
    // TREE-4: an entry escaping the target, in a delta, is refused naming it.
    Digest escaping = store.putAndRef((head + "{\"path\":\"../escaped\",\"kind\":\"file\","
        + "\"mode\":420,\"size\":6,\"digest\":\"" + file + "\"}],\"removed\":[]}")
        .getBytes(UTF_8), null, Map.of()).digest();
    Path out = tmp.resolve("out");
    assertThatThrownBy(() -> trees.get(escaping, out))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"../escaped\"");
    // An entry beneath a link of the base, a path removed that the base lacks, a depth that
    // does not follow the base's: refused too.
    write(src.resolve("d0/f0"), "x");
    Files.delete(src.resolve("d0/f0"));
    Digest removesNothing = store.putAndRef((head + "],\"removed\":[\"nowhere\"]}")
        .getBytes(UTF_8), null, Map.of()).digest();
    assertThatThrownBy(() -> trees.list(removesNothing))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"nowhere\"");
    Digest tooDeep = store.putAndRef((head.replace("\"depth\":1", "\"depth\":3")
        + "],\"removed\":[]}").getBytes(UTF_8), null, Map.of()).digest();
    assertThatThrownBy(() -> trees.list(tooDeep)).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("depth");
    assertThat(Files.exists(out.resolve("d0"))).isFalse();
    assertThat(Files.exists(tmp.resolve("escaped"))).isFalse();
  }

  private static int modeOf(Path p) throws IOException {
    String s = PosixFilePermissions.toString(Files.getPosixFilePermissions(p,
        LinkOption.NOFOLLOW_LINKS));
    int mode = 0;
    for (char c : s.toCharArray()) {
      mode = (mode << 1) | (c == '-' ? 0 : 1);
    }
    return mode;
  }
}
