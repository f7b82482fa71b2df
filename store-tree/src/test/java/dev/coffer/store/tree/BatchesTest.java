package dev.coffer.store.tree;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.memory.MemoryStores;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Trees#putFiles}, {@link Trees#getBlobs} and the progress a {@link TransferListener} sees. */
class BatchesTest {

  @TempDir Path tmp;
  private final ContentStore store = MemoryStores.open();

  @AfterEach
  void close() {
    store.close();
  }

  /** Counts what it is told, as a progress bar would. */
  private static final class Counting implements TransferListener {
    final AtomicLong files = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    final AtomicLong filesDone = new AtomicLong();
    final AtomicLong bytesDone = new AtomicLong();
    final AtomicLong transferred = new AtomicLong();

    @Override
    public void started(long files, long bytes) {
      this.files.addAndGet(files);
      this.bytes.addAndGet(bytes);
    }

    @Override
    public void fileDone(long bytes, boolean transferred) {
      filesDone.incrementAndGet();
      bytesDone.addAndGet(bytes);
      if (transferred) {
        this.transferred.incrementAndGet();
      }
    }
  }

  private Path write(String name, byte[] content) throws IOException {
    return Files.write(tmp.resolve(name), content);
  }

  @Test
  void putFilesStoresEachOnceUnreferencedWithLabelsInTheOrderGiven() throws IOException {
    byte[] big = new byte[(5 << 20) + 3]; // above the one-step limit: through a writer
    new java.util.Random(3).nextBytes(big);
    Path a = write("a", "alpha".getBytes(UTF_8));
    Path b = write("b", big);
    Path c = write("c", "alpha".getBytes(UTF_8)); // same content as a
    Counting progress = new Counting();
    Trees trees = Trees.of(store).withJobs(3).withListener(progress);

    List<FileTransfer> put = trees.putFiles(List.of(a, b, c), Map.of("team", "ci"));

    assertThat(put).extracting(FileTransfer::path).containsExactly(a, b, c);
    assertThat(put).extracting(FileTransfer::digest).containsExactly(
        Digest.of("alpha".getBytes(UTF_8)), Digest.of(big), Digest.of("alpha".getBytes(UTF_8)));
    assertThat(put).filteredOn(FileTransfer::transferred).hasSize(2); // alpha once, big once
    assertThat(store.info(Digest.of(big)).refCount()).isZero();
    assertThat(store.info(Digest.of(big)).labels()).containsEntry("team", "ci");
    assertThat(progress.files.get()).isEqualTo(3);
    assertThat(progress.bytes.get()).isEqualTo(10 + big.length);
    assertThat(progress.filesDone.get()).isEqualTo(3);
    assertThat(progress.bytesDone.get()).isEqualTo(10 + big.length);
    assertThat(progress.transferred.get()).isEqualTo(2);

    List<FileTransfer> again = Trees.of(store).putFiles(List.of(a, b), Map.of("build", "2"));
    assertThat(again).noneMatch(FileTransfer::transferred);
    assertThat(store.info(Digest.of("alpha".getBytes(UTF_8))).labels())
        .containsEntry("team", "ci").containsEntry("build", "2");
  }

  @Test
  void putFilesRefusesADirectoryBeforeStoringAnything() throws IOException {
    Path a = write("a", "alpha".getBytes(UTF_8));
    Files.createDirectories(tmp.resolve("dir"));
    assertThatThrownBy(() -> Trees.of(store).putFiles(List.of(a, tmp.resolve("dir")), Map.of()))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining(tmp.resolve("dir").toString());
    assertThatThrownBy(() -> store.info(Digest.of("alpha".getBytes(UTF_8))))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void getBlobsWritesEachVerifiedToItsHexNameAndLeavesRightFilesAlone() throws IOException {
    Digest x = store.put("x content".getBytes(UTF_8), null, Map.of()).digest();
    Digest y = store.put("y content".getBytes(UTF_8), null, Map.of()).digest();
    Path out = tmp.resolve("out");
    Counting progress = new Counting();

    List<FileTransfer> got = Trees.of(store).withJobs(2).withListener(progress)
        .getBlobs(List.of(x, y, x), out);

    assertThat(got).extracting(FileTransfer::path)
        .containsExactly(out.resolve(x.hex()), out.resolve(y.hex()), out.resolve(x.hex()));
    assertThat(Files.readString(out.resolve(x.hex()))).isEqualTo("x content");
    assertThat(Files.readString(out.resolve(y.hex()))).isEqualTo("y content");
    assertThat(got).allMatch(FileTransfer::transferred);
    assertThat(progress.files.get()).isEqualTo(2); // x once
    assertThat(progress.bytesDone.get()).isEqualTo(18);
    try (var listing = Files.list(out)) {
      assertThat(listing.count()).isEqualTo(2); // no temporary file left
    }

    Files.writeString(out.resolve(y.hex()), "y CONTENT"); // same size, wrong bytes
    List<FileTransfer> again = Trees.of(store).getBlobs(List.of(x, y), out);
    assertThat(again).extracting(FileTransfer::transferred).containsExactly(false, true);
    assertThat(Files.readString(out.resolve(y.hex()))).isEqualTo("y content");
  }

  @Test
  void getBlobsOfAMissingBlobIsNotFoundAndACorruptOneIsDataLoss() throws IOException {
    Digest missing = Digest.of("never stored".getBytes(UTF_8));
    assertThatThrownBy(() -> Trees.of(store).getBlobs(List.of(missing), tmp.resolve("o")))
        .isInstanceOf(NotFoundException.class);
    Digest d = store.put("honest".getBytes(UTF_8), null, Map.of()).digest();
    Digest other = store.put("HONEST".getBytes(UTF_8), null, Map.of()).digest();
    // A store that serves other bytes of the same length under d: rot, as the reader sees it.
    ContentStore lying = (ContentStore) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("readerAt") && args[0] instanceof Descriptor) {
            args = new Object[] {Descriptor.of(other)};
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    assertThatThrownBy(() -> Trees.of(lying).getBlobs(List.of(d), tmp.resolve("o")))
        .isInstanceOf(DataLossException.class);
    assertThat(Files.exists(tmp.resolve("o").resolve(d.hex()))).isFalse();
  }

  @Test
  void aThrowingListenerNeitherFailsNorStopsTheTransfer() throws IOException {
    Path a = write("a", "alpha".getBytes(UTF_8));
    TransferListener failing = new TransferListener() {
      @Override
      public void fileDone(long bytes, boolean transferred) {
        throw new IllegalStateException("listener bug");
      }
    };
    List<FileTransfer> put = Trees.of(store).withListener(failing).putFiles(List.of(a), Map.of());
    assertThat(put.get(0).transferred()).isTrue();
    assertThat(store.info(put.get(0).digest()).size()).isEqualTo(5);
  }

  @Test
  void aTreePutAndGetReportEveryFileOnce() throws IOException {
    Path src = tmp.resolve("src");
    Files.createDirectories(src.resolve("d"));
    Files.writeString(src.resolve("d/one"), "1");
    Files.writeString(src.resolve("two"), "22");
    Files.createSymbolicLink(src.resolve("link"), Path.of("two"));
    Counting put = new Counting();
    Digest tree = Trees.of(store).withListener(put).put(src, Map.of()).tree();
    assertThat(List.of(put.files.get(), put.bytes.get(), put.filesDone.get(), put.bytesDone.get()))
        .containsExactly(2L, 3L, 2L, 3L);
    Counting get = new Counting();
    Trees.of(store).withListener(get).get(tree, tmp.resolve("out"));
    assertThat(List.of(get.files.get(), get.bytes.get(), get.filesDone.get(), get.bytesDone.get(),
        get.transferred.get())).containsExactly(2L, 3L, 2L, 3L, 2L);
  }
}
