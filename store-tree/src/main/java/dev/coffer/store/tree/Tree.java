package dev.coffer.store.tree;

import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A directory as stored: its entries sorted by relative path, each a file, a directory or a symbolic
 * link. The same entries always give the same tree blob and so the same digest (TREE-1). Instances are
 * immutable.
 *
 * @param version the tree format's version; {@link #VERSION}
 * @param entries the entries, sorted by path, paths unique
 */
public record Tree(int version, List<Entry> entries) {

  /** The media type of a tree blob. */
  public static final String MEDIA_TYPE = "application/vnd.coffer.tree.v1+json";

  /** The media type of a delta tree blob: one naming a base tree and what changed from it. */
  public static final String DELTA_MEDIA_TYPE = "application/vnd.coffer.tree.v2+json";

  /**
   * The version of a full tree's format, and of every tree as read: a delta tree (format version
   * 2, {@link #DELTA_MEDIA_TYPE}) reads as the full tree it resolves to.
   */
  public static final int VERSION = 1;

  /** What an entry is. */
  public enum Kind { FILE, DIR, SYMLINK }

  /**
   * One entry of a tree.
   *
   * @param path the path relative to the tree's root, segments separated by {@code /}; never empty,
   *     absolute, or holding {@code .} or {@code ..} segments
   * @param kind what the entry is
   * @param mode the POSIX permission bits (0 to 07777)
   * @param size the file's size in bytes; 0 for directories and symbolic links
   * @param digest the file's digest; null for directories and symbolic links
   * @param target the link's target, as stored in the link; null for files and directories
   */
  public record Entry(String path, Kind kind, int mode, long size, Digest digest, String target) {

    /** @throws InvalidArgumentException naming the entry if it is malformed or escapes the root */
    public Entry {
      Objects.requireNonNull(kind, "kind");
      checkPath(path);
      if (mode < 0 || mode > 07777) {
        throw new InvalidArgumentException("tree entry \"" + path + "\": mode " + mode
            + " out of range");
      }
      if ((kind == Kind.FILE) != (digest != null) || (kind == Kind.SYMLINK) != (target != null)) {
        throw new InvalidArgumentException("tree entry \"" + path + "\": a " + kind
            + " has a digest only if a file and a target only if a link");
      }
      if (size < 0 || (kind != Kind.FILE && size != 0)) {
        throw new InvalidArgumentException("tree entry \"" + path + "\": size " + size);
      }
    }
  }

  /**
   * @throws InvalidArgumentException if the version is unknown, paths repeat or are not sorted, or
   *     an entry lies beneath a symbolic link of the tree (which would write outside the root)
   */
  public Tree {
    if (version != VERSION) {
      throw new InvalidArgumentException("tree version " + version + " is not " + VERSION);
    }
    entries = List.copyOf(entries);
    Set<String> links = new HashSet<>();
    String previous = null;
    for (Entry e : entries) {
      if (previous != null && previous.compareTo(e.path()) >= 0) {
        throw new InvalidArgumentException("tree entry \"" + e.path()
            + "\": not sorted after \"" + previous + "\" or repeated");
      }
      for (int i = e.path().indexOf('/'); i >= 0; i = e.path().indexOf('/', i + 1)) {
        if (links.contains(e.path().substring(0, i))) {
          throw new InvalidArgumentException("tree entry \"" + e.path()
              + "\": beneath the symbolic link \"" + e.path().substring(0, i) + "\"");
        }
      }
      if (e.kind() == Kind.SYMLINK) {
        links.add(e.path());
      }
      previous = e.path();
    }
  }

  /** A tree of {@code entries} in any order, sorted by path. */
  public static Tree of(List<Entry> entries) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparing(Entry::path));
    return new Tree(VERSION, sorted);
  }

  /** The file entries. */
  public List<Entry> files() {
    return entries.stream().filter(e -> e.kind() == Kind.FILE).toList();
  }

  static void checkPath(String path) {
    if (path == null || path.isEmpty()) {
      throw new InvalidArgumentException("tree entry \"\": empty path");
    }
    if (path.startsWith("/") || path.contains("\\") || path.indexOf('\0') >= 0) {
      throw new InvalidArgumentException("tree entry \"" + path + "\": escapes the tree's root");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new InvalidArgumentException("tree entry \"" + path + "\": escapes the tree's root");
      }
    }
  }
}
