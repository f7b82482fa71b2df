package dev.coffer.cli;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A client of the command daemon speaking wire protocol v2 as the C client does: sends the
 * request, writes {@code O}/{@code E} frames to buffers, answers each {@code R} with one read of
 * its stdin, and returns at {@code X}, {@code D} or the end of the connection.
 */
final class DaemonClient implements AutoCloseable {
  /**
   * What a command sent back.
   *
   * @param accepted whether {@code A} came
   * @param declined the reason of {@code D}; null if none came
   * @param exit the code of {@code X}; null if none came
   * @param reads how many {@code R} frames came
   * @param outFrames how many {@code O} frames came
   */
  record Reply(boolean accepted, String declined, Integer exit, byte[] stdout, String stderr,
      int reads, int outFrames) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }
  }

  /** One frame from the daemon. */
  record Frame(byte type, byte[] payload) {
    int u32() {
      return ByteBuffer.wrap(payload).getInt();
    }
  }

  /** The umask a request says the client has unless given: the test daemons' own. */
  static final int UMASK = 022;

  final SocketChannel channel;

  private DaemonClient(SocketChannel channel) {
    this.channel = channel;
  }

  /** Connects to {@code socket}. */
  static DaemonClient connect(Path socket) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    channel.connect(UnixDomainSocketAddress.of(socket));
    return new DaemonClient(channel);
  }

  /** A request's bytes, of a client under {@link #UMASK}. */
  static byte[] request(int flags, Path cwd, List<String> args, Map<String, String> env) {
    return request(flags, UMASK, cwd, args, env);
  }

  /** A request's bytes, of a client under {@code umask}; null: a version 1 request (none). */
  static byte[] request(int flags, Integer umask, Path cwd, List<String> args,
      Map<String, String> env) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.write(umask == null ? DaemonWire.MAGIC_V1 : DaemonWire.MAGIC);
      out.writeInt(flags);
      if (umask != null) {
        out.writeInt(umask);
      }
      string(out, cwd.toString());
      out.writeInt(args.size());
      for (String arg : args) {
        string(out, arg);
      }
      out.writeInt(env.size());
      for (Map.Entry<String, String> e : env.entrySet()) {
        string(out, e.getKey() + "=" + e.getValue());
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  /** Sends raw bytes. */
  void send(byte[] bytes) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** The next frame; null at the end of the connection. */
  Frame next() throws IOException {
    ByteBuffer header = ByteBuffer.allocate(5);
    if (!fill(header)) {
      return null;
    }
    int length = header.getInt(1);
    if (length < 0 || length > DaemonWire.MAX_PAYLOAD) {
      throw new IOException("frame of " + Integer.toUnsignedLong(length) + " bytes");
    }
    ByteBuffer payload = ByteBuffer.allocate(length);
    if (!fill(payload)) {
      throw new EOFException("frame cut short");
    }
    return new Frame(header.get(0), payload.array());
  }

  private boolean fill(ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        if (buffer.position() == 0) {
          return false;
        }
        throw new EOFException("frame cut short");
      }
    }
    return true;
  }

  /** Answers an {@code R} with one read of {@code stdin} of at most {@code n} bytes. */
  void answer(InputStream stdin, int n) throws IOException {
    byte[] buffer = new byte[n];
    int read = stdin.read(buffer, 0, n);
    send(DaemonWire.frame(DaemonWire.INPUT, buffer, 0, Math.max(read, 0)));
  }

  /** Runs the rest of the exchange after the request: until {@code X}, {@code D} or the end. */
  Reply finish(InputStream stdin) throws IOException {
    boolean accepted = false;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int reads = 0;
    int outFrames = 0;
    for (Frame f = next(); f != null; f = next()) {
      switch (f.type()) {
        case DaemonWire.ACCEPTED -> accepted = true;
        case DaemonWire.DECLINED -> {
          return new Reply(accepted, new String(f.payload(), StandardCharsets.UTF_8), null,
              out.toByteArray(), err.toString(StandardCharsets.UTF_8), reads, outFrames);
        }
        case DaemonWire.STDOUT -> {
          outFrames++;
          out.write(f.payload());
        }
        case DaemonWire.STDERR -> err.write(f.payload());
        case DaemonWire.READ -> {
          reads++;
          answer(stdin, f.u32());
        }
        case DaemonWire.EXIT -> {
          return new Reply(accepted, null, f.u32(), out.toByteArray(),
              err.toString(StandardCharsets.UTF_8), reads, outFrames);
        }
        default -> throw new IOException("unknown frame " + (char) f.type());
      }
    }
    return new Reply(accepted, null, null, out.toByteArray(), err.toString(StandardCharsets.UTF_8),
        reads, outFrames);
  }

  /** One whole command: connect, request, run to the end. */
  static Reply call(Path socket, byte[] request, InputStream stdin) throws IOException {
    try (DaemonClient client = connect(socket)) {
      try {
        client.send(request);
      } catch (IOException e) {
        // declined before the request was read (busy): the answer is there to read all the same
      }
      return client.finish(stdin);
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
