package dev.coffer.store;

import java.util.List;

/**
 * A parsed filter over blob infos and ingest statuses, in containerd's filter syntax:
 *
 * <pre>
 * selectors := selector ("," selector)*        -- AND within one filter string
 * selector  := fieldpath [operator value]
 * fieldpath := field ("." field)*
 * field     := quoted | [A-Za-z_][A-Za-z0-9_]*
 * operator  := "==" | "!=" | "~="
 * value     := quoted | [^\s,]+                 -- for "~=" also /regex/ and |regex|
 * </pre>
 *
 * <p>Several filter strings are ORed; none, or an empty string, matches everything. A bare fieldpath
 * matches when the field is present; {@code ==} when present and equal; {@code !=} when absent or
 * different; {@code ~=} when present and the regular expression finds a match. Info fields are
 * {@code digest} and {@code labels.<key>} (a key with {@code .} or {@code /} is quoted:
 * {@code labels."containerd.io/gc.root"}); the status field is {@code ref}. Other fields are
 * absent, as in containerd; a caller that wants them refused checks {@link #fieldpaths()}. As in
 * containerd's scanner, a run of operator characters is one operator, so {@code ===} is refused.
 *
 * <p>Instances are immutable and thread-safe.
 */
public interface Filter {

  /** The filter that matches everything. */
  Filter ALL = FilterParser.parse();

  /**
   * Parses filter strings, ORed together.
   *
   * @throws InvalidArgumentException naming the filter and the position if one does not parse
   */
  static Filter parse(String... filters) {
    return FilterParser.parse(filters);
  }

  /**
   * The fieldpaths this filter's selectors test, each as its segments ({@code labels."a.b"} is
   * {@code [labels, a.b]}), in the order they appear; empty for a filter that matches everything.
   */
  List<List<String>> fieldpaths();

  /** Whether the blob described by {@code info} matches. */
  boolean matches(Info info);

  /** Whether the ingest described by {@code status} matches. */
  boolean matches(Status status);
}
