package dev.coffer.cli;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * One accepted client's connection while its command runs: the command's stdout and stderr as
 * {@code O}/{@code E} frames, its stdin pulled with {@code R} and answered by {@code I}, and the
 * end, {@code X}. A thread of its own reads what the client sends; when the client goes away
 * (end of stream, a write failing, a frame it may not send) the command's thread is interrupted
 * once and all further output is discarded.
 *
 * <p>Thread-safe: frames are written whole, one at a time, from any thread (a command's workers,
 * a progress bar's timer). At most one {@code R} is outstanding: reads of stdin are serialised.
 */
final class DaemonConnection implements AutoCloseable {
  private final SocketChannel channel;
  private final Thread command;
  private final Thread reader;
  private final Object writeLock = new Object();
  /** Guards the stdin exchange, {@link #gone} and {@link #done}. */
  private final Object state = new Object();
  private final Object readLock = new Object();
  private boolean gone;
  private boolean done;
  /** The outstanding {@code R}'s size; 0 when none is. */
  private int asked;
  private byte[] answer;
  private boolean endOfInput;
  private byte[] pending = new byte[0];
  private int pendingAt;

  /**
   * A connection whose command runs on {@code command}; starts the thread reading the client's
   * frames.
   */
  DaemonConnection(SocketChannel channel, Thread command) {
    this.channel = channel;
    this.command = command;
    this.reader = new Thread(this::readFrames, "coffer-daemon-client-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** Whether the client went away before the command ended. */
  boolean gone() {
    synchronized (state) {
      return gone;
    }
  }

  /** Sends {@code A}: the command will run. Before any output. */
  void accepted() {
    send(DaemonWire.frame(DaemonWire.ACCEPTED, new byte[0], 0, 0));
  }

  /** The command's stdout ({@code O}) or stderr ({@code E}): unbuffered, never throwing. */
  OutputStream output(byte type) {
    return new OutputStream() {
      @Override
      public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        for (int at = off; at < off + len; at += DaemonWire.MAX_PAYLOAD) {
          send(DaemonWire.frame(type, b, at, Math.min(DaemonWire.MAX_PAYLOAD, off + len - at)));
        }
      }
    };
  }

  /** The command's stdin: each read the client does for it, in order. */
  InputStream input() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return len == 0 ? 0 : readInput(b, off, len);
      }
    };
  }

  /**
   * Sends {@code X} with {@code code} (taken modulo 256), after which the client's going away no
   * longer interrupts anything; then closes the connection.
   */
  void exit(int code) {
    synchronized (state) {
      done = true;
    }
    send(DaemonWire.frame(DaemonWire.EXIT, code & 0xff));
    close();
  }

  /** Closes the connection and waits for its reader thread to end. Idempotent. */
  @Override
  public void close() {
    synchronized (state) {
      done = true;
      state.notifyAll();
    }
    try {
      channel.close();
    } catch (IOException e) {
      // closed either way
    }
    boolean interrupted = false;
    while (reader.isAlive()) {
      try {
        reader.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void send(byte[] frame) {
    synchronized (writeLock) {
      if (gone()) {
        return;
      }
      try {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
      } catch (IOException e) {
        clientGone();
      }
    }
  }

  private int readInput(byte[] b, int off, int len) throws IOException {
    synchronized (readLock) {
      synchronized (state) {
        if (pendingAt < pending.length) {
          return take(b, off, len);
        }
        if (endOfInput) {
          return -1;
        }
        if (gone) {
          throw new IOException("the client went away");
        }
        asked = Math.min(len, DaemonWire.MAX_READ);
        answer = null;
      }
      send(DaemonWire.frame(DaemonWire.READ, Math.min(len, DaemonWire.MAX_READ)));
      synchronized (state) {
        while (answer == null && !gone && !done) {
          try {
            state.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted reading stdin");
          }
        }
        if (answer == null) {
          throw new IOException("the client went away");
        }
        if (answer.length == 0) {
          endOfInput = true;
          return -1;
        }
        pending = answer;
        pendingAt = 0;
        answer = null;
        return take(b, off, len);
      }
    }
  }

  private int take(byte[] b, int off, int len) {
    int n = Math.min(len, pending.length - pendingAt);
    System.arraycopy(pending, pendingAt, b, off, n);
    pendingAt += n;
    return n;
  }

  /** The reader thread: {@code I} frames answering {@code R}; anything else ends the client. */
  private void readFrames() {
    try {
      ByteBuffer header = ByteBuffer.allocate(5);
      while (true) {
        header.clear();
        fill(header);
        byte type = header.get(0);
        long length = Integer.toUnsignedLong(header.getInt(1));
        int limit;
        synchronized (state) {
          limit = answer == null ? asked : 0;
        }
        if (type != DaemonWire.INPUT || limit == 0 || length > limit) {
          break; // a frame the client may not send: treated as its going away
        }
        ByteBuffer payload = ByteBuffer.allocate((int) length);
        fill(payload);
        synchronized (state) {
          asked = 0;
          answer = payload.array();
          state.notifyAll();
        }
      }
    } catch (IOException e) {
      // the end of the stream, or the connection closed after the command
    }
    clientGone();
  }

  private void fill(ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new EOFException();
      }
    }
  }

  /** Marks the client gone and, if its command still runs, interrupts it (once). */
  private void clientGone() {
    synchronized (state) {
      if (gone || done) {
        return;
      }
      gone = true;
      state.notifyAll();
      command.interrupt();
    }
  }
}
