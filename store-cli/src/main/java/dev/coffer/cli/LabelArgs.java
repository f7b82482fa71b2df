package dev.coffer.cli;

import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.spi.Labels;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Labels given on the command line as {@code KEY=VALUE}, read the same way by every command. */
final class LabelArgs {
  private LabelArgs() {}

  /**
   * The labels of {@code args}, in order; a later value of a key wins.
   *
   * @throws InvalidArgumentException naming the first argument without a key and '=', or the
   *     first label the store would refuse
   */
  static Map<String, String> parse(List<String> args) {
    Map<String, String> labels = new LinkedHashMap<>();
    for (String kv : args) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new InvalidArgumentException("invalid label \"" + kv + "\": expected KEY=VALUE");
      }
      String key = kv.substring(0, eq);
      String value = kv.substring(eq + 1);
      Labels.validate(key, value);
      labels.put(key, value);
    }
    return labels;
  }

  /** The update fieldpaths naming {@code keys}. */
  static String[] paths(Collection<String> keys) {
    return keys.stream().map(k -> "labels." + k).toArray(String[]::new);
  }
}
