package dev.coffer.cli;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The command daemon's wire protocol, version 2 (docs/architecture.md, "The command daemon"):
 * the request a client sends once, right after it connects, and the frames that follow
 * ({@code u8 type}, {@code u32 length}, payload). Integers are unsigned big-endian; a string is a
 * {@code u32} byte length and its bytes. Version 2 added the client's umask after the flags; a
 * version 1 request (an older client's) is still read, without a umask, so that the daemon can
 * decline it with a reason ({@link DaemonPolicy}). Stateless; thread-safe.
 */
final class DaemonWire {
  private DaemonWire() {}

  /** The start of a version 2 request. */
  static final byte[] MAGIC = {'C', 'F', 'D', '2'};
  /** The start of a version 1 request, which has no umask: read only to be declined. */
  static final byte[] MAGIC_V1 = {'C', 'F', 'D', '1'};

  /** Accepted: the command will run (no payload). */
  static final byte ACCEPTED = 'A';
  /** Declined, instead of {@link #ACCEPTED}: the payload is the reason. */
  static final byte DECLINED = 'D';
  /** Bytes for the client's standard output. */
  static final byte STDOUT = 'O';
  /** Bytes for the client's standard error. */
  static final byte STDERR = 'E';
  /** The command reads stdin: payload {@code u32 n}, 1 to {@link #MAX_READ}. */
  static final byte READ = 'R';
  /** The client's answer to {@link #READ}: what one read gave; empty at the end of input. */
  static final byte INPUT = 'I';
  /** The command ended: payload {@code u32} exit code, 0 to 255. */
  static final byte EXIT = 'X';

  /** The largest payload of a daemon → client frame. */
  static final int MAX_PAYLOAD = 1 << 20;
  /** The most bytes one {@link #READ} asks for. */
  static final int MAX_READ = 1 << 16;
  /** The longest string of a request. */
  static final int MAX_STRING = 1 << 20;
  /** The most arguments, or environment entries, of a request. */
  static final int MAX_COUNT = 1 << 16;
  /**
   * The most bytes of a whole request. Not in the protocol's text, which bounds each part only: a
   * command line and environment are bounded by the kernel's ARG_MAX (2 MiB on Linux) anyway.
   */
  static final long MAX_REQUEST = 16L << 20;

  /** The bit of the request's flags saying that the client's stderr is a terminal. */
  static final int STDERR_TERMINAL = 1;
  /** The bit of the request's flags saying that the client's stdout is a terminal. */
  static final int STDOUT_TERMINAL = 2;
  /** The bit of the request's flags saying that the client's stdin is a terminal. */
  static final int STDIN_TERMINAL = 4;

  /** A request that is not one: the connection is closed without an answer. */
  static final class MalformedRequestException extends IOException {
    MalformedRequestException(String message) {
      super(message);
    }
  }

  /**
   * A client's request.
   *
   * @param flags the terminal bits: {@link #STDERR_TERMINAL}, {@link #STDOUT_TERMINAL},
   *     {@link #STDIN_TERMINAL}
   * @param umask the client's umask, 0 to 0777; empty if it sent none (a version 1 request)
   * @param cwd the client's working directory, as sent
   * @param args the command's arguments, without the program's name
   * @param env the client's environment; the first entry of a name wins
   * @param text whether every argument and the working directory were valid UTF-8
   */
  record Request(int flags, OptionalInt umask, String cwd, List<String> args,
      Map<String, String> env, boolean text) {
    Request {
      if (umask.isPresent() && (umask.getAsInt() < 0 || umask.getAsInt() > Umask.MAX)) {
        throw new IllegalArgumentException("umask " + Integer.toOctalString(umask.getAsInt()));
      }
      args = List.copyOf(args);
      env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
    }

    boolean stderrTerminal() {
      return (flags & STDERR_TERMINAL) != 0;
    }
  }

  /**
   * Reads one request from {@code in}, reading nothing past its end.
   *
   * @throws MalformedRequestException if it is not a request of version 2 or 1, exceeds a bound,
   *     or its umask is not one (over 0777): such a request is answered by closing the connection,
   *     never run with a umask guessed
   * @throws IOException if the connection fails or ends first
   */
  static Request readRequest(InputStream in) throws IOException {
    Reader reader = new Reader(in);
    byte[] magic = reader.bytes(MAGIC.length);
    boolean v1 = Arrays.equals(magic, MAGIC_V1);
    if (!v1 && !Arrays.equals(magic, MAGIC)) {
      throw new MalformedRequestException("not a request (magic)");
    }
    int flags = reader.u32();
    OptionalInt umask = OptionalInt.empty();
    if (!v1) {
      long sent = Integer.toUnsignedLong(reader.u32());
      if (sent > Umask.MAX) {
        throw new MalformedRequestException("umask " + Long.toOctalString(sent) + " over 0777");
      }
      umask = OptionalInt.of((int) sent);
    }
    byte[] cwd = reader.string();
    int argc = reader.count("argc");
    boolean text = utf8(cwd);
    List<String> args = new ArrayList<>(argc);
    for (int i = 0; i < argc; i++) {
      byte[] arg = reader.string();
      text &= utf8(arg);
      args.add(new String(arg, StandardCharsets.UTF_8));
    }
    int envc = reader.count("envc");
    Map<String, String> env = new LinkedHashMap<>();
    for (int i = 0; i < envc; i++) {
      String entry = new String(reader.string(), StandardCharsets.UTF_8);
      int eq = entry.indexOf('=');
      if (eq > 0) {
        env.putIfAbsent(entry.substring(0, eq), entry.substring(eq + 1));
      }
    }
    return new Request(flags, umask, new String(cwd, StandardCharsets.UTF_8), args, env, text);
  }

  /** A frame's header and payload, in one array: what one write sends. */
  static byte[] frame(byte type, byte[] payload, int offset, int length) {
    if (length > MAX_PAYLOAD) {
      throw new IllegalArgumentException("payload of " + length + " bytes");
    }
    ByteBuffer frame = ByteBuffer.allocate(5 + length);
    frame.put(type).putInt(length).put(payload, offset, length);
    return frame.array();
  }

  /** A frame whose payload is one {@code u32}. */
  static byte[] frame(byte type, int value) {
    return frame(type, ByteBuffer.allocate(4).putInt(value).array(), 0, 4);
  }

  /** A frame whose payload is {@code text} in UTF-8. */
  static byte[] frame(byte type, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return frame(type, bytes, 0, Math.min(bytes.length, MAX_PAYLOAD));
  }

  private static boolean utf8(byte[] bytes) {
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /** Reads exact lengths, counting them against {@link #MAX_REQUEST}. */
  private static final class Reader {
    private final InputStream in;
    private long total;

    Reader(InputStream in) {
      this.in = in;
    }

    byte[] bytes(int n) throws IOException {
      total += n;
      if (total > MAX_REQUEST) {
        throw new MalformedRequestException("request over " + MAX_REQUEST + " bytes");
      }
      byte[] bytes = new byte[n];
      int read = 0;
      while (read < n) {
        int r = in.read(bytes, read, n - read);
        if (r < 0) {
          throw new EOFException("the request ended early");
        }
        read += r;
      }
      return bytes;
    }

    int u32() throws IOException {
      return ByteBuffer.wrap(bytes(4)).getInt();
    }

    int count(String what) throws IOException {
      long n = Integer.toUnsignedLong(u32());
      if (n > MAX_COUNT) {
        throw new MalformedRequestException(what + " " + n + " over " + MAX_COUNT);
      }
      return (int) n;
    }

    byte[] string() throws IOException {
      long n = Integer.toUnsignedLong(u32());
      if (n > MAX_STRING) {
        throw new MalformedRequestException("string of " + n + " bytes");
      }
      return bytes((int) n);
    }
  }
}
