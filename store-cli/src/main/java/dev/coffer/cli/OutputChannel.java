package dev.coffer.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;

/**
 * A channel writing to an output stream in the buffer's own pieces: a heap buffer's bytes in one
 * write, a direct buffer's through a copy of at most {@link #CHUNK} bytes at a time
 * ({@code Channels.newChannel} writes 8 KiB at a time, which the command daemon would send as as
 * many frames). Closing it closes nothing else. Not thread-safe.
 */
final class OutputChannel implements WritableByteChannel {
  static final int CHUNK = 1 << 20;

  private final OutputStream out;
  private byte[] copy;
  private boolean open = true;

  OutputChannel(OutputStream out) {
    this.out = out;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    int n = src.remaining();
    if (src.hasArray()) {
      out.write(src.array(), src.arrayOffset() + src.position(), n);
      src.position(src.limit());
      return n;
    }
    int want = Math.min(CHUNK, n);
    if (copy == null || copy.length < want) {
      copy = new byte[want];
    }
    while (src.hasRemaining()) {
      int len = Math.min(copy.length, src.remaining());
      src.get(copy, 0, len);
      out.write(copy, 0, len);
    }
    return n;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    open = false;
  }
}
