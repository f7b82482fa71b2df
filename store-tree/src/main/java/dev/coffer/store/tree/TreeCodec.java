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
 * trees encode to equal bytes (TREE-1).
 */
final class TreeCodec {

  private static final ObjectMapper JSON = new ObjectMapper();

  private TreeCodec() {}

  static byte[] encode(Tree tree) {
    ObjectNode root = JSON.createObjectNode();
    root.put("mediaType", Tree.MEDIA_TYPE);
    root.put("version", tree.version());
    ArrayNode entries = root.putArray("entries");
    for (Tree.Entry e : tree.entries()) {
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
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException("a tree did not encode", e);
    }
  }

  /** @throws InvalidArgumentException naming the blob if it is not a tree this library reads */
  static Tree decode(Digest digest, byte[] bytes) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new InvalidArgumentException("blob " + digest + " is not a tree: " + e.getMessage());
    }
    if (root == null || !Tree.MEDIA_TYPE.equals(root.path("mediaType").asText(null))) {
      throw new InvalidArgumentException("blob " + digest + " is not a tree: media type is not "
          + Tree.MEDIA_TYPE);
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
    return new Tree(root.path("version").asInt(), entries);
  }
}
