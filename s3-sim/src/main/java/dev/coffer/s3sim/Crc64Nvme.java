package dev.coffer.s3sim;

import java.util.zip.Checksum;

/**
 * CRC-64/NVME (S3's CRC64NVME): width 64, polynomial 0xad93d23594c93659, reflected, initial value
 * and final XOR all ones; the check value of {@code "123456789"} is 0xae8b14860a799888. The JDK has
 * no CRC-64 and the SDK's needs the CRT native library, so it is computed here, eight bytes a step
 * ("slicing by 8"). Not thread-safe.
 */
final class Crc64Nvme implements Checksum {
  /** The polynomial, bit-reversed for the reflected algorithm. */
  private static final long POLY = 0x9a6c9329ac4bc9b5L;
  private static final long[][] TABLES = new long[8][256];

  static {
    for (int i = 0; i < 256; i++) {
      long c = i;
      for (int k = 0; k < 8; k++) {
        c = (c & 1) != 0 ? (c >>> 1) ^ POLY : c >>> 1;
      }
      TABLES[0][i] = c;
    }
    for (int i = 0; i < 256; i++) {
      for (int t = 1; t < 8; t++) {
        long prev = TABLES[t - 1][i];
        TABLES[t][i] = (prev >>> 8) ^ TABLES[0][(int) (prev & 0xff)];
      }
    }
  }

  private long crc = ~0L;

  @Override
  public void update(int b) {
    crc = TABLES[0][(int) ((crc ^ b) & 0xff)] ^ (crc >>> 8);
  }

  @Override
  public void update(byte[] b, int off, int len) {
    long c = crc;
    int i = off;
    int end = off + len;
    for (; i + 8 <= end; i += 8) {
      long x = c ^ ((b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16
          | (b[i + 3] & 0xffL) << 24 | (b[i + 4] & 0xffL) << 32 | (b[i + 5] & 0xffL) << 40
          | (b[i + 6] & 0xffL) << 48 | (b[i + 7] & 0xffL) << 56);
      c = TABLES[7][(int) (x & 0xff)] ^ TABLES[6][(int) ((x >>> 8) & 0xff)]
          ^ TABLES[5][(int) ((x >>> 16) & 0xff)] ^ TABLES[4][(int) ((x >>> 24) & 0xff)]
          ^ TABLES[3][(int) ((x >>> 32) & 0xff)] ^ TABLES[2][(int) ((x >>> 40) & 0xff)]
          ^ TABLES[1][(int) ((x >>> 48) & 0xff)] ^ TABLES[0][(int) (x >>> 56)];
    }
    for (; i < end; i++) {
      c = TABLES[0][(int) ((c ^ b[i]) & 0xff)] ^ (c >>> 8);
    }
    crc = c;
  }

  @Override
  public long getValue() {
    return ~crc;
  }

  @Override
  public void reset() {
    crc = ~0L;
  }
}
