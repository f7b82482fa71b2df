package dev.coffer.store.tree;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** The directory the early-work tests put ({@link EarlyLookupsTest}, {@link EarlyUploadsTest}). */
final class EarlyWorkDirs {
  private EarlyWorkDirs() {}

  /** {@code size} bytes drawn from {@code seed}. */
  static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** {@code parent}/src: forty small files and one of {@code bigSize} bytes, named "big". */
  static Path directory(Path parent, int bigSize) throws IOException {
    Path src = parent.resolve("src");
    Files.createDirectories(src);
    for (int i = 0; i < 40; i++) {
      Files.write(src.resolve("f" + i), random(100, i));
    }
    Files.write(src.resolve("big"), random(bigSize, 100));
    return src;
  }
}
