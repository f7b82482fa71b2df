package dev.coffer.terraform;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One HCL block as written: its labels (type first, e.g. {@code [resource, aws_s3_bucket, this]}), its
 * attributes in source order and its nested blocks. Attribute values are literals, lists, maps or
 * {@link Expr}s, see {@link HclConfig}.
 */
record Block(List<String> labels, Map<String, Object> attributes, List<Block> blocks) {

  Block {
    labels = List.copyOf(labels);
    attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    blocks = List.copyOf(blocks);
  }

  String type() {
    return labels.get(0);
  }

  /** The value of an attribute that must be present (its value may be the literal null). */
  Object attribute(String name) {
    if (!attributes.containsKey(name)) {
      throw new IllegalArgumentException(labels + " has no attribute " + name + "; it has " + attributes.keySet());
    }
    return attributes.get(name);
  }

  /** The canonical source text of an attribute that must be an expression. */
  String expression(String name) {
    Object value = attribute(name);
    if (!(value instanceof Expr expr)) {
      throw new IllegalArgumentException(labels + "." + name + " is the literal " + value + ", not an expression");
    }
    return expr.text();
  }

  /** Nested blocks of one type, in source order. */
  List<Block> blocks(String type) {
    return blocks.stream().filter(b -> b.type().equals(type)).toList();
  }

  /** The one nested block of a type. */
  Block block(String type) {
    List<Block> found = blocks(type);
    if (found.size() != 1) {
      throw new IllegalArgumentException(labels + " has " + found.size() + " " + type + " blocks, not one");
    }
    return found.get(0);
  }
}
