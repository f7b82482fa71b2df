package dev.coffer.terraform;

import com.bertramlabs.plugins.hcl4j.symbols.HCLArray;
import com.bertramlabs.plugins.hcl4j.symbols.HCLAttribute;
import com.bertramlabs.plugins.hcl4j.symbols.HCLBlock;
import com.bertramlabs.plugins.hcl4j.symbols.HCLValue;
import com.bertramlabs.plugins.hcl4j.symbols.Symbol;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Terraform files of one directory as a tree of {@link Block}s, read with hcl4j's lexer.
 *
 * <p>hcl4j's {@code HCLParser} evaluates every expression eagerly and silently gets many of them wrong
 * (locals are evaluated before variables, {@code "${var.x}"} renders as {@code "Attribute:default"},
 * {@code jsonencode} of an object throws {@code ConcurrentModificationException}), so assertions made
 * through it would check values the parser invented. Its lexer, in contrast, yields the syntax tree as
 * written. Literals become Java values ({@code String}, {@code Boolean}, {@code BigDecimal}, {@code null},
 * {@code List}, {@code Map}); everything else becomes an {@link Expr} kept with its tokens, which tests
 * compare as canonical text or evaluate against explicit bindings with {@link #evaluate}.
 *
 * <p>Immutable after {@link #load}; safe to share between tests.
 */
final class HclConfig {

  private final List<Block> blocks;

  private HclConfig(List<Block> blocks) {
    this.blocks = List.copyOf(blocks);
  }

  /**
   * Reads every {@code *.tf} file directly inside {@code directory} (as Terraform does for a module).
   *
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if a file does not lex as HCL
   */
  static HclConfig load(Path directory) throws IOException {
    List<Path> files;
    try (Stream<Path> listing = Files.list(directory)) {
      files = listing.filter(p -> p.getFileName().toString().endsWith(".tf")).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no .tf files in " + directory);
    }
    List<Block> blocks = new ArrayList<>();
    for (Path file : files) {
      for (Symbol symbol : lex(Files.readString(file, StandardCharsets.UTF_8), file)) {
        if (!(symbol instanceof HCLBlock block)) {
          throw new IllegalArgumentException("unexpected top-level " + symbol + " in " + file);
        }
        blocks.add(toBlock(block));
      }
    }
    return new HclConfig(blocks);
  }

  List<Block> blocks() {
    return blocks;
  }

  /** Top-level blocks of one type ({@code resource}, {@code variable}, ...). */
  List<Block> blocks(String type) {
    return blocks.stream().filter(b -> b.type().equals(type)).toList();
  }

  Block resource(String resourceType, String name) {
    return single("resource", resourceType, name);
  }

  Block data(String dataType, String name) {
    return single("data", dataType, name);
  }

  Block variable(String name) {
    return single("variable", name);
  }

  Block output(String name) {
    return single("output", name);
  }

  Block module(String name) {
    return single("module", name);
  }

  Block provider(String name) {
    return single("provider", name);
  }

  /** The attributes of all {@code locals} blocks, merged (Terraform forbids duplicate names). */
  Map<String, Object> locals() {
    Map<String, Object> locals = new LinkedHashMap<>();
    for (Block block : blocks("locals")) {
      block.attributes().forEach((name, value) -> {
        if (locals.putIfAbsent(name, value) != null) {
          throw new IllegalStateException("local " + name + " defined twice");
        }
      });
    }
    return Collections.unmodifiableMap(locals);
  }

  Object local(String name) {
    Map<String, Object> locals = locals();
    if (!locals.containsKey(name)) {
      throw new IllegalArgumentException("no local " + name + " among " + locals.keySet());
    }
    return locals.get(name);
  }

  /**
   * Evaluates a value as Terraform would for the supported subset: literals, lists and maps of values,
   * references, string templates, {@code ==}/{@code !=} and one level of {@code cond ? a : b}.
   * References are looked up in {@code bindings} first (keys such as {@code "var.prefix"} or
   * {@code "aws_s3_bucket.this.arn"}); an unbound {@code var.x} takes the variable's default and an
   * unbound {@code local.x} is evaluated from the locals. Any other reference or construct throws.
   */
  Object evaluate(Object value, Map<String, ?> bindings) {
    if (value instanceof Expr expr) {
      return expr.evaluate(reference -> resolve(reference, bindings));
    }
    if (value instanceof List<?> list) {
      List<Object> evaluated = new ArrayList<>();
      for (Object element : list) {
        evaluated.add(evaluate(element, bindings));
      }
      return evaluated;
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> evaluated = new LinkedHashMap<>();
      map.forEach((k, v) -> evaluated.put((String) k, evaluate(v, bindings)));
      return evaluated;
    }
    return value;
  }

  private Object resolve(String reference, Map<String, ?> bindings) {
    if (bindings.containsKey(reference)) {
      return bindings.get(reference);
    }
    if (reference.startsWith("var.")) {
      Block variable = variable(reference.substring("var.".length()));
      if (!variable.attributes().containsKey("default")) {
        throw new IllegalArgumentException("variable " + reference + " has no default and no binding");
      }
      return evaluate(variable.attribute("default"), bindings);
    }
    if (reference.startsWith("local.")) {
      return evaluate(local(reference.substring("local.".length())), bindings);
    }
    throw new IllegalArgumentException("no binding for " + reference);
  }

  private Block single(String... labels) {
    List<Block> found = blocks.stream().filter(b -> b.labels().equals(List.of(labels))).toList();
    if (found.size() != 1) {
      throw new IllegalArgumentException(found.size() + " blocks labelled " + List.of(labels));
    }
    return found.get(0);
  }

  // The lexer is package-private in hcl4j 0.9.x; HCLParser itself only reads its public elementStack.
  @SuppressWarnings("unchecked")
  private static List<Symbol> lex(String source, Path file) {
    try {
      Class<?> lexerClass = Class.forName("com.bertramlabs.plugins.hcl4j.HCLLexer");
      Constructor<?> constructor = lexerClass.getDeclaredConstructor(Reader.class);
      constructor.setAccessible(true);
      Object lexer = constructor.newInstance(new StringReader(source));
      Method yylex = lexerClass.getDeclaredMethod("yylex");
      yylex.setAccessible(true);
      yylex.invoke(lexer);
      Field elementStack = lexerClass.getField("elementStack");
      elementStack.setAccessible(true);
      return new ArrayList<>((List<Symbol>) elementStack.get(lexer));
    } catch (InvocationTargetException e) {
      throw new IllegalArgumentException("cannot lex " + file + ": " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("hcl4j's lexer is not where 0.9.x has it", e);
    }
  }

  private static Block toBlock(HCLBlock block) {
    Map<String, Object> attributes = new LinkedHashMap<>();
    List<Block> nested = new ArrayList<>();
    for (Symbol child : children(block)) {
      if (child instanceof HCLBlock childBlock) {
        nested.add(toBlock(childBlock));
      } else if (child instanceof HCLAttribute attribute) {
        attributes.put(attribute.getName(), toValue(children(attribute)));
      } else {
        throw new IllegalArgumentException("unexpected " + child + " in block " + block.blockNames);
      }
    }
    return new Block(List.copyOf(block.blockNames), attributes, nested);
  }

  /** Converts an attribute's or element's tokens: literals to Java values, the rest to an Expr. */
  static Object toValue(List<Symbol> tokens) {
    if (tokens.size() == 1) {
      Symbol only = tokens.get(0);
      if (only instanceof HCLValue value) {
        return literal(value);
      }
      if (only instanceof HCLArray array) {
        List<Object> elements = new ArrayList<>();
        for (Symbol element : children(array)) {
          elements.add(toValue(List.of(element)));
        }
        return Collections.unmodifiableList(elements);
      }
      if (only instanceof HCLBlock object) {
        // An object literal: the lexer reports it as a block of attributes.
        return Collections.unmodifiableMap(toBlock(object).attributes());
      }
    }
    return new Expr(tokens);
  }

  static Object literal(HCLValue value) {
    if (value.type == null || "null".equals(value.type)) {
      return null;
    }
    return switch (value.type) {
      case "string" -> String.valueOf(value.value);
      case "boolean" -> Boolean.valueOf(String.valueOf(value.value));
      case "number" -> new BigDecimal(String.valueOf(value.value));
      default -> throw new IllegalArgumentException("unknown literal type " + value.type);
    };
  }

  static List<Symbol> children(Symbol symbol) {
    return symbol.getChildren() == null ? List.of() : symbol.getChildren();
  }
}
