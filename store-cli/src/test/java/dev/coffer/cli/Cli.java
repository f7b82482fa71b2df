package dev.coffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Writer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Runs the CLI in-process on a given store, as {@code main} does, and captures what it prints. */
final class Cli {
  final Map<String, String> env = new HashMap<>();
  private final StoreConnector connector;
  boolean terminal;
  /** The working directory the commands are typed in: the JVM's own unless a test sets another. */
  java.nio.file.Path cwd = Coffer.JVM_CWD;

  Cli(ContentStore store) {
    this.connector = (settings, notices) -> store;
  }

  Cli(StoreConnector connector) {
    this.connector = connector;
  }

  record Result(int code, byte[] stdout, String stderr) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    List<String> errLines() {
      return stderr.lines().toList();
    }

    JsonNode json() throws IOException {
      return new ObjectMapper().readTree(stdout);
    }
  }

  Result run(InputStream stdin, String... args) {
    return run(new ByteArrayOutputStream(), stdin, args);
  }

  /** Runs with stderr written to {@code err}, which another thread may read meanwhile. */
  Result run(ByteArrayOutputStream err, InputStream stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = Coffer.run(args, stdin, new PrintStream(out, true), new PrintStream(err, true), env,
        connector, terminal, cwd);
    return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  Result run(byte[] stdin, String... args) {
    return run(new ByteArrayInputStream(stdin), args);
  }

  Result run(String... args) {
    return run(new byte[0], args);
  }

  /**
   * {@code store}, counting the content bytes sent to it through writers and one-step puts: what
   * an upload to S3 would carry.
   */
  static ContentStore countingSent(ContentStore store, AtomicLong sent) {
    return (ContentStore) Proxy.newProxyInstance(Cli.class.getClassLoader(),
        new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
          if (method.getName().startsWith("put") && args != null && args[0] instanceof byte[] b) {
            sent.addAndGet(b.length);
          }
          Object result = invoke(method, store, args);
          if (method.getName().startsWith("putFile") && args[0] instanceof java.nio.file.Path p) {
            sent.addAndGet(java.nio.file.Files.size(p)); // stored: the whole file went
          }
          if (result instanceof Writer writer) {
            return countingWrites(writer, sent);
          }
          return result;
        });
  }

  private static Writer countingWrites(Writer writer, AtomicLong sent) {
    return (Writer) Proxy.newProxyInstance(Cli.class.getClassLoader(),
        new Class<?>[] {Writer.class}, (proxy, method, args) -> {
          if (method.getName().equals("write")) {
            if (args[0] instanceof ByteBuffer buffer) {
              sent.addAndGet(buffer.remaining());
            } else if (args.length == 3) {
              sent.addAndGet((Integer) args[2]);
            } else {
              sent.addAndGet(((byte[]) args[0]).length);
            }
          }
          return invoke(method, writer, args);
        });
  }

  private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args)
      throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
