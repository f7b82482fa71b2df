package dev.coffer.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.time.Clock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The log lines of {@code --log-format json}: each line the logger prints ({@code LEVEL message})
 * becomes one JSON object, {@code {"time":…,"level":…,"message":…}}; a line of a stack trace
 * that follows becomes {@code {"time":…,"level":…,"stack":…}} with the level of its message.
 * Only whole lines ({@code println}) are logged; the logger writes nothing else.
 *
 * <p>Thread-safe: each line is written under the stream's lock.
 */
final class JsonLogStream extends PrintStream {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LINE = Pattern.compile("^(TRACE|DEBUG|INFO|WARN|ERROR) (.*)$",
      Pattern.DOTALL);

  private final PrintStream target;
  private final Clock clock;
  private String level = "INFO";

  JsonLogStream(PrintStream target, Clock clock) {
    super(target, true);
    this.target = target;
    this.clock = clock;
  }

  @Override
  public void println(String line) {
    synchronized (this) {
      ObjectNode node = JSON.createObjectNode();
      node.put("time", clock.instant().toString());
      Matcher m = LINE.matcher(line == null ? "null" : line);
      if (m.matches()) {
        level = m.group(1);
        node.put("level", level);
        node.put("message", m.group(2));
      } else {
        node.put("level", level);
        node.put("stack", line);
      }
      try {
        target.println(JSON.writeValueAsString(node));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Override
  public void println(Object x) {
    println(String.valueOf(x));
  }
}
