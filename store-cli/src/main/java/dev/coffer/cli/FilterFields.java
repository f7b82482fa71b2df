package dev.coffer.cli;

import dev.coffer.store.Filter;
import dev.coffer.store.InvalidArgumentException;
import java.util.List;

/**
 * Refuses filters on fields the listed things do not have. The store, like containerd, treats an
 * unknown field as absent, so a typo ({@code lables.team==ci}) would silently list nothing; on the
 * command line it is an invalid argument naming the filter and the field.
 */
final class FilterFields {
  private FilterFields() {}

  /**
   * Checks the fields of blob filters: {@code digest}, the times {@code createdAt}, {@code
   * updatedAt} and {@code lastUsedAt}, and {@code labels.<key>}.
   *
   * @throws InvalidArgumentException naming the first filter that does not parse or names another
   *     field
   */
  static void checkBlobs(List<String> filters) {
    for (String filter : filters) {
      for (List<String> path : Filter.parse(filter).fieldpaths()) {
        boolean known = List.of("digest", "createdAt", "updatedAt", "lastUsedAt")
            .contains(path.get(0)) ? path.size() == 1
            : path.get(0).equals("labels") && path.size() > 1;
        if (!known) {
          throw unknown(filter, path,
              "blobs have digest, createdAt, updatedAt, lastUsedAt and labels.<key>");
        }
      }
    }
  }

  /**
   * Checks the fields of ingest filters: {@code ref}.
   *
   * @throws InvalidArgumentException naming the first filter that does not parse or names another
   *     field
   */
  static void checkIngests(List<String> filters) {
    for (String filter : filters) {
      for (List<String> path : Filter.parse(filter).fieldpaths()) {
        if (!path.equals(List.of("ref"))) {
          throw unknown(filter, path, "ingests have ref");
        }
      }
    }
  }

  private static InvalidArgumentException unknown(String filter, List<String> path,
      String known) {
    String field = String.join(".", path);
    String what = path.equals(List.of("labels")) ? "field \"labels\" needs a key (labels.<key>)"
        : "unknown field \"" + field + "\"";
    return new InvalidArgumentException("invalid filter \"" + filter + "\": " + what + "; "
        + known);
  }
}
