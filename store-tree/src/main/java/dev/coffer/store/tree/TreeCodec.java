package dev.coffer.store.tree;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tree blob's JSON: fields in a fixed order, absent fields omitted, no whitespace, so that equal
 * trees (and equal deltas over the same base) encode to equal bytes (TREE-1). A full tree is
 * format 1; a delta tree is format 2, with its base, its depth and the paths it removes.
 */
final class TreeCodec {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int DELTA_VERSION = 2;

  private TreeCodec() {}

  static byte[] encode(Tree tree) {
    return encode(TreeLayer.full(tree));
  }

  static byte[] encode(TreeLayer layer) {
    ObjectNode root = JSON.createObjectNode();
    if (layer.isDelta()) {
      root.put("mediaType", Tree.DELTA_MEDIA_TYPE);
      root.put("version", DELTA_VERSION);
      root.put("base", layer.base().toString());
      root.put("depth", layer.depth());
    } else {
      root.put("mediaType", Tree.MEDIA_TYPE);
      root.put("version", Tree.VERSION);
    }
    ArrayNode entries = root.putArray("entries");
    for (Tree.Entry e : layer.entries()) {
      ObjectNode node = entries.addObject();
      node.put("path", e.path());
      node.put("kind", e.kind().name().toLowerCase(Locale.ROOT));
      node.put("mode", e.mode());
      if (e.kind() == Tree.Kind.FILE) {
        node.put("size", e.size());
        node.put("digest", e.digest().toString());
      }
      if (e.target() != null) {
        node.put("target", e.target());
      }
    }
    if (layer.isDelta()) {
      ArrayNode removed = root.putArray("removed");
      layer.removed().forEach(removed::add);
    }
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException("a tree did not encode", e);
    }
  }

  /** @throws InvalidArgumentException naming the blob if it is not a tree this library reads */
  static TreeLayer decodeLayer(Digest digest, byte[] bytes) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new InvalidArgumentException("blob " + digest + " is not a tree: " + e.getMessage());
    }
    String mediaType = root == null ? null : root.path("mediaType").asText(null);
    boolean delta = Tree.DELTA_MEDIA_TYPE.equals(mediaType);
    if (!delta && !Tree.MEDIA_TYPE.equals(mediaType)) {
      throw new InvalidArgumentException("blob " + digest + " is not a tree: media type is not "
          + Tree.MEDIA_TYPE + " or " + Tree.DELTA_MEDIA_TYPE);
    }
    int version = root.path("version").asInt();
    if (version != (delta ? DELTA_VERSION : Tree.VERSION)) {
      throw new InvalidArgumentException("tree " + digest + ": version " + version
          + " is not that of " + mediaType);
    }
    List<Tree.Entry> entries = new ArrayList<>();
    for (JsonNode node : root.path("entries")) {
      Tree.Kind kind;
      try {
        kind = Tree.Kind.valueOf(node.path("kind").asText("").toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new InvalidArgumentException("tree " + digest + " entry \""
            + node.path("path").asText() + "\": unknown kind " + node.path("kind"));
      }
      String d = node.path("digest").asText(null);
      entries.add(new Tree.Entry(node.path("path").asText(null), kind, node.path("mode").asInt(),
          node.path("size").asLong(0), d == null ? null : Digest.parse(d),
          node.path("target").asText(null)));
    }
    if (!delta) {
      new Tree(version, entries); // sorted, unique, nothing beneath a link
      return new TreeLayer(null, 0, entries, List.of());
    }
    String base = root.path("base").asText(null);
    if (base == null) {
      throw new InvalidArgumentException("delta tree " + digest + " names no base");
    }
    List<String> removed = new ArrayList<>();
    root.path("removed").forEach(n -> removed.add(n.asText(null)));
    return new TreeLayer(Digest.parse(base), root.path("depth").asInt(-1), entries, removed);
  }
}
